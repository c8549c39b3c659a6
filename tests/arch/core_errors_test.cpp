// Programs the machine cannot run fail with a message that says where.
#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/arch/core_harness.h"
#include "tests/arch/core_test_support.h"

namespace npusim::arch {
namespace {

using namespace test;

std::string load_error(AiCore& core, const CoreProgram& p) {
  try {
    core.load(p);
  } catch (const SimulationError& e) {
    return e.what();
  }
  return "";
}

void expect_contains(const std::string& text, std::initializer_list<const char*> parts) {
  for (const char* part : parts) EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
}

TEST(CoreErrors, BufferOverflowNamesCoreInstructionOpcodeAndBuffer) {
  const CoreConfig config = config_from_yaml("{}");
  CoreGroupHarness h(config);
  CoreProgram p;
  p.instructions.push_back(gm_load(0, 4096, Buffer::l1, 0));
  p.instructions.push_back(set_flag(Pipe::mte2, Pipe::mte1, 0));
  const auto offset = static_cast<std::uint32_t>(config.capacity(Buffer::l1) - 32 * KiB);
  p.instructions.push_back(gm_load(0, 64 * KiB, Buffer::l1, offset));  // runs 32 KiB past the end
  expect_contains(load_error(h.aic(), p), {"aic0", "instruction 2", "load", "L1", "overflow"});

  CoreProgram l0;
  l0.instructions.push_back(mmad(256, 256, 16, DType::fp16, false));  // A is 128 KiB > L0A
  expect_contains(load_error(h.aic(), l0), {"aic0", "instruction 0", "mmad", "L0A"});

  CoreProgram ub;
  ub.instructions.push_back(vector_op(VectorOpKind::add, 128 * 1024, DType::fp16));  // 256 KiB > UB
  expect_contains(load_error(h.aiv(0), ub), {"aiv0", "instruction 0", "vector_op", "UB"});
}

TEST(CoreErrors, WrongUnitPrecisionOrFlagIsRejectedAtLoad) {
  const CoreConfig config = config_from_yaml("{}");
  CoreGroupHarness h(config);
  CoreProgram fp8;
  fp8.instructions.push_back(mmad(16, 32, 16, DType::fp8_e4m3, false));
  expect_contains(load_error(h.aic(), fp8), {"instruction 0", "mmad", "fp8_e4m3", "not supported"});

  CoreProgram cube_on_aiv;
  cube_on_aiv.instructions.push_back(mmad(16, 16, 16, DType::fp16, false));
  expect_contains(load_error(h.aiv(1), cube_on_aiv), {"aiv1", "pipe cube", "AIV"});

  CoreProgram ub_on_aic;
  ub_on_aic.instructions.push_back(gm_load(0, 1024, Buffer::ub, 0));
  expect_contains(load_error(h.aic(), ub_on_aic), {"buffer UB", "AIC"});

  CoreProgram bad_id;
  bad_id.instructions.push_back(set_flag(Pipe::mte2, Pipe::mte1, static_cast<std::uint8_t>(config.event_ids)));
  expect_contains(load_error(h.aic(), bad_id), {"event id 8", "set_flag"});

  CoreProgram bad_partner;
  bad_partner.instructions.push_back(cross(Opcode::cross_set, Pipe::scalar, 0, 0));
  expect_contains(load_error(h.aic(), bad_partner), {"partner 0"});
}

TEST(CoreErrors, FlagDeadlockNamesWaitingPipeAndFlagAndFinishes) {
  const CoreConfig config = config_from_yaml("{}");
  CoreGroupHarness h(config);
  CoreProgram p;
  p.instructions.push_back(gm_load(0, 4096, Buffer::l1, 0));
  p.instructions.push_back(wait_flag(Pipe::mte1, Pipe::cube, 3));  // nobody sets it
  p.instructions.push_back(mmad(16, 16, 16, DType::fp16, false));
  h.aic().load(p);
  sc_core::sc_start();  // returns: the kernel runs out of events
  EXPECT_FALSE(h.aic().finished());
  EXPECT_TRUE(h.aiv(0).finished());  // never given work
  try {
    throw_if_unfinished(h.all());
    FAIL() << "expected a deadlock report";
  } catch (const SimulationError& e) {
    expect_contains(e.what(), {"deadlock", "aic0", "pipe cube", "mte1->cube id 3", "instruction 1", "wait_flag"});
    EXPECT_EQ(std::string(e.what()).find("pipe mte2"), std::string::npos) << e.what();  // mte2 finished
  }
}

TEST(CoreErrors, CrossCoreDeadlockNamesBothSides) {
  const CoreConfig config = config_from_yaml("{}");
  CoreGroupHarness h(config);
  CoreProgram aic;  // waits for AIV 1, which waits for the AIC: a cycle
  aic.instructions.push_back(cross(Opcode::cross_wait, Pipe::mte2, 1, 2));
  aic.instructions.push_back(gm_load(0, 4096, Buffer::l1, 0));
  aic.instructions.push_back(cross(Opcode::cross_set, Pipe::mte2, 1, 2));
  CoreProgram aiv;
  aiv.instructions.push_back(cross(Opcode::cross_wait, Pipe::scalar, 0, 2));
  aiv.instructions.push_back(cross(Opcode::cross_set, Pipe::mte2, 0, 2));
  h.aic().load(aic);
  h.aiv(0).load(aiv);
  sc_core::sc_start();
  try {
    throw_if_unfinished(h.all());
    FAIL() << "expected a deadlock report";
  } catch (const SimulationError& e) {
    expect_contains(e.what(), {"aic0", "pipe mte2", "cross-core flag from group core 1 to group core 0 id 2",
                               "aiv0", "pipe scalar", "from group core 0 to group core 1 id 2",
                               "not yet issued"});
  }
}

}  // namespace
}  // namespace npusim::arch
