// Split-K: a GEMM with fewer output blocks than the cores can balance (wave
// quantization) cuts K into parts dealt to different cores, which add their
// partial sums into the output atomically after a zeroing job.
#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>

#include "arch/machine.h"
#include "mapper/gemm/gemm.h"
#include "mapper/kernel_mapper.h"
#include "mapper/gemm/gemm_cost.h"
#include "mapper/search/gemm_mapspace.h"
#include "mapper/search/tiling_search.h"
#include "sim_harness.h"

namespace npusim::test {
namespace {

struct CubeCounters {
  double written = 0, atomic = 0, macs = 0;
};

CubeCounters cube_counters() {
  CubeCounters c;
  const auto& hw = hw_910b2();
  const std::size_t per_group = hw.machine.core.cores_per_group();
  for (std::size_t g = 0; g < hw.machine.core.cube_cores; ++g) {
    const auto& s = machine_910b2().cores()[g * per_group]->counters();
    c.written += static_cast<double>(s.gm_bytes_written->value);
    c.atomic += static_cast<double>(s.gm_atomic_bytes->value);
    c.macs += static_cast<double>(s.macs.at(DType::fp16)->value);
  }
  return c;
}

// A search that may split K into up to 4 parts (split_k_max; off by default).
mapper::GemmChoice choose_with_split(const mapper::GemmProblem& p, const mapper::MachineView& view) {
  mapper::SearchOptions o;
  o.split_k_max = 4;
  return mapper::search_gemm_tiling(p, view, o);
}

// The cost model's best tiling among those with the given number of parts.
mapper::GemmTiling best_with_parts(const mapper::GemmProblem& p, const mapper::MachineView& view, std::uint32_t parts) {
  const mapper::GemmMapspace space(p, view, 4);
  mapper::GemmTiling best;
  mapper::GemmCost best_cost;
  best_cost.seconds = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < space.size(); ++i) {
    const mapper::GemmTiling t = space.at(i);
    if (t.split_k != parts || mapper::gemm_tiling_error(p, t, view)) continue;
    const mapper::GemmCost c = mapper::estimate_gemm(p, t, view);
    if (mapper::ranks_before(c, best_cost)) {
      best = t;
      best_cost = c;
    }
  }
  return best;
}

// M = 256, N = 4096: 128x256 blocks make 32 over 24 cores, two waves with
// the second a third full. The search splits K; simulated, the split tiling
// beats the best unsplit one, its cube does the same MACs (M K N), and its
// cube cores write the output once per part in the output precision
// (S x M x N x 2 B of fp16), every byte of it an atomic add.
TEST(SplitK, FewBlockGemmSplitsKRunsFasterAndWritesEachPartOnce) {
  const auto view = run_machine_view(hw_910b2());
  const mapper::GemmProblem p = gemm(256, 4096, 4096);
  const mapper::GemmChoice choice = choose_with_split(p, view);
  ASSERT_GT(choice.tiling.split_k, 1u) << choice.tiling.describe();
  const mapper::GemmTiling unsplit = best_with_parts(p, view, 1);

  const double unsplit_seconds = simulate_gemm(p, unsplit);
  const CubeCounters before = cube_counters();
  const double split_seconds = simulate_gemm(p, choice.tiling);
  const CubeCounters after = cube_counters();
  std::printf("unsplit %s: %.2f us; split %s: %.2f us (cube bound %.2f us)\n", unsplit.describe().c_str(),
              unsplit_seconds * 1e6, choice.tiling.describe().c_str(), split_seconds * 1e6,
              2.0 * 256 * 4096 * 4096 / view.peak_flops(DType::fp16) * 1e6);
  EXPECT_LT(split_seconds, unsplit_seconds);

  const double output_bytes = 256.0 * 4096 * 2;
  EXPECT_DOUBLE_EQ(after.written - before.written, choice.tiling.split_k * output_bytes);
  EXPECT_DOUBLE_EQ(after.atomic - before.atomic, choice.tiling.split_k * output_bytes);
  EXPECT_DOUBLE_EQ(after.macs - before.macs, 256.0 * 4096 * 4096);
}

// The tiling cache is keyed by everything that decides a tiling's validity:
// a ReLU epilogue of the same shape must not reuse a split tiling.
TEST(SplitK, AReluGemmOfTheSameShapeDoesNotReuseASplitTilingFromTheCache) {
  const auto view = run_machine_view(hw_910b2());
  mapper::SearchOptions o;
  o.split_k_max = 4;
  mapper::GemmTilingCache cache(o);
  const mapper::GemmProblem plain = gemm(256, 4096, 4096);
  mapper::GemmProblem relu = plain;
  relu.relu = true;
  ASSERT_GT(cache.choose(plain, view).tiling.split_k, 1u);
  const mapper::GemmChoice& with_relu = cache.choose(relu, view);
  EXPECT_EQ(with_relu.tiling.split_k, 1u) << with_relu.tiling.describe();
  EXPECT_FALSE(mapper::gemm_tiling_error(relu, with_relu.tiling, view));
}

// With blocks far more than cores, in whole waves (3072 x 1024 x 4096:
// 128x256 blocks make 384 = 16 waves of 24) and an A strip that fits L1
// unsplit, splitting K buys neither balance nor residency and costs the
// partial-sum traffic and the zeroing: the search keeps K whole. (At
// 4096 x 4096 x 4096 it does split, for residency not balance: a part's
// bm x K/4 strip of A fits L1 where the whole K does not; simulated 438 us
// split-k=4 a-resident vs 504 us for the best unsplit tiling.)
TEST(SplitK, LargeGemmInWholeWavesKeepsKWhole) {
  const auto view = run_machine_view(hw_910b2());
  const mapper::GemmProblem p = gemm(3072, 1024, 4096);
  const mapper::GemmChoice choice = choose_with_split(p, view);
  if (std::getenv("SPLITK_PROBE")) {
    const mapper::GemmTiling split = best_with_parts(p, view, 2);
    std::printf("chosen %s: %.2f us (model %.2f); best split-2 %s: %.2f us (model %.2f)\n",
                choice.tiling.describe().c_str(), simulate_gemm(p, choice.tiling) * 1e6, choice.cost.seconds * 1e6,
                split.describe().c_str(), simulate_gemm(p, split) * 1e6, mapper::estimate_gemm(p, split, view).seconds * 1e6);
  }
  EXPECT_EQ(choice.tiling.split_k, 1u) << choice.tiling.describe();
}

// A part must have K panels; a resident strip holds one part's panels.
TEST(SplitK, TilingErrorsAndFootprint) {
  const auto view = run_machine_view(hw_910b2());
  const mapper::GemmProblem p = gemm(256, 1024, 4096);
  mapper::GemmTiling t{128, 128, 256, 64};
  t.split_k = 5;  // 4 panels of 256
  ASSERT_TRUE(mapper::gemm_tiling_error(p, t, view));
  EXPECT_NE(mapper::gemm_tiling_error(p, t, view)->find("without K panels"), std::string::npos);
  t.split_k = 2;
  t.a_resident = true;
  EXPECT_FALSE(mapper::gemm_tiling_error(p, t, view));
  // 128 rows x 2 panels of 256 of fp16 A, two 256 x 128 fp16 B panels.
  EXPECT_EQ(mapper::gemm_footprint(p, t).l1, 128u * 512 * 2 + 2u * 256 * 128 * 2);
  t.split_k = 3;  // parts of 2, 2 and 0 panels
  EXPECT_TRUE(mapper::gemm_tiling_error(p, t, view));

  // Parts add partial sums: a bias or FixPipe's ReLU needs the whole sum.
  t.split_k = 2;
  mapper::GemmProblem biased = p;
  biased.bias_dtype = DType::fp16;
  ASSERT_TRUE(mapper::gemm_tiling_error(biased, t, view));
  EXPECT_NE(mapper::gemm_tiling_error(biased, t, view)->find("bias once per part"), std::string::npos);
  mapper::GemmProblem relu = p;
  relu.relu = true;
  ASSERT_TRUE(mapper::gemm_tiling_error(relu, t, view));
  EXPECT_NE(mapper::gemm_tiling_error(relu, t, view)->find("ReLU"), std::string::npos);
  t.split_k = 1;
  EXPECT_FALSE(mapper::gemm_tiling_error(relu, t, view));
}

}  // namespace
}  // namespace npusim::test
