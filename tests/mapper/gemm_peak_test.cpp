// The two roofline targets, in simulation on the 910B2 config.
#include <gtest/gtest.h>

#include "mapper/search/tiling_search.h"
#include "sim_harness.h"

namespace npusim::test {
namespace {

// A large fp16 GEMM reaches >= 85% of cube peak. With A streamed per block,
// the 80 B/cycle per-core path caps any tiling that fits L0C (128 KiB of
// fp32) at bm*bn/(bm+bn)/102.4 <= 176*176/352/102.4 = 86% before any
// overhead; keeping A resident in L1 lifts the cap when bm x K fits L1,
// which the search finds for K = 2048. What is left is the cube's own
// fill/drain per mmad and the strip refills, which emit_gemm overlaps with
// the first block of each strip.
TEST(GemmPeak, LargeFp16GemmReaches85PercentOfCubePeak) {
  const auto view = run_machine_view(hw_910b2());
  const auto p = gemm(4096, 2048, 8192);
  const auto choice = mapper::choose_gemm_tiling(p, view);
  const double seconds = simulate_gemm(p, choice.tiling);
  const double flops = 2.0 * p.m * p.k * p.n;
  const double fraction = flops / seconds / view.peak_flops(DType::fp16);
  std::printf("GEMM %llux%llux%llu fp16, %s: %.1f us, %.1f%% of cube peak (model %.1f us)\n",
              static_cast<unsigned long long>(p.m), static_cast<unsigned long long>(p.k),
              static_cast<unsigned long long>(p.n), choice.tiling.describe().c_str(), seconds * 1e6, 100 * fraction,
              choice.cost.seconds * 1e6);
  EXPECT_GE(fraction, 0.85) << choice.tiling.describe();
}

// A memory-bound decode GEMV (one token through a 4096 x 11008 projection)
// reaches >= 85% of HBM peak.
TEST(GemmPeak, DecodeGemvReaches85PercentOfHbmPeak) {
  const auto view = run_machine_view(hw_910b2());
  const auto p = gemm(1, 4096, 11008 * 4);
  const auto choice = mapper::choose_gemm_tiling(p, view);
  const double seconds = simulate_gemm(p, choice.tiling);
  const double bytes = 2.0 * (p.k * p.n + p.m * p.k + p.m * p.n);
  const double fraction = bytes / seconds / view.hbm_Bps;
  std::printf("GEMV 1x%llux%llu fp16, %s: %.1f us, %.1f%% of HBM peak %.0f GB/s (model %.1f us)\n",
              static_cast<unsigned long long>(p.k), static_cast<unsigned long long>(p.n),
              choice.tiling.describe().c_str(), seconds * 1e6, 100 * fraction, view.hbm_Bps / 1e9,
              choice.cost.seconds * 1e6);
  EXPECT_GE(fraction, 0.85) << choice.tiling.describe();
}

}  // namespace
}  // namespace npusim::test
