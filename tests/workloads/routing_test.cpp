// MoE routing: synthetic routers, traces, conservation.
#include <algorithm>
#include <numeric>
#include <string>

#include <gtest/gtest.h>

#include "common/error.h"
#include "support/test_paths.h"
#include "workloads/routing.h"
#include "workloads/workload.h"

namespace npusim::workloads {
namespace {

MoeConfig moe(std::uint64_t experts, std::uint64_t top_k, std::uint64_t groups = 1) {
  MoeConfig m;
  m.num_experts = experts;
  m.top_k = top_k;
  m.num_groups = groups;
  m.expert_intermediate_size = 8;
  return m;
}

std::uint64_t sum(const std::vector<std::uint64_t>& v) { return std::accumulate(v.begin(), v.end(), 0ull); }

TEST(Routing, EveryRouterConservesTokensTimesTopK) {
  for (const std::string& name : RouterRegistry::instance().names()) {
    RouterParams p;
    p.name = name;
    p.zipf_s = 1.2;
    p.hot_fraction = 0.25;
    p.hot_share = 0.9;
    const auto router = make_router(p);
    for (const MoeConfig& m : {moe(8, 2), moe(64, 6), moe(60, 4), moe(64, 8, 8)}) {
      for (std::uint64_t tokens : {1ull, 3ull, 17ull, 4096ull}) {
        for (std::uint64_t layer = 0; layer < 3; ++layer) {
          const auto counts = router->route(layer, 0, tokens, m);
          EXPECT_EQ(sum(counts), tokens * m.top_k) << name;
          EXPECT_NO_THROW(check_conservation(counts, tokens, m, name));  // per group, capped at tokens
        }
      }
    }
  }
}

TEST(Routing, UniformIsEvenWithinOne) {
  const auto router = make_router(RouterParams{});
  const auto counts = router->route(0, 0, 10, moe(8, 2));
  EXPECT_EQ(*std::max_element(counts.begin(), counts.end()) - *std::min_element(counts.begin(), counts.end()), 1u);
}

TEST(Routing, SkewedRoutersAreSkewedAndCapped) {
  RouterParams zipf;
  zipf.name = "zipf";
  zipf.zipf_s = 2.0;
  const auto z = make_router(zipf)->route(0, 0, 1000, moe(8, 2));
  EXPECT_EQ(*std::max_element(z.begin(), z.end()), 1000u);  // the top expert sees every token, no more
  RouterParams hot;
  hot.name = "hot";
  hot.hot_fraction = 0.25;
  hot.hot_share = 0.75;
  auto h = make_router(hot)->route(0, 0, 1000, moe(8, 2));
  std::sort(h.rbegin(), h.rend());
  EXPECT_EQ(h[0] + h[1], 1500u);  // 2 hot experts carry 75% of 2000 routed tokens
  EXPECT_EQ(h[2], 500u / 6 + 1);
}

TEST(Routing, DeterministicAndSeeded) {
  RouterParams p;
  p.name = "zipf";
  p.seed = 7;
  const auto a = make_router(p)->route(3, 2, 100, moe(16, 4));
  const auto b = make_router(p)->route(3, 2, 100, moe(16, 4));
  EXPECT_EQ(a, b);
  p.seed = 8;
  EXPECT_NE(make_router(p)->route(3, 2, 100, moe(16, 4)), a);
  EXPECT_NE(make_router(RouterParams{"zipf", 7})->route(4, 2, 100, moe(16, 4)), a);  // hot experts move by layer
}

TEST(Routing, UnknownRouterNameIsInputError) {
  RouterParams p;
  p.name = "random";
  EXPECT_THROW(make_router(p), InputError);
}

TEST(Routing, TraceDecidesExpertMatmulM) {
  const ModelConfig m = load_model_file(test::source_path("tests/data/models/tiny-moe.yaml"));
  WorkloadParams p;
  p.phase = Phase::decode;
  p.batch = 4;
  p.seq = 10;
  p.steps = 2;
  p.routing_trace = test::source_path("tests/data/routing/mixtral-2layer.json");
  const Workload w = build_workload(m, p);
  const Graph& g1 = w.graphs[1];
  EXPECT_EQ(g1.op(*g1.find_op("layers.1.mlp.experts.4.up_proj")).matmul->m, 2u);
  EXPECT_EQ(g1.op(*g1.find_op("layers.1.mlp.experts.2.up_proj")).matmul->m, 0u);
  const Op& idle = g1.op(*g1.find_op("layers.1.mlp.experts.2.down_proj"));
  EXPECT_EQ(idle.bytes_read.total(), 0u);  // an idle expert moves nothing
  EXPECT_EQ(idle.flops, 0u);
  EXPECT_EQ(w.graphs[0].op(*w.graphs[0].find_op("layers.0.mlp.experts.0.gate_proj")).matmul->m, 4u);
}

std::string trace_error(const std::string& file, std::uint64_t batch, std::uint64_t steps) {
  const ModelConfig m = load_model_file(test::source_path("tests/data/models/tiny-moe.yaml"));
  WorkloadParams p;
  p.phase = Phase::decode;
  p.batch = batch;
  p.seq = 10;
  p.steps = steps;
  p.routing_trace = test::source_path("tests/data/routing/" + file);
  try {
    build_workload(m, p);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << file << " was accepted";
  return "";
}

TEST(Routing, TraceErrorsNameFileAndField) {
  std::string msg = trace_error("bad-sum.json", 4, 1);
  EXPECT_NE(msg.find("bad-sum.json: layers[0].steps[0]: expected counts summing to tokens x top_k = 4 x 2 = 8, got 9"),
            std::string::npos)
      << msg;
  msg = trace_error("bad-value.json", 4, 1);
  EXPECT_NE(msg.find("bad-value.json: layers[0].steps[0][3]: expected a non-negative integer, got -1"),
            std::string::npos)
      << msg;
  msg = trace_error("bad-syntax.json", 4, 1);
  EXPECT_NE(msg.find("bad-syntax.json: JSON syntax error"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 4"), std::string::npos) << msg;
  msg = trace_error("mixtral-2layer.json", 4, 3);  // the trace has 2 steps
  EXPECT_NE(msg.find("mixtral-2layer.json: layers[0].steps: expected 3 steps"), std::string::npos) << msg;
  msg = trace_error("mixtral-2layer.json", 5, 2);  // counts are for 4 tokens
  EXPECT_NE(msg.find("mixtral-2layer.json: layers[0].steps[0]: expected counts summing to"), std::string::npos)
      << msg;
}

TEST(Routing, GroupedConservationIsPerGroup) {
  const MoeConfig m = moe(8, 2, 2);
  // Sums to tokens x top_k overall but puts both picks in group 0.
  EXPECT_THROW(check_conservation({2, 2, 2, 2, 0, 0, 0, 0}, 4, m, "x"), InputError);
  EXPECT_NO_THROW(check_conservation({1, 1, 1, 1, 1, 1, 1, 1}, 4, m, "x"));
  EXPECT_THROW(check_conservation({5, 0, 0, 3, 4, 0, 0, 4}, 4, m, "x"), InputError);  // 5 > 4 tokens
}

}  // namespace
}  // namespace npusim::workloads
