// End to end: scripts/trace_model.py exports the shipped tiny models, and the
// importer reproduces PyTorch's parameter count and the recorded routing.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "support/test_paths.h"
#include "workloads/onnx/onnx_import.h"
#include "workloads/summary.h"

namespace npusim::workloads {
namespace {

// Debian's interpreter: the one with torch and onnx installed.
constexpr const char* kPython = "/usr/bin/python3";
constexpr std::uint64_t kBatch = 2;
constexpr std::uint64_t kSeq = 8;

class OnnxTrace : public testing::Test {
 protected:
  void SetUp() override {
    const auto probe = test::run_command(std::string(kPython) + " -c 'import torch, onnx'");
    if (probe.exit_code != 0) {
      GTEST_SKIP() << kPython << " cannot import torch and onnx, so the tracer cannot run: " << probe.err;
    }
  }

  // Runs the tracer into a scratch dir; returns the dir.
  std::string trace(const std::string& model) {
    const std::string dir = test::scratch_dir();
    const auto result = test::run_command(std::string(kPython) + " " + test::source_path("scripts/trace_model.py") +
                                          " --model " + model + " --out " + dir + " --batch " +
                                          std::to_string(kBatch) + " --seq " + std::to_string(kSeq));
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return dir;
  }

  static nlohmann::json meta(const std::string& dir) {
    std::ifstream in(dir + "/meta.json");
    return nlohmann::json::parse(in);
  }

  static std::uint64_t weight_elements(const Graph& g) {
    std::uint64_t n = 0;
    for (const auto& t : g.tensors()) {
      if (t.role == TensorRole::weight) n += t.elements();
    }
    return n;
  }

  static const Op& op_named(const Graph& g, const std::string& name) {
    auto id = g.find_op(name);
    if (!id) throw std::runtime_error("no op named " + name);
    return g.op(*id);
  }
};

TEST_F(OnnxTrace, TinyLlamaParametersAndShapesMatchPyTorch) {
  const std::string dir = trace("tiny-llama");
  const Graph g = import_onnx(dir + "/model.onnx");
  EXPECT_EQ(weight_elements(g), meta(dir)["parameters"].get<std::uint64_t>());
  EXPECT_TRUE(g.moe_layers.empty());
  EXPECT_EQ(g.context.batch, kBatch);
  EXPECT_EQ(g.context.new_tokens, kSeq);

  const std::uint64_t tokens = kBatch * kSeq;
  for (int layer = 0; layer < 2; ++layer) {
    const std::string p = "layers." + std::to_string(layer) + ".";
    const Op& down = op_named(g, p + "mlp.down_proj");
    EXPECT_EQ(down.kind, OpKind::MatMul);
    EXPECT_EQ(down.layer, layer);
    EXPECT_EQ(down.matmul->m, tokens);
    EXPECT_EQ(down.matmul->k, 128u);
    EXPECT_EQ(down.matmul->n, 64u);
    EXPECT_EQ(down.flops, 2 * tokens * 128 * 64);
    const Op& k_proj = op_named(g, p + "self_attn.k_proj");
    EXPECT_EQ(k_proj.matmul->n, 2u * 16);  // GQA: 2 KV heads of 16
  }
  // Scores: one [seq, head_dim] x [head_dim, seq] per sequence and query head.
  std::uint64_t attention_flops = 0;
  for (const auto id : g.topological_order()) {
    const Op& op = g.op(id);
    if (op.kind != OpKind::BatchMatMul) continue;
    EXPECT_EQ(op.matmul->batch, kBatch * 4);
    attention_flops += op.flops;
  }
  EXPECT_EQ(attention_flops, 2u /*layers*/ * 2 /*QK^T, PV*/ * 2 * kBatch * 4 * kSeq * kSeq * 16);
  EXPECT_EQ(op_named(g, "lm_head").matmul->n, 256u);
  EXPECT_EQ(op_named(g, "embed_tokens/Gather").kind, OpKind::Embedding);
}

TEST_F(OnnxTrace, TinyMoeRoutingConservesTokensTimesTopK) {
  const std::string dir = trace("tiny-moe");
  const auto info = meta(dir);
  OnnxImportOptions options;
  options.routing = std::make_shared<RoutingTrace>(RoutingTrace::load_file(dir + "/routing.json"));
  const Graph g = import_onnx(dir + "/model.onnx", options);
  EXPECT_EQ(weight_elements(g), info["parameters"].get<std::uint64_t>());

  ASSERT_EQ(g.moe_layers.size(), 2u);
  for (const auto& layer : g.moe_layers) {
    EXPECT_EQ(layer.experts, 4u);
    EXPECT_EQ(layer.top_k, 2u);
    const std::string p = "layers." + std::to_string(layer.layer) + ".mlp.";
    EXPECT_EQ(op_named(g, p + "gate").kind, OpKind::Router);
    std::uint64_t routed = 0;
    for (int e = 0; e < 4; ++e) {
      const std::string expert = p + "experts." + std::to_string(e) + ".";
      const std::uint64_t m = op_named(g, expert + "gate_proj").matmul->m;
      EXPECT_EQ(op_named(g, expert + "up_proj").matmul->m, m);
      EXPECT_EQ(op_named(g, expert + "down_proj").matmul->m, m);
      routed += m;
    }
    EXPECT_EQ(routed, kBatch * kSeq * 2);
  }
}

// tests/data/onnx/traced holds these models traced by the command in its
// README; a fresh trace must import to the same graphs, so the checked-in
// files cannot drift from the tracer and the tiny models.
TEST_F(OnnxTrace, CheckedInTracesMatchAFreshTrace) {
  for (const std::string model : {"tiny-llama", "tiny-moe"}) {
    const std::string dir = test::scratch_dir();
    const auto result = test::run_command(std::string(kPython) + " " + test::source_path("scripts/trace_model.py") +
                                          " --model " + model + " --out " + dir + " --batch 2 --seq 8 --ctx 32");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const std::string checked_in = test::source_path("tests/data/onnx/traced/" + model);
    for (const std::string file : {"model.onnx", "decode.onnx"}) {
      auto fresh = summary_json(import_onnx(dir + "/" + file));
      auto kept = summary_json(import_onnx(checked_in + "/" + file));
      fresh.erase("name");
      kept.erase("name");
      EXPECT_EQ(fresh, kept) << model << "/" << file << " differs from a fresh trace; re-run the command in "
                             << "tests/data/onnx/README.md";
    }
    auto fresh_meta = meta(dir);
    auto kept_meta = meta(checked_in);
    fresh_meta.erase("model");
    kept_meta.erase("model");
    EXPECT_EQ(fresh_meta, kept_meta) << model;
    if (model == "tiny-moe") {
      for (const std::string file : {"routing.json", "decode-routing.json"}) {
        std::ifstream a(dir + "/" + file), b(checked_in + "/" + file);
        EXPECT_EQ(nlohmann::json::parse(a), nlohmann::json::parse(b)) << file;
      }
    }
  }
}

TEST_F(OnnxTrace, DecodeExportHasOneNewTokenOverTheRequestedContext) {
  const std::string dir = test::scratch_dir();
  const auto result = test::run_command(std::string(kPython) + " " + test::source_path("scripts/trace_model.py") +
                                        " --model tiny-llama --out " + dir + " --batch 3 --seq 4 --ctx 20");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(meta(dir)["decode"], "decode.onnx");
  EXPECT_EQ(meta(dir)["kv_shape"], nlohmann::json({3, 2, 20, 16}));
  const Graph g = import_onnx(dir + "/decode.onnx");
  EXPECT_EQ(g.context.phase, Phase::decode);
  EXPECT_EQ(g.context.batch, 3u);
  EXPECT_EQ(g.context.new_tokens, 1u);
  EXPECT_EQ(g.context.context, 20u);
  // Prefill is unchanged by the decode export: a prompt of --seq tokens.
  const Graph prefill = import_onnx(dir + "/model.onnx");
  EXPECT_EQ(prefill.context.phase, Phase::prefill);
  EXPECT_EQ(prefill.context.new_tokens, 4u);
}

TEST_F(OnnxTrace, BadArgumentsExitWithAMessage) {
  const std::string script = std::string(kPython) + " " + test::source_path("scripts/trace_model.py");
  const std::string dir = test::scratch_dir();
  auto unknown = test::run_command(script + " --model no-such-model --out " + dir);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("--model: expected tiny-llama, tiny-moe or package.module:callable"), std::string::npos)
      << unknown.err;
  auto missing = test::run_command(script + " --model no_such_pkg.mod:build --out " + dir);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot import module 'no_such_pkg.mod'"), std::string::npos) << missing.err;
  auto batch = test::run_command(script + " --model tiny-llama --batch 0 --out " + dir);
  EXPECT_EQ(batch.exit_code, 2);
  EXPECT_NE(batch.err.find("--batch: expected a positive integer, got 0"), std::string::npos) << batch.err;
  auto ctx = test::run_command(script + " --model tiny-llama --ctx 0 --out " + dir);
  EXPECT_EQ(ctx.exit_code, 2);
  EXPECT_NE(ctx.err.find("--ctx: expected a positive integer, got 0"), std::string::npos) << ctx.err;
}

}  // namespace
}  // namespace npusim::workloads
