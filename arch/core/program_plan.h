#pragma once
// Loading a program onto a core: every instruction is checked statically
// (its pipe exists on this core, its buffer windows fit, its precision is on
// the cube, its flags are in range) and annotated with what the pipe will do
// and the cycles that do not depend on the memory system. Pure C++.
#include <string>
#include <vector>

#include "arch/core/core_config.h"
#include "arch/core/core_role.h"
#include "arch/isa.h"

namespace npusim::arch {

enum class Action : std::uint8_t {
  occupy,      // the pipe is busy for `cycles`, nothing leaves the core
  gm_read,     // GM -> on-chip over the core's socket
  gm_write,    // on-chip -> GM over the core's socket
  set_flag,
  wait_flag,
  cross_set,
  cross_wait,
  barrier,
};

struct PlannedInstruction {
  Pipe pipe = Pipe::scalar;  // the pipe that executes it
  Action action = Action::occupy;
  Cycles cycles = 0;         // compute or on-chip path cycles
  double gm_Bpc = 0;         // per-core GM path rate, for gm_read / gm_write
};

struct CoreIdentity {
  std::string name;        // for messages: "aic0", "aiv3", ...
  CoreRole role = CoreRole::coupled;
  int index_in_group = 0;  // 0 = the AIC, 1.. = its AIVs
  int group_size = 1;
};

// Throws SimulationError naming the core, the instruction index, its opcode
// and the offending buffer, pipe, precision or flag.
PlannedInstruction plan_instruction(const CoreConfig& config, const CoreIdentity& core, std::size_t index,
                                    const Instruction& instruction);
// plan_instruction over a whole program.
std::vector<PlannedInstruction> plan_program(const CoreConfig& config, const CoreIdentity& core,
                                             const CoreProgram& program);

}  // namespace npusim::arch
