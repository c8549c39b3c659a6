// A chunk of a prefill (build_prefill_chunk_graph): the model's graph for
// some new tokens after part of the prompt is cached, as the chunked layer
// pipeline builds it.
#include <string>

#include <gtest/gtest.h>

#include "common/error.h"
#include "support/test_paths.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

// Chunk 2 of 4 of a 512-token prompt: 128 new tokens after 256 cached.
// Its attention is causal over 256 + 128 keys (the score GEMM's N, the
// context GEMM's K) for 128 query rows per head group, it reads a cache of
// 256 entries and appends 128.
TEST(PrefillChunk, AttendsCausallyOverTheCachedAndNewKeys) {
  const auto model = workloads::load_model_file(source_path("tests/data/models/tiny-llama-4l.yaml"));
  workloads::WorkloadParams params;
  params.seq = 512;
  const auto routing = workloads::make_routing(model, params);
  const auto g = workloads::build_prefill_chunk_graph(model, params, 256, 128, *routing);
  EXPECT_EQ(g.context.phase, workloads::Phase::prefill);
  EXPECT_EQ(g.context.context, 256u);
  EXPECT_EQ(g.context.new_tokens, 128u);
  const std::uint64_t group = model.num_heads / model.num_kv_heads;

  const auto score = g.find_op("layers.0.self_attn.qk_matmul");
  ASSERT_TRUE(score);
  EXPECT_TRUE(g.op(*score).causal);
  EXPECT_EQ(g.op(*score).matmul->n, 256u + 128u);
  EXPECT_EQ(g.op(*score).matmul->m, group * 128u);
  const auto context = g.find_op("layers.0.self_attn.pv_matmul");
  ASSERT_TRUE(context);
  EXPECT_TRUE(g.op(*context).causal);
  EXPECT_EQ(g.op(*context).matmul->k, 256u + 128u);

  const auto cache = g.find_tensor("layers.0.self_attn.k_cache");
  const auto append = g.find_tensor("layers.0.self_attn.k_cache.append");
  ASSERT_TRUE(cache && append);
  EXPECT_EQ(g.tensor(*cache).shape.at(2), 256u);
  EXPECT_EQ(g.tensor(*append).shape.at(2), 128u);
}

// A chunk that does not lie inside the prompt is refused.
TEST(PrefillChunk, AChunkPastThePromptIsRefused) {
  const auto model = workloads::load_model_file(source_path("tests/data/models/tiny-llama-4l.yaml"));
  workloads::WorkloadParams params;
  params.seq = 512;
  const auto routing = workloads::make_routing(model, params);
  EXPECT_THROW(workloads::build_prefill_chunk_graph(model, params, 448, 128, *routing), InputError);
}

}  // namespace
}  // namespace npusim::test
