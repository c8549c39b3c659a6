// FixPipe's atomic-add write to GM (split-K's partial sums): each chunk is
// read where it lives and then written, so it costs a read plus a write of
// the memory, and moves the bytes both ways.
#include <gtest/gtest.h>

#include <algorithm>

#include "arch/core/transfer_timing.h"
#include "tests/arch/core_harness.h"
#include "tests/arch/core_test_support.h"

namespace npusim::arch {
namespace {

using namespace test;

CoreProgram one_fixpipe(Bytes bytes, bool atomic) {
  Instruction out;
  out.op = Opcode::fixpipe;
  out.pipe = Pipe::fixpipe;
  out.src = Buffer::l0c;
  out.dst = Buffer::gm;
  out.bytes = bytes;
  out.gm_address = 1 << 20;
  out.dtype = DType::fp32;
  out.out_dtype = DType::fp16;
  out.atomic_add = atomic;
  CoreProgram p;
  p.instructions.push_back(out);
  return p;
}

TEST(CoreAtomicAdd, CostsAReadThenAWriteAndMovesBothWays) {
  const CoreConfig config = config_from_yaml("{}");
  // A memory slow enough that its delay, not FixPipe's path, sets the time.
  CoreGroupHarness h(config, 4 * kTestMemoryLatency);
  const Bytes bytes = 32 * KiB;  // one 128 x 128 fp16 block, one chunk
  ASSERT_LE(bytes, config.transfer_chunk);

  h.aic().load(one_fixpipe(bytes, false));
  sc_core::sc_start();
  ASSERT_TRUE(h.aic().finished()) << h.aic().blocked_report();
  const Tick plain = h.aic().job_finish_tick() - h.aic().job_start_tick();
  EXPECT_EQ(h.memory.bytes_read(), 0u);
  EXPECT_EQ(h.memory.bytes_written(), bytes);

  h.aic().load(one_fixpipe(bytes, true));
  sc_core::sc_start();
  ASSERT_TRUE(h.aic().finished()) << h.aic().blocked_report();
  const Tick atomic = h.aic().job_finish_tick() - h.aic().job_start_tick();
  EXPECT_EQ(h.memory.bytes_read(), bytes);
  EXPECT_EQ(h.memory.bytes_written(), 2 * bytes);
  EXPECT_EQ(h.aic().stats().value("gm_bytes_written"), 2 * bytes);
  EXPECT_EQ(h.aic().stats().value("gm_atomic_bytes"), bytes);

  // Closed forms on an idle memory: the plain write takes the longer of its
  // path time and the memory's delay; the atomic one the read's delay and
  // then the write's.
  const Tick path = config.clock.to_ticks(double(transfer_cycles(bytes, config.paths.fixpipe_out_Bpc)));
  const Tick issue = config.clock.to_ticks(double(config.scalar_issue_cycles));
  const Tick memory = h.memory.idle_delay(bytes);
  EXPECT_NEAR(double(plain), double(issue + std::max(path, memory)), 0.01 * double(plain));
  EXPECT_NEAR(double(atomic), double(issue + std::max(path, 2 * memory)), 0.01 * double(atomic));
  ASSERT_GT(memory, path);
  EXPECT_GT(atomic, plain);
}

}  // namespace
}  // namespace npusim::arch
