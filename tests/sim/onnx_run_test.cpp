// `npusim run` on traced graphs, end to end: the tiny models' prefill and
// decode exports (tests/data/onnx/traced) simulate at a --dtype the cube
// has, with cube FLOPs equal to closed forms of the models' dimensions, and
// every misuse of the ONNX flags exits 2 with a message naming the flag.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_paths.h"

namespace npusim::test {
namespace {

// scripts/models/tiny_llama.py / tiny_moe.py and tests/data/onnx/README.md.
constexpr std::uint64_t kLayers = 2, kHidden = 64, kHeads = 4, kKvHeads = 2, kHeadDim = 16;
constexpr std::uint64_t kIntermediate = 128, kVocab = 256;
constexpr std::uint64_t kTopK = 2, kExpertIntermediate = 64, kExperts = 4;
constexpr std::uint64_t kBatch = 2, kSeq = 8, kCtx = 32;

std::string traced(const std::string& model, const std::string& file) {
  return source_path("tests/data/onnx/traced/" + model + "/" + file);
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

// Cube FLOPs of one pass of `tokens` tokens per sequence that attend over
// `keys` keys each (the causal prefill mask is applied to full scores, as
// the exported graph computes them).
std::uint64_t attention_and_projection_flops(std::uint64_t tokens, std::uint64_t keys) {
  const std::uint64_t rows = kBatch * tokens;
  const std::uint64_t projections = kHidden * (2 * kHeads * kHeadDim + 2 * kKvHeads * kHeadDim);
  const std::uint64_t attention = 2 /*QK^T, PV*/ * kBatch * kHeads * tokens * keys * kHeadDim;
  return kLayers * 2 * (rows * projections + attention) + 2 * rows * kHidden * kVocab;
}

std::uint64_t llama_flops(std::uint64_t tokens, std::uint64_t keys) {
  const std::uint64_t mlp = 3 * kHidden * kIntermediate;
  return attention_and_projection_flops(tokens, keys) + kLayers * 2 * kBatch * tokens * mlp;
}

// With routing, the experts of a layer see tokens x top_k rows in all,
// however the router spread them; the router itself sees every token.
std::uint64_t moe_flops(std::uint64_t tokens, std::uint64_t keys) {
  const std::uint64_t rows = kBatch * tokens;
  const std::uint64_t per_layer = 2 * rows * kHidden * kExperts + 2 * rows * kTopK * 3 * kHidden * kExpertIntermediate;
  return attention_and_projection_flops(tokens, keys) + kLayers * per_layer;
}

class OnnxRun : public testing::Test {
 protected:
  static std::string run_base(const std::string& model, const std::string& file, const std::string& phase) {
    return npusim_binary() + " run --quiet --hw " + source_path("configs/hw/ascend-910b2.yaml") + " --model " +
           traced(model, file) + " --phase " + phase;
  }

  // Runs and returns the summary JSON.
  static nlohmann::json run(const std::string& command) {
    const std::string json = scratch_dir() + "/run.json";
    const auto r = run_command(command + " --json " + json);
    EXPECT_EQ(r.exit_code, 0) << command << "\n" << r.err;
    if (r.exit_code != 0) return nlohmann::json::object();
    return read_json(json);
  }

  static nlohmann::json graph_summary(const std::string& args) {
    const std::string json = scratch_dir() + "/graph.json";
    const auto r = run_command(npusim_binary() + " graph " + args + " --json " + json);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    if (r.exit_code != 0) return nlohmann::json::object();
    return read_json(json);
  }
};

TEST_F(OnnxRun, TinyLlamaPrefillAndDecodeMatchClosedForms) {
  const auto prefill = run(run_base("tiny-llama", "model.onnx", "prefill") + " --dtype fp16");
  EXPECT_EQ(prefill.value("flops", 0.0), static_cast<double>(llama_flops(kSeq, kSeq)));
  EXPECT_EQ(prefill.value("tokens", 0.0), static_cast<double>(kBatch * kSeq));
  EXPECT_GT(prefill.value("seconds", 0.0), 0.0);

  const auto decode = run(run_base("tiny-llama", "decode.onnx", "decode") + " --dtype fp16");
  EXPECT_EQ(decode.value("flops", 0.0), static_cast<double>(llama_flops(1, kCtx + 1)));
  EXPECT_EQ(decode.value("phase", std::string()), "decode");
  EXPECT_EQ(decode.value("seq", 0), static_cast<int>(kCtx)) << "seq reports the cached context";
  EXPECT_EQ(decode.value("tokens", 0.0), static_cast<double>(kBatch));
  // The step reads every weight but the embedding table (it gathers rows)
  // and the whole cache from HBM at least once.
  const auto meta = read_json(traced("tiny-llama", "meta.json"));
  const double fp16 = 2;
  const double kv_bytes = 2.0 * kLayers * kBatch * kKvHeads * kHeadDim * kCtx * fp16;
  const double weights = (meta["parameters"].get<double>() - kVocab * kHidden) * fp16;
  EXPECT_GE(decode["bytes"]["hbm"]["read"].get<double>(), weights + kv_bytes);
}

TEST_F(OnnxRun, TinyMoePrefillAndDecodeWithRoutingMatchClosedForms) {
  const auto prefill = run(run_base("tiny-moe", "model.onnx", "prefill") + " --routing " +
                           traced("tiny-moe", "routing.json") + " --dtype bf16");
  EXPECT_EQ(prefill.value("flops", 0.0), static_cast<double>(moe_flops(kSeq, kSeq)));
  const auto decode = run(run_base("tiny-moe", "decode.onnx", "decode") + " --routing " +
                          traced("tiny-moe", "decode-routing.json") + " --dtype fp16");
  EXPECT_EQ(decode.value("flops", 0.0), static_cast<double>(moe_flops(1, kCtx + 1)));
}

TEST_F(OnnxRun, DecodeGraphKvBytesAreTheCacheOfEveryLayer) {
  for (const auto& [dtype, bytes] : {std::pair<std::string, std::uint64_t>{"fp16", 2}, {"int8", 1}, {"fp32", 4}}) {
    const auto s = graph_summary("--model " + traced("tiny-llama", "decode.onnx") + " --phase decode --dtype " + dtype);
    EXPECT_EQ(s["bytes_by_role"]["read"]["kv_cache"].get<std::uint64_t>(),
              2 * kLayers * kBatch * kKvHeads * kHeadDim * kCtx * bytes)
        << dtype;
    EXPECT_EQ(s["bytes_by_role"]["written"]["kv_cache"].get<std::uint64_t>(),
              2 * kLayers * kBatch * kKvHeads * kHeadDim * 1 * bytes)
        << dtype << ": one new token per sequence";
    EXPECT_EQ(s["context"]["context"].get<std::uint64_t>(), kCtx);
  }
}

// A compression plan's kv_cache section reaches the traced cache: int8 with
// one fp16 scale per token and head (configs/compression/kv-int8.yaml) is
// 8 + 16 / head_dim bits per cached element.
TEST_F(OnnxRun, KvCompressionPlanAppliesToTheTracedCache) {
  const auto s = run(run_base("tiny-llama", "decode.onnx", "decode") + " --dtype fp16 --compression " +
                     source_path("configs/compression/kv-int8.yaml"));
  const double elements = 2.0 * kLayers * kBatch * kKvHeads * kHeadDim * kCtx;
  EXPECT_EQ(s["counters"]["compression.kv_bytes.hbm"]["value"].get<double>(),
            elements * (8.0 + 16.0 / kHeadDim) / 8.0);
}

TEST_F(OnnxRun, DtypeScalesGeneratedModelsToo) {
  const std::string model = "--model " + source_path("configs/models/llama-2-7b.yaml") + " --phase decode --seq 64";
  const auto fp16 = graph_summary(model + " --dtype fp16");
  const auto int8 = graph_summary(model + " --dtype int8");
  EXPECT_EQ(fp16["bytes_by_role"]["read"]["weight"].get<std::uint64_t>(),
            2 * int8["bytes_by_role"]["read"]["weight"].get<std::uint64_t>());
  EXPECT_EQ(fp16["bytes_by_role"]["read"]["kv_cache"].get<std::uint64_t>(),
            2 * int8["bytes_by_role"]["read"]["kv_cache"].get<std::uint64_t>());
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST_F(OnnxRun, Fp32WithoutDtypeFailsAndSuggestsTheFlag) {
  const auto r = run_command(run_base("tiny-llama", "model.onnx", "prefill"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "computes in fp32, and the cube has no fp32 mode");
  EXPECT_CONTAINS(r.err, "pass --dtype");
}

TEST_F(OnnxRun, BadDtypeIsBadInputNamingTheFlag) {
  const auto r = run_command(run_base("tiny-llama", "model.onnx", "prefill") + " --dtype fp64");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "--dtype");
  EXPECT_CONTAINS(r.err, "fp64");
  const auto graph = run_command(npusim_binary() + " graph --model " + traced("tiny-llama", "model.onnx") +
                                 " --phase prefill --dtype mxfp4");
  EXPECT_EQ(graph.exit_code, 2);
  EXPECT_CONTAINS(graph.err, "--dtype");
}

TEST_F(OnnxRun, PhaseMustMatchTheExport) {
  auto r = run_command(run_base("tiny-llama", "model.onnx", "decode") + " --dtype fp16");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "--phase decode: this export is a prefill graph");
  r = run_command(run_base("tiny-llama", "decode.onnx", "prefill") + " --dtype fp16");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "--phase prefill: this export is one decode step over a KV cache of 32 tokens");
  r = run_command(run_base("tiny-llama", "decode.onnx", "decode") + " --dtype fp16 --steps 4");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "--steps 4: a traced graph is one decode step at its exported shapes");
}

}  // namespace
}  // namespace npusim::test
