// Mapspace, searches and the tiling cache: plain C++, no simulation.
#include <gtest/gtest.h>

#include "common/error.h"
#include "mapper/gemm/gemm_cost.h"
#include "mapper/kernel_mapper.h"
#include "mapper/search/gemm_mapspace.h"
#include "mapper/search/search.h"
#include "mapper/search/tiling_search.h"
#include "sim/config/hw_config.h"
#include "sim/run/mapper_setup.h"
#include "support/test_paths.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

mapper::MachineView view_910b2() { return run_machine_view(load_hw_config(source_path("configs/hw/ascend-910b2.yaml"))); }

mapper::GemmProblem problem(std::uint64_t m, std::uint64_t k, std::uint64_t n) {
  mapper::GemmProblem p;
  p.m = m;
  p.k = k;
  p.n = n;
  return p;
}

TEST(Search, EveryRegisteredSearchRunsAndFindsAFittingTiling) {
  const auto view = view_910b2();
  const auto p = problem(1024, 4096, 4096);
  const auto names = mapper::SearchRegistry::instance().names();
  ASSERT_GE(names.size(), 2u);
  for (const auto& name : names) {
    mapper::SearchOptions o;
    o.algorithm = name;
    o.budget = 300;
    const auto choice = mapper::search_gemm_tiling(p, view, o);
    EXPECT_FALSE(mapper::gemm_tiling_error(p, choice.tiling, view)) << name;
    EXPECT_LE(choice.candidates_evaluated, o.budget) << name;
    EXPECT_GT(choice.candidates_evaluated, 0u) << name;
  }
}

TEST(Search, ExhaustivePrunesWithoutLosingTheBest) {
  const auto view = view_910b2();
  const auto p = problem(2048, 4096, 4096);
  const mapper::GemmMapspace space(p, view);
  double best = 1e30;
  for (std::size_t i = 0; i < space.size(); ++i) {
    const auto t = space.at(i);
    if (!mapper::gemm_tiling_error(p, t, view)) best = std::min(best, mapper::estimate_gemm(p, t, view).seconds);
  }
  mapper::SearchOptions o;
  o.budget = space.size();
  const auto choice = mapper::search_gemm_tiling(p, view, o);
  EXPECT_DOUBLE_EQ(choice.cost.seconds, best);
  EXPECT_GT(choice.candidates_pruned, 0u);
}

TEST(Search, RandomIsSeededAndBudgeted) {
  const auto view = view_910b2();
  const auto p = problem(512, 4096, 11008);
  mapper::SearchOptions o;
  o.algorithm = "random";
  o.budget = 25;
  o.seed = 7;
  const auto a = mapper::search_gemm_tiling(p, view, o);
  const auto b = mapper::search_gemm_tiling(p, view, o);
  EXPECT_EQ(a.tiling.describe(), b.tiling.describe());
  EXPECT_EQ(a.candidates_evaluated, 25u);
  o.budget = 0;
  EXPECT_THROW(mapper::search_gemm_tiling(p, view, o), InputError);
  o.algorithm = "annealing";
  o.budget = 5;
  EXPECT_THROW(mapper::search_gemm_tiling(p, view, o), InputError);
}

TEST(Search, ConfirmationPicksTheFastestSimulatedOfTheTopFew) {
  const auto view = view_910b2();
  const auto p = problem(1024, 1024, 1024);
  mapper::SearchOptions o;
  o.confirm_top = 4;
  int calls = 0;
  // A stand-in simulator that prefers the last candidate it is shown.
  const auto choice = mapper::search_gemm_tiling(p, view, o, [&](const mapper::GemmProblem&, const mapper::GemmTiling&) {
    return 10.0 - ++calls;
  });
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(choice.confirmed, 4);
  EXPECT_DOUBLE_EQ(choice.confirmed_seconds, 6.0);
}

TEST(Search, SkinnyGemvGetsBalancedBlocksOverEveryCore) {
  const auto view = view_910b2();
  const auto p = problem(1, 4096, 11008);
  const auto choice = mapper::choose_gemm_tiling(p, view);
  const std::uint64_t blocks = ceil_div(p.n, choice.tiling.bn);
  EXPECT_GE(blocks, static_cast<std::uint64_t>(view.cube_cores)) << choice.tiling.describe();
  EXPECT_STREQ(choice.cost.bound, "hbm");
}

TEST(Search, IdenticalLayersAreMappedOnce) {
  const auto view = view_910b2();
  workloads::WorkloadParams params;
  params.phase = workloads::Phase::decode;
  params.seq = 128;
  const auto w = workloads::build_workload_from_file(source_path("configs/models/llama-2-7b.yaml"), params);
  mapper::GemmTilingCache cache;
  const auto mapping = mapper::map_kernel_by_kernel(w.graphs.front(), view, cache);
  std::size_t gemms = 0;
  for (const auto& job : mapping.jobs) gemms += job.tiling.empty() ? 0 : 1;
  // 32 layers x (q, k, v, o, gate, up, down, score, context) + lm_head; one
  // search per distinct shape.
  EXPECT_EQ(gemms, 32u * 9u + 1u);
  EXPECT_EQ(cache.searches() + cache.hits(), gemms);
  EXPECT_LE(cache.searches(), 7u);
}

}  // namespace
}  // namespace npusim::test
