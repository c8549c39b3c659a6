// Timing probes of a running core: a double-buffered GEMM overlaps its
// stages, so an iteration costs the slowest stage, not the sum.
#include <gtest/gtest.h>

#include <algorithm>

#include "arch/core/cube_timing.h"
#include "arch/core/transfer_timing.h"
#include "tests/arch/core_harness.h"
#include "tests/arch/core_test_support.h"

namespace npusim::arch {
namespace {

using namespace test;

struct StageTicks {
  Tick load, mte1, cube, fixpipe, issue;
};

// Stage times of one iteration of double_buffered_gemm, from the config and
// the memory parameters (memory idle at each request).
StageTicks stage_ticks(const CoreConfig& c, const GemmTile& t, const FixedRateMemory& mem) {
  auto gm = [&](Bytes bytes, double Bpc) {
    return std::max(c.clock.to_ticks(double(transfer_cycles(bytes, Bpc))), mem.idle_delay(bytes));
  };
  StageTicks s;
  s.load = gm(t.a_bytes(), c.paths.mte2_gm_Bpc) + gm(t.b_bytes(), c.paths.mte2_gm_Bpc);
  s.mte1 = c.clock.to_ticks(double(transfer_cycles(t.a_bytes(), c.paths.l1_to_l0a_Bpc) +
                                   transfer_cycles(t.b_bytes(), c.paths.l1_to_l0b_Bpc)));
  s.cube = c.clock.to_ticks(double(cube_cycles(c, t.m, t.k, t.n, t.dtype, CubeSparsity::dense)));
  s.fixpipe = gm(t.c_bytes_fp16(), c.paths.fixpipe_out_Bpc);
  s.issue = c.clock.to_ticks(double(c.scalar_issue_cycles));
  return s;
}

void expect_overlapped(const std::string& core_yaml) {
  const CoreConfig config = config_from_yaml(core_yaml);
  CoreGroupHarness h(config);
  const GemmTile tile;  // 128 x 128 x 128 fp16
  const int iterations = 64;
  h.aic().load(double_buffered_gemm(tile, iterations, 0));
  sc_core::sc_start();
  ASSERT_TRUE(h.aic().finished()) << h.aic().blocked_report();

  const StageTicks s = stage_ticks(config, tile, h.memory);
  const Tick slowest = std::max({s.load, s.mte1, s.cube});
  // Fill (one pass through every stage), then the slowest stage per further
  // iteration, then the write-back.
  const double closed_form = double(s.issue + s.load + s.mte1 + s.cube + (iterations - 1) * slowest + s.fixpipe);
  const double serial = double(iterations) * double(s.load + s.mte1 + s.cube);
  const double measured = double(h.aic().job_finish_tick() - h.aic().job_start_tick());
  EXPECT_NEAR(measured, closed_form, 0.02 * closed_form);
  EXPECT_LT(measured, 0.8 * serial);

  // Each pipe was busy for exactly its own work.
  EXPECT_EQ(h.aic().pipe_busy_cycles(Pipe::cube),
            iterations * cube_cycles(config, tile.m, tile.k, tile.n, tile.dtype, CubeSparsity::dense));
  const StatGroup& st = h.aic().stats();
  EXPECT_EQ(st.value("macs_fp16"), std::uint64_t(iterations) * tile.m * tile.k * tile.n);
  EXPECT_EQ(st.value("gm_bytes_read"), iterations * (tile.a_bytes() + tile.b_bytes()));
  EXPECT_EQ(st.value("gm_bytes_written"), tile.c_bytes_fp16());
  EXPECT_EQ(st.value("l1_to_l0_bytes"), iterations * (tile.a_bytes() + tile.b_bytes()));
  std::uint64_t on_cube = 0;  // mmads and the flags whose cube side is the cube pipe
  for (const Instruction& in : double_buffered_gemm(tile, iterations, 0).instructions) {
    on_cube += in.op == Opcode::mmad || (in.op == Opcode::set_flag && in.flag_src == Pipe::cube) ||
               (in.op == Opcode::wait_flag && in.flag_dst == Pipe::cube);
  }
  EXPECT_EQ(st.value("instructions_cube"), on_cube);
  EXPECT_EQ(h.memory.bytes_read(), iterations * (tile.a_bytes() + tile.b_bytes()));

  // A handful of kernel activations per instruction, far fewer than cycles.
  const double per_instruction = double(st.value("process_activations")) / double(h.aic().program_size());
  EXPECT_LT(per_instruction, 1.5);
}

TEST(CorePipeline, DoubleBufferedGemmLoadBoundCostsMaxNotSum) {
  expect_overlapped("{paths: {mte2_gm_Bpc: 64}}");
}

TEST(CorePipeline, DoubleBufferedGemmComputeBoundCostsMaxNotSum) {
  expect_overlapped("{paths: {mte2_gm_Bpc: 256}}");
}

TEST(CorePipeline, SerialChainWithoutDoubleBufferingCostsTheSum) {
  // The same work with one buffer: every stage waits for the previous one.
  const CoreConfig config = config_from_yaml("{}");
  CoreGroupHarness h(config);
  const GemmTile tile;
  CoreProgram p;
  auto& in = p.instructions;
  const int iterations = 8;
  for (int i = 0; i < iterations; ++i) {
    if (i > 0) in.push_back(wait_flag(Pipe::cube, Pipe::mte2, 0));
    in.push_back(gm_load(0, tile.a_bytes(), Buffer::l1, 0));
    in.push_back(gm_load(0, tile.b_bytes(), Buffer::l1, static_cast<std::uint32_t>(tile.a_bytes())));
    in.push_back(set_flag(Pipe::mte2, Pipe::mte1, 0));
    in.push_back(wait_flag(Pipe::mte2, Pipe::mte1, 0));
    in.push_back(l1_to_l0(tile.a_bytes(), 0, Buffer::l0a, 0));
    in.push_back(l1_to_l0(tile.b_bytes(), static_cast<std::uint32_t>(tile.a_bytes()), Buffer::l0b, 0));
    in.push_back(set_flag(Pipe::mte1, Pipe::cube, 0));
    in.push_back(wait_flag(Pipe::mte1, Pipe::cube, 0));
    in.push_back(mmad(tile.m, tile.k, tile.n, tile.dtype, i > 0));
    in.push_back(set_flag(Pipe::cube, Pipe::mte2, 0));
  }
  in.push_back(wait_flag(Pipe::cube, Pipe::mte2, 0));
  h.aic().load(p);
  sc_core::sc_start();
  ASSERT_TRUE(h.aic().finished()) << h.aic().blocked_report();
  const StageTicks s = stage_ticks(config, tile, h.memory);
  const double closed_form = double(s.issue + iterations * (s.load + s.mte1 + s.cube));
  const double measured = double(h.aic().job_finish_tick() - h.aic().job_start_tick());
  EXPECT_NEAR(measured, closed_form, 0.005 * closed_form);
}

TEST(CorePipeline, JobsRunOneAfterAnotherInOneElaboration) {
  const CoreConfig config = config_from_yaml("{}");
  CoreGroupHarness h(config);
  const GemmTile tile;
  const CoreProgram prog = double_buffered_gemm(tile, 16, 0);
  h.aic().load(prog);
  sc_core::sc_start();
  ASSERT_TRUE(h.aic().finished());
  const Tick first = h.aic().job_finish_tick() - h.aic().job_start_tick();
  const std::uint64_t macs_after_first = h.aic().stats().value("macs_fp16");

  h.aic().load(prog);
  EXPECT_FALSE(h.aic().finished());
  sc_core::sc_start();
  ASSERT_TRUE(h.aic().finished()) << h.aic().blocked_report();
  const Tick second = h.aic().job_finish_tick() - h.aic().job_start_tick();
  EXPECT_GT(h.aic().job_start_tick(), 0u);
  EXPECT_EQ(second, first);  // same program, idle memory: same time
  EXPECT_EQ(h.aic().stats().value("macs_fp16"), 2 * macs_after_first);
}

TEST(CorePipeline, BarrierDrainsEveryPipeBeforeIssueContinues) {
  const CoreConfig config = config_from_yaml("{}");
  CoreGroupHarness h(config);
  CoreProgram p;
  p.instructions.push_back(mmad(128, 128, 256, DType::fp16, false));  // fits L0A/L0B/L0C exactly
  Instruction barrier;
  barrier.op = Opcode::barrier;
  p.instructions.push_back(barrier);
  p.instructions.push_back(gm_load(0, 4096, Buffer::l1, 0));
  h.aic().load(p);
  sc_core::sc_start();
  ASSERT_TRUE(h.aic().finished()) << h.aic().blocked_report();
  const Tick cube = config.clock.to_ticks(double(cube_cycles(config, 128, 128, 256, DType::fp16, CubeSparsity::dense)));
  const Tick issue = config.clock.to_ticks(double(config.scalar_issue_cycles));
  // The load starts only after the mmad finished and the scalar issued it.
  EXPECT_GE(h.aic().pipe_finish_tick(Pipe::mte2), h.aic().pipe_finish_tick(Pipe::cube) + issue);
  EXPECT_EQ(h.aic().pipe_finish_tick(Pipe::cube) - h.aic().job_start_tick(), issue + cube);
}

}  // namespace
}  // namespace npusim::arch
