// The bias table (BT) as the core's load-time check and timing see it:
// MTE1 copies a bias row from L1 into it, widening to 32 bits, and an mmad
// may start its accumulators from it instead of from zero.
#include <gtest/gtest.h>

#include <string>

#include "arch/core/cube_timing.h"
#include "arch/core/program_plan.h"
#include "arch/core/transfer_timing.h"
#include "common/error.h"
#include "tests/arch/core_test_support.h"

namespace npusim::arch {
namespace {

using test::config_from_yaml;

const CoreIdentity kAic{"aic0", CoreRole::cube, 0, 3};

Instruction to_bias_table(Bytes table_bytes, std::uint32_t l1_offset, std::uint32_t table_offset) {
  Instruction in;
  in.op = Opcode::load_l0;
  in.pipe = Pipe::mte1;
  in.src = Buffer::l1;
  in.dst = Buffer::bias_table;
  in.bytes = table_bytes;
  in.src_offset = l1_offset;
  in.dst_offset = table_offset;
  in.dtype = DType::fp16;      // as stored in L1
  in.out_dtype = DType::fp32;  // as the accumulators take it
  return in;
}

Instruction biased_mmad(std::uint32_t n, std::uint32_t bias_offset) {
  Instruction in = test::mmad(128, 64, n, DType::fp16, false);
  in.bias_init = true;
  in.bias_offset = bias_offset;
  return in;
}

std::string plan_error(const CoreConfig& c, const Instruction& in) {
  try {
    plan_instruction(c, kAic, 0, in);
  } catch (const SimulationError& e) {
    return e.what();
  }
  return "";
}

TEST(BiasTable, CopyIsAnMte1TransferAtTheConfiguredRate) {
  const CoreConfig c = config_from_yaml("{}");
  ASSERT_EQ(c.capacity(Buffer::bias_table), 1 * KiB);  // 910B: 1 KiB [A7, A11]
  const PlannedInstruction p = plan_instruction(c, kAic, 0, to_bias_table(1024, 0, 0));
  EXPECT_EQ(p.pipe, Pipe::mte1);
  EXPECT_EQ(p.cycles, transfer_cycles(1024, c.paths.l1_to_bias_table_Bpc));
}

TEST(BiasTable, WindowsAreCheckedOnBothSides) {
  const CoreConfig c = config_from_yaml("{}");
  // 2 KiB of fp32 biases do not fit a 1 KiB table.
  const std::string table = plan_error(c, to_bias_table(2048, 0, 0));
  EXPECT_NE(table.find("BT"), std::string::npos) << table;
  EXPECT_NE(table.find("overflow"), std::string::npos) << table;
  // The L1 side is the fp16 source: 512 B for 1 KiB landing in the table.
  const auto l1_end = static_cast<std::uint32_t>(c.capacity(Buffer::l1));
  EXPECT_EQ(plan_error(c, to_bias_table(1024, l1_end - 512, 0)), "");
  const std::string l1 = plan_error(c, to_bias_table(1024, l1_end - 511, 0));
  EXPECT_NE(l1.find("L1"), std::string::npos) << l1;
}

TEST(BiasTable, BiasedMmadReadsOneValuePerColumnAtNoCubeCost) {
  const CoreConfig c = config_from_yaml("{}");
  const PlannedInstruction biased = plan_instruction(c, kAic, 0, biased_mmad(256, 0));
  const PlannedInstruction plain = plan_instruction(c, kAic, 0, test::mmad(128, 64, 256, DType::fp16, false));
  EXPECT_EQ(biased.cycles, plain.cycles);
  EXPECT_EQ(biased.cycles, cube_cycles(c, 128, 64, 256, DType::fp16, CubeSparsity::dense));

  const std::string wide = plan_error(c, biased_mmad(256, 16));  // 16 B past the end
  EXPECT_NE(wide.find("BT"), std::string::npos) << wide;
  Instruction accumulating = biased_mmad(16, 0);
  accumulating.accumulate = true;
  const std::string both = plan_error(c, accumulating);
  EXPECT_NE(both.find("bias table"), std::string::npos) << both;
}

}  // namespace
}  // namespace npusim::arch
