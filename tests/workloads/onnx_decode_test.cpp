// Decode-step exports: scripts/trace_model.py's decode.onnx of the tiny
// models (checked in under tests/data/onnx/traced) imports as one decode
// step whose past_key_values inputs are the KV cache, with attention and
// cache traffic equal to closed forms of the tiny models' dimensions.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "support/test_paths.h"
#include "workloads/onnx/onnx_import.h"

namespace npusim::workloads {
namespace {

// scripts/models/tiny_llama.py's Dims and the trace command of
// tests/data/onnx/README.md.
constexpr std::uint64_t kLayers = 2, kHeads = 4, kKvHeads = 2, kHeadDim = 16;
constexpr std::uint64_t kBatch = 2, kCtx = 32;

std::string traced(const std::string& model, const std::string& file) {
  return test::source_path("tests/data/onnx/traced/" + model + "/" + file);
}

std::uint64_t parameters(const std::string& model) {
  std::ifstream in(traced(model, "meta.json"));
  return nlohmann::json::parse(in)["parameters"].get<std::uint64_t>();
}

std::uint64_t weight_elements(const Graph& g) {
  std::uint64_t n = 0;
  for (const auto& t : g.tensors()) {
    if (t.role == TensorRole::weight) n += t.elements();
  }
  return n;
}

TEST(OnnxDecode, PastKeyValuesAreTheKvCacheOfADecodeStep) {
  OnnxImportOptions options;
  options.activation_dtype = DType::fp16;
  const Graph g = import_onnx(traced("tiny-llama", "decode.onnx"), options);
  EXPECT_EQ(g.context.phase, Phase::decode);
  EXPECT_EQ(g.context.batch, kBatch);
  EXPECT_EQ(g.context.new_tokens, 1u);
  EXPECT_EQ(g.context.context, kCtx);
  // The same weights as the prefill export: a decode step adds no parameters.
  EXPECT_EQ(weight_elements(g), parameters("tiny-llama"));

  for (std::uint64_t layer = 0; layer < kLayers; ++layer) {
    for (const char* half : {"key", "value"}) {
      const auto id = g.find_tensor("past_key_values." + std::to_string(layer) + "." + half);
      ASSERT_TRUE(id) << layer << half;
      const Tensor& t = g.tensor(*id);
      EXPECT_EQ(t.role, TensorRole::kv_cache);
      EXPECT_EQ(t.layer, static_cast<int>(layer));
      EXPECT_EQ(t.dtype, DType::fp16) << "the cache follows the activation precision";
      EXPECT_EQ(t.kv_format.precision, DType::fp16);
      EXPECT_EQ(t.shape, (std::vector<std::uint64_t>{kBatch, kKvHeads, kCtx, kHeadDim}));
    }
  }
}

TEST(OnnxDecode, CacheTrafficIsTheCacheOnceAndTheAppendOnce) {
  OnnxImportOptions options;
  options.activation_dtype = DType::fp16;
  const Graph g = import_onnx(traced("tiny-llama", "decode.onnx"), options);
  const std::uint64_t fp16 = 2;
  RoleBytes read, written;
  std::size_t appends = 0;
  for (const auto id : g.topological_order()) {
    const Op& op = g.op(id);
    read += op.bytes_read;
    written += op.bytes_written;
    if (op.kind != OpKind::KvCacheWrite) continue;
    ++appends;
    // One new token per sequence and KV head: read as an activation, written as cache.
    EXPECT_EQ(op.bytes_read.activation, kBatch * kKvHeads * kHeadDim * fp16) << op.name;
    EXPECT_EQ(op.bytes_written.kv_cache, kBatch * kKvHeads * kHeadDim * fp16) << op.name;
    EXPECT_EQ(op.bytes_written.activation, 0u) << op.name;
  }
  EXPECT_EQ(appends, 2 * kLayers);
  // K and V of every layer, read once each by the score and context matmuls.
  EXPECT_EQ(read.kv_cache, 2 * kLayers * kBatch * kKvHeads * kHeadDim * kCtx * fp16);
  EXPECT_EQ(written.kv_cache, 2 * kLayers * kBatch * kKvHeads * kHeadDim * fp16);
  EXPECT_TRUE(g.find_op("layers.0.self_attn/key_cache_write"));
  EXPECT_TRUE(g.find_op("layers.1.self_attn/value_cache_write"));
}

TEST(OnnxDecode, AttentionReadsTheCachePerKvHeadWithGroupedQueries) {
  const Graph g = import_onnx(traced("tiny-llama", "decode.onnx"));
  const std::uint64_t groups = kHeads / kKvHeads, keys = kCtx + 1;
  std::size_t scores = 0, contexts = 0;
  std::uint64_t attention_flops = 0;
  for (const auto id : g.topological_order()) {
    const Op& op = g.op(id);
    if (op.kind != OpKind::AttentionScore && op.kind != OpKind::AttentionContext) continue;
    ASSERT_TRUE(op.matmul);
    const MatmulShape& mm = *op.matmul;
    EXPECT_EQ(mm.batch, kBatch * kKvHeads) << op.name;
    EXPECT_EQ(mm.m, groups) << op.name << ": the query heads of a group are rows";
    if (op.kind == OpKind::AttentionScore) {
      ++scores;
      EXPECT_EQ(mm.k, kHeadDim) << op.name;
      EXPECT_EQ(mm.n, keys) << op.name;
    } else {
      ++contexts;
      EXPECT_EQ(mm.k, keys) << op.name;
      EXPECT_EQ(mm.n, kHeadDim) << op.name;
    }
    attention_flops += op.flops;
  }
  EXPECT_EQ(scores, kLayers);
  EXPECT_EQ(contexts, kLayers);
  EXPECT_EQ(attention_flops, kLayers * 2 /*QK^T, PV*/ * 2 * kBatch * kHeads * keys * kHeadDim);
  EXPECT_EQ(g.op(*g.find_op("lm_head")).matmul->m, kBatch);
}

TEST(OnnxDecode, MoeDecodeStepRoutesOneTokenPerSequence) {
  OnnxImportOptions options;
  options.routing =
      std::make_shared<RoutingTrace>(RoutingTrace::load_file(traced("tiny-moe", "decode-routing.json")));
  const Graph g = import_onnx(traced("tiny-moe", "decode.onnx"), options);
  EXPECT_EQ(g.context.phase, Phase::decode);
  EXPECT_EQ(weight_elements(g), parameters("tiny-moe"));
  ASSERT_EQ(g.moe_layers.size(), kLayers);
  for (const auto& layer : g.moe_layers) {
    std::uint64_t routed = 0;
    for (int e = 0; e < 4; ++e) {
      routed += g.op(*g.find_op("layers." + std::to_string(layer.layer) + ".mlp.experts." + std::to_string(e) +
                                ".down_proj"))
                    .matmul->m;
    }
    EXPECT_EQ(routed, kBatch * layer.top_k);
  }
}

TEST(OnnxDecode, PrefillExportHasNoCache) {
  const Graph g = import_onnx(traced("tiny-llama", "model.onnx"));
  EXPECT_EQ(g.context.phase, Phase::prefill);
  EXPECT_EQ(g.context.context, 0u);
  for (const auto& t : g.tensors()) EXPECT_NE(t.role, TensorRole::kv_cache) << t.name;
}

}  // namespace
}  // namespace npusim::workloads
