// A single matmul through the whole path: mapper tiles -> SystemC cores ->
// L2 -> HBM. Its cycles are pinned to closed forms of the configured cube
// and buffers.
#include <gtest/gtest.h>

#include "arch/core/cube_timing.h"
#include "arch/machine.h"
#include "mapper/gemm/gemm.h"
#include "mapper/gemm/gemm_cost.h"
#include "mapper/search/tiling_search.h"
#include "sim/config/hw_config.h"
#include "support/test_paths.h"

namespace npusim::test {
namespace {

using mapper::GemmProblem;
using mapper::GemmTiling;

struct GemmRun {
  arch::JobTiming timing;
  double cube_busy_max = 0;      // busiest core's cube pipe, cycles
  double expected_cube_max = 0;  // closed form for that core
};

// Closed form of one core's cube work: every mmad costs its fractal steps
// plus the fill/drain latency.
double closed_form_cube_cycles(const GemmProblem& p, const GemmTiling& t, const arch::CoreConfig& core,
                               std::uint64_t core_index) {
  const auto& s = core.cube_shapes.at(p.a_dtype);
  const std::uint64_t m_blocks = ceil_div(p.m, t.bm), n_blocks = ceil_div(p.n, t.bn);
  const std::uint64_t blocks = p.batch * m_blocks * n_blocks;
  double cycles = 0;
  for (std::uint64_t b = core_index; b < blocks; b += core.cube_cores) {
    const std::uint64_t mi = (b / n_blocks) % m_blocks, ni = b % n_blocks;
    const std::uint64_t bm = std::min<std::uint64_t>(t.bm, p.m - mi * t.bm);
    const std::uint64_t bn = std::min<std::uint64_t>(t.bn, p.n - ni * t.bn);
    for (std::uint64_t k = 0; k < p.k; k += t.bk0) {
      const std::uint64_t bk = std::min<std::uint64_t>(t.bk0, p.k - k);
      cycles += static_cast<double>(ceil_div(bm, s.m0) * ceil_div(bk, s.k0) * ceil_div(bn, s.n0)) +
                static_cast<double>(core.cube_fill_drain_cycles);
    }
  }
  return cycles;
}

GemmRun run_gemm(const HwConfig& hw, const GemmProblem& p, const GemmTiling& t) {
  const auto view = machine_view(hw);
  arch::Program program;
  program.cube_cores.resize(view.cube_cores);
  program.vector_cores.resize(view.vector_cores);
  mapper::emit_gemm(p, t, view, 0, program);
  static arch::Machine* machine = nullptr;  // one elaboration per process
  if (!machine) machine = new arch::Machine("npu", hw.machine);
  GemmRun run;
  run.timing = machine->run(program);
  const int per_group = static_cast<int>(hw.machine.core.cores_per_group());
  for (std::uint32_t g = 0; g < hw.machine.core.cube_cores; ++g) {
    const auto& core = *machine->cores()[g * per_group];
    run.cube_busy_max = std::max(run.cube_busy_max, static_cast<double>(core.pipe_busy_cycles(arch::Pipe::cube)));
    run.expected_cube_max = std::max(run.expected_cube_max, closed_form_cube_cycles(p, t, hw.machine.core, g));
  }
  return run;
}

GemmProblem square(std::uint64_t m, std::uint64_t k, std::uint64_t n) {
  GemmProblem p;
  p.m = m;
  p.k = k;
  p.n = n;
  p.a_address = 0;
  p.b_address = 1ULL << 30;
  p.c_address = 2ULL << 30;
  return p;
}

TEST(GemmSim, CubeCyclesMatchClosedFormAndTotalIsBetweenBounds) {
  const HwConfig hw = load_hw_config(source_path("configs/hw/ascend-910b2.yaml"));
  const GemmProblem p = square(1024, 4096, 4096);
  const GemmTiling t{128, 256, 256, 64, false};
  ASSERT_FALSE(mapper::gemm_tiling_error(p, t, machine_view(hw)).has_value());
  const GemmRun run = run_gemm(hw, p, t);

  // The cube pipe does exactly the closed-form work, no more, no less.
  EXPECT_DOUBLE_EQ(run.cube_busy_max, run.expected_cube_max);
  // The job cannot be shorter than its busiest cube, nor than every byte a
  // core loads at its path rate...
  const auto& core = hw.machine.core;
  const std::uint64_t blocks_per_core = ceil_div(ceil_div(p.m, t.bm) * ceil_div(p.n, t.bn), core.cube_cores);
  const double load_bytes = static_cast<double>(blocks_per_core) * p.k * (t.bm + t.bn) * 2.0;
  const double load_bound = load_bytes / core.paths.mte2_gm_Bpc;
  EXPECT_GE(static_cast<double>(run.timing.cycles), run.expected_cube_max);
  EXPECT_GE(static_cast<double>(run.timing.cycles), load_bound);
  // ...and double buffering overlaps them: well under their sum, within 25%
  // of the larger (the slack is the first panel, the last store and DRAM
  // row misses on a cold L2).
  const double larger = std::max(run.expected_cube_max, load_bound);
  EXPECT_LT(static_cast<double>(run.timing.cycles), 0.8 * (run.expected_cube_max + load_bound));
  EXPECT_LT(static_cast<double>(run.timing.cycles), 1.25 * larger);
}

TEST(GemmSim, ATileThatCannotFitIsRefusedWithTheBufferNamed) {
  const HwConfig hw = load_hw_config(source_path("configs/hw/ascend-910b2.yaml"));
  const GemmProblem p = square(1024, 4096, 4096);
  const auto error = mapper::gemm_tiling_error(p, GemmTiling{256, 256, 1024, 128, true}, machine_view(hw));
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("L1 needs"), std::string::npos) << *error;
}

TEST(GemmSim, ChosenTilingFitsAndTheCostModelTracksSimulation) {
  const HwConfig hw = load_hw_config(source_path("configs/hw/ascend-910b2.yaml"));
  const auto view = machine_view(hw);
  const GemmProblem p = square(2048, 4096, 4096);
  const auto choice = mapper::choose_gemm_tiling(p, view);
  EXPECT_FALSE(mapper::gemm_tiling_error(p, choice.tiling, view).has_value());
  EXPECT_GT(choice.candidates_evaluated, 10u);
  const GemmRun run = run_gemm(hw, p, choice.tiling);
  const double simulated = ticks_to_seconds(run.timing.end - run.timing.start);
  // The estimate ranks tilings; it must be in the right neighbourhood.
  EXPECT_GT(simulated, 0.5 * choice.cost.seconds);
  EXPECT_LT(simulated, 2.0 * choice.cost.seconds);
}

}  // namespace
}  // namespace npusim::test
