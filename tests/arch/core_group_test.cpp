// Core groups: AIC -> AIV hand-off through GM with cross-core flags (split
// A2 style), vector timing in a running AIV, and a coupled core that takes
// the cube result to the vector unit through L0C -> UB.
#include <gtest/gtest.h>

#include <algorithm>

#include "arch/core/cube_timing.h"
#include "arch/core/transfer_timing.h"
#include "arch/core/vector_timing.h"
#include "tests/arch/core_harness.h"
#include "tests/arch/core_test_support.h"

namespace npusim::arch {
namespace {

using namespace test;

Tick gm_ticks(const CoreConfig& c, const FixedRateMemory& mem, Bytes bytes, double Bpc) {
  return std::max(c.clock.to_ticks(double(transfer_cycles(bytes, Bpc))), mem.idle_delay(bytes));
}

// AIC: one tile through the cube, written to GM by FixPipe, then a
// cross-core flag to each AIV. AIV: wait, load the tile, exp, store.
CoreProgram producer_aic(const GemmTile& t, std::uint64_t out_address, int aivs) {
  CoreProgram p;
  auto& in = p.instructions;
  in.push_back(gm_load(0, t.a_bytes(), Buffer::l1, 0));
  in.push_back(gm_load(0, t.b_bytes(), Buffer::l1, static_cast<std::uint32_t>(t.a_bytes())));
  in.push_back(set_flag(Pipe::mte2, Pipe::mte1, 0));
  in.push_back(wait_flag(Pipe::mte2, Pipe::mte1, 0));
  in.push_back(l1_to_l0(t.a_bytes(), 0, Buffer::l0a, 0));
  in.push_back(l1_to_l0(t.b_bytes(), static_cast<std::uint32_t>(t.a_bytes()), Buffer::l0b, 0));
  in.push_back(set_flag(Pipe::mte1, Pipe::cube, 0));
  in.push_back(wait_flag(Pipe::mte1, Pipe::cube, 0));
  in.push_back(mmad(t.m, t.k, t.n, t.dtype, false));
  in.push_back(set_flag(Pipe::cube, Pipe::fixpipe, 0));
  in.push_back(wait_flag(Pipe::cube, Pipe::fixpipe, 0));
  in.push_back(fixpipe_to_gm(out_address, t.c_bytes_fp16(), DType::fp16));
  // On the fixpipe pipe, so the flag goes out when the write has landed.
  for (int v = 1; v <= aivs; ++v) in.push_back(cross(Opcode::cross_set, Pipe::fixpipe, v, 1));
  return p;
}

CoreProgram consumer_aiv(std::uint64_t address, Bytes bytes) {
  CoreProgram p;
  auto& in = p.instructions;
  in.push_back(cross(Opcode::cross_wait, Pipe::mte2, 0, 1));
  in.push_back(gm_load(address, bytes, Buffer::ub, 0));
  in.push_back(set_flag(Pipe::mte2, Pipe::vector, 0));
  in.push_back(wait_flag(Pipe::mte2, Pipe::vector, 0));
  in.push_back(vector_op(VectorOpKind::exp, bytes / 2, DType::fp16, 0, static_cast<std::uint32_t>(bytes)));
  in.push_back(set_flag(Pipe::vector, Pipe::mte3, 0));
  in.push_back(wait_flag(Pipe::vector, Pipe::mte3, 0));
  in.push_back(store(address, bytes, static_cast<std::uint32_t>(bytes)));
  return p;
}

TEST(CoreGroup, AivWorkStartsOnlyAfterTheAicCrossCoreFlag) {
  const CoreConfig config = config_from_yaml("{}");
  CoreGroupHarness h(config);
  const GemmTile tile;
  const std::uint64_t out = 1 << 20;
  h.aic().load(producer_aic(tile, out, 2));
  // Each AIV takes half of the output tile.
  const Bytes half = tile.c_bytes_fp16() / 2;
  h.aiv(0).load(consumer_aiv(out, half));
  h.aiv(1).load(consumer_aiv(out + half, half));
  sc_core::sc_start();
  throw_if_unfinished(h.all());

  const Tick handoff = h.aic().pipe_finish_tick(Pipe::fixpipe);
  const Tick vector = config.clock.to_ticks(double(vector_cycles(config.vector, VectorOpKind::exp, half / 2, DType::fp16)));
  for (int v = 0; v < 2; ++v) {
    AiCore& aiv = h.aiv(v);
    // Loads are ordered after the hand-off; the two AIVs share the memory,
    // so each load takes at least its own idle time.
    EXPECT_GE(aiv.pipe_finish_tick(Pipe::mte2), handoff + gm_ticks(config, h.memory, half, config.paths.mte2_gm_Bpc));
    EXPECT_EQ(aiv.pipe_finish_tick(Pipe::vector), aiv.pipe_finish_tick(Pipe::mte2) + vector);
    EXPECT_EQ(aiv.pipe_finish_tick(Pipe::mte3),
              aiv.pipe_finish_tick(Pipe::vector) + gm_ticks(config, h.memory, half, config.paths.mte3_Bpc));
    EXPECT_EQ(aiv.stats().value("vector_element_ops"), half / 2);
  }
  EXPECT_EQ(h.aic().stats().value("gm_bytes_written"), tile.c_bytes_fp16());
  EXPECT_EQ(h.aiv(0).stats().value("cross_flag_waits"), 1u);
}

TEST(CoreGroup, AicWaitsForBothAivsBeforeReusingTheirResult) {
  const CoreConfig config = config_from_yaml("{}");
  CoreGroupHarness h(config);
  // AIVs produce (dequantize a weight slice, store), the AIC consumes.
  for (int v = 0; v < 2; ++v) {
    CoreProgram p;
    auto& in = p.instructions;
    in.push_back(gm_load(0, 16 * KiB, Buffer::ub, 0));
    in.push_back(set_flag(Pipe::mte2, Pipe::vector, 0));
    in.push_back(wait_flag(Pipe::mte2, Pipe::vector, 0));
    Instruction deq = vector_op(VectorOpKind::dequantize, 16 * KiB, DType::int8, 0, 16 * KiB);
    deq.out_dtype = DType::fp16;
    in.push_back(deq);
    in.push_back(set_flag(Pipe::vector, Pipe::mte3, 0));
    in.push_back(wait_flag(Pipe::vector, Pipe::mte3, 0));
    in.push_back(store(4096 * (v + 1), 32 * KiB, 16 * KiB));
    in.push_back(cross(Opcode::cross_set, Pipe::mte3, 0, 5));
    h.aiv(v).load(p);
  }
  CoreProgram aic;
  aic.instructions.push_back(cross(Opcode::cross_wait, Pipe::mte2, 1, 5));
  aic.instructions.push_back(cross(Opcode::cross_wait, Pipe::mte2, 2, 5));
  aic.instructions.push_back(gm_load(4096, 64 * KiB, Buffer::l1, 0));
  h.aic().load(aic);
  sc_core::sc_start();
  throw_if_unfinished(h.all());
  const Tick last_store = std::max(h.aiv(0).pipe_finish_tick(Pipe::mte3), h.aiv(1).pipe_finish_tick(Pipe::mte3));
  EXPECT_EQ(h.aic().pipe_finish_tick(Pipe::mte2),
            last_store + gm_ticks(config, h.memory, 64 * KiB, config.paths.mte2_gm_Bpc));
  const Cycles deq = vector_cycles(config.vector, VectorOpKind::dequantize, 16 * KiB, DType::int8);
  EXPECT_EQ(h.aiv(0).pipe_busy_cycles(Pipe::vector), deq);
}

TEST(CoreGroup, VectorCyclesPerOpInARunningCore) {
  const CoreConfig config = config_from_yaml("{vector: {cycles_per_repeat: {default: 1, exp: 4, rsqrt: 3}}}");
  CoreGroupHarness h(config);
  const std::uint64_t elements = 32 * 1024;  // 64 KiB of fp16
  CoreProgram p;
  const VectorOpKind kinds[] = {VectorOpKind::add, VectorOpKind::exp, VectorOpKind::rsqrt, VectorOpKind::cast};
  for (VectorOpKind k : kinds) p.instructions.push_back(vector_op(k, elements, DType::fp16, 0, 64 * KiB));
  h.aiv(0).load(p);
  sc_core::sc_start();
  ASSERT_TRUE(h.aiv(0).finished());
  Cycles expected = 0;
  for (VectorOpKind k : kinds) {
    expected += vector_repeats(config.vector, elements, DType::fp16) * Cycles(vector_cycles_per_repeat(config.vector, k, DType::fp16));
  }
  EXPECT_EQ(h.aiv(0).pipe_busy_cycles(Pipe::vector), expected);
  const Tick issue = config.clock.to_ticks(double(config.scalar_issue_cycles));
  // Each instruction's duration is rounded up to a whole picosecond.
  EXPECT_NEAR(double(h.aiv(0).job_finish_tick() - h.aiv(0).job_start_tick()),
              double(issue + config.clock.to_ticks(double(expected))), 4.0);
  EXPECT_EQ(h.aiv(0).stats().value("instructions_vector"), 4u);
}

TEST(CoreGroup, CoupledCoreRunsMatmulThenVectorEpilogueThroughL0cToUb) {
  const CoreConfig config = config_from_yaml(R"({style: coupled, vector_cores_per_cube: 0,
      buffers: {l1: 1 MiB, l0c: 256 KiB, ub: 256 KiB}})");
  CoreGroupHarness h(config);
  const GemmTile tile{128, 256, 128, DType::int8};
  CoreProgram p;
  auto& in = p.instructions;
  in.push_back(gm_load(0, tile.a_bytes(), Buffer::l1, 0));
  in.push_back(gm_load(0, tile.b_bytes(), Buffer::l1, static_cast<std::uint32_t>(tile.a_bytes())));
  in.push_back(set_flag(Pipe::mte2, Pipe::mte1, 0));
  in.push_back(wait_flag(Pipe::mte2, Pipe::mte1, 0));
  in.push_back(l1_to_l0(tile.a_bytes(), 0, Buffer::l0a, 0));
  in.push_back(l1_to_l0(tile.b_bytes(), static_cast<std::uint32_t>(tile.a_bytes()), Buffer::l0b, 0));
  in.push_back(set_flag(Pipe::mte1, Pipe::cube, 0));
  in.push_back(wait_flag(Pipe::mte1, Pipe::cube, 0));
  in.push_back(mmad(tile.m, tile.k, tile.n, tile.dtype, false));
  in.push_back(set_flag(Pipe::cube, Pipe::fixpipe, 0));
  in.push_back(wait_flag(Pipe::cube, Pipe::fixpipe, 0));
  const Bytes out_bytes = Bytes{tile.m} * tile.n * 2;  // dequantized to fp16 on the way
  Instruction move;
  move.op = Opcode::move_l0c_ub;
  move.src = Buffer::l0c;
  move.dst = Buffer::ub;
  move.bytes = out_bytes;
  move.out_dtype = DType::fp16;
  in.push_back(move);
  in.push_back(set_flag(Pipe::fixpipe, Pipe::vector, 0));
  in.push_back(wait_flag(Pipe::fixpipe, Pipe::vector, 0));
  in.push_back(vector_op(VectorOpKind::silu, out_bytes / 2, DType::fp16, 0, static_cast<std::uint32_t>(out_bytes)));
  in.push_back(set_flag(Pipe::vector, Pipe::mte3, 0));
  in.push_back(wait_flag(Pipe::vector, Pipe::mte3, 0));
  in.push_back(store(1 << 20, out_bytes, static_cast<std::uint32_t>(out_bytes)));
  h.aic().load(p);
  sc_core::sc_start();
  throw_if_unfinished(h.all());

  const Clock& clk = config.clock;
  const Tick expected =
      clk.to_ticks(double(config.scalar_issue_cycles)) +
      gm_ticks(config, h.memory, tile.a_bytes(), config.paths.mte2_gm_Bpc) +
      gm_ticks(config, h.memory, tile.b_bytes(), config.paths.mte2_gm_Bpc) +
      clk.to_ticks(double(transfer_cycles(tile.a_bytes(), config.paths.l1_to_l0a_Bpc))) +
      clk.to_ticks(double(transfer_cycles(tile.b_bytes(), config.paths.l1_to_l0b_Bpc))) +
      clk.to_ticks(double(cube_cycles(config, tile.m, tile.k, tile.n, tile.dtype, CubeSparsity::dense))) +
      clk.to_ticks(double(transfer_cycles(out_bytes, config.paths.l0c_to_ub_Bpc))) +
      clk.to_ticks(double(vector_cycles(config.vector, VectorOpKind::silu, out_bytes / 2, DType::fp16))) +
      gm_ticks(config, h.memory, out_bytes, config.paths.mte3_Bpc);
  const Tick measured = h.aic().job_finish_tick() - h.aic().job_start_tick();
  EXPECT_NEAR(double(measured), double(expected), 2.0);  // per-instruction picosecond rounding
  const StatGroup& st = h.aic().stats();
  EXPECT_EQ(st.value("macs_int8"), std::uint64_t{tile.m} * tile.k * tile.n);
  EXPECT_EQ(st.value("ub_bytes_in"), out_bytes);
  EXPECT_EQ(st.value("l0c_bytes_out"), out_bytes);
  EXPECT_EQ(st.value("gm_bytes_written"), out_bytes);
}

}  // namespace
}  // namespace npusim::arch
