// The cost model's top choice against the simulated best of a candidate set
// (the model's top 4 and 2 seeded random fitting tilings) on 20+ GEMM
// shapes. Each test is one process with one machine; the shapes are split in
// two so each stays near 30 s.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "mapper/search/tiling_search.h"
#include "sim_harness.h"

namespace npusim::test {
namespace {

struct Shape {
  std::uint64_t batch, m, k, n;
};

// Worst ratio of (simulated time of the model's choice) / (best simulated).
double check(const std::vector<Shape>& shapes, int* within) {
  const auto view = run_machine_view(hw_910b2());
  double worst = 1.0;
  for (const auto& s : shapes) {
    const auto p = gemm(s.m, s.k, s.n, s.batch);
    std::vector<mapper::GemmTiling> candidates;
    mapper::SearchOptions o;
    o.confirm_top = 4;
    // Record the model's top 4 by "confirming" them with a recorder.
    const auto top = mapper::search_gemm_tiling(p, view, o, [&](const mapper::GemmProblem&, const mapper::GemmTiling& t) {
      candidates.push_back(t);
      return static_cast<double>(candidates.size());  // keeps the model's first
    });
    mapper::SearchOptions r;
    r.algorithm = "random";
    r.seed = s.m * 31 + s.n;
    for (int i = 0; i < 2; ++i) {
      r.budget = 1;
      r.seed += 1;
      candidates.push_back(mapper::search_gemm_tiling(p, view, r).tiling);
    }
    std::vector<double> sim;
    for (const auto& t : candidates) sim.push_back(simulate_gemm(p, t));
    const double best = *std::min_element(sim.begin(), sim.end());
    const double ratio = sim.front() / best;
    worst = std::max(worst, ratio);
    if (ratio <= 1.10) ++*within;
    std::printf("%3llux%5llux%5llux%5llu  model pick %-32s %8.2f us  best %8.2f us  ratio %.3f  (model %.2f us)\n",
                static_cast<unsigned long long>(s.batch), static_cast<unsigned long long>(s.m),
                static_cast<unsigned long long>(s.k), static_cast<unsigned long long>(s.n),
                top.tiling.describe().c_str(), sim.front() * 1e6, best * 1e6, ratio, top.cost.seconds * 1e6);
  }
  return worst;
}

TEST(CostModel, TopChoiceWithin10PercentOfSimulatedBestShapesA) {
  int within = 0;
  const std::vector<Shape> shapes = {
      {1, 512, 1024, 1024}, {1, 1024, 1024, 1024}, {1, 256, 4096, 4096}, {1, 2048, 1024, 2048},
      {1, 128, 4096, 11008}, {1, 1, 4096, 4096},   {1, 4, 4096, 11008},  {1, 16, 11008, 4096},
      {1, 512, 512, 4096},  {1, 768, 2048, 768},  {1, 64, 2048, 2048},  {1, 1024, 256, 1024},
  };
  const double worst = check(shapes, &within);
  std::printf("within 10%%: %d of %zu, worst ratio %.3f\n", within, shapes.size(), worst);
  EXPECT_EQ(within, static_cast<int>(shapes.size()));
}

TEST(CostModel, TopChoiceWithin10PercentOfSimulatedBestShapesB) {
  int within = 0;
  const std::vector<Shape> shapes = {
      {32, 128, 128, 128},  {32, 1, 128, 2048},  {8, 4, 128, 2048},   {32, 128, 2048, 128},
      {1, 2048, 4096, 512}, {1, 96, 1024, 3072}, {1, 300, 1000, 700}, {1, 1, 11008, 4096},
      {4, 256, 512, 512},   {1, 1536, 1536, 1536},
  };
  const double worst = check(shapes, &within);
  std::printf("within 10%%: %d of %zu, worst ratio %.3f\n", within, shapes.size(), worst);
  EXPECT_EQ(within, static_cast<int>(shapes.size()));
}

}  // namespace
}  // namespace npusim::test
