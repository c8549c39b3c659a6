#pragma once
// One instruction as its pipe executes it: what load() derives from the
// Instruction and its plan, packed into 48 bytes and stored per pipe in
// program order. A pipe then walks its own array front to back and touches
// nothing else per instruction; reading the 80-byte Instruction and the plan
// by program index cost a cache miss per instruction on model-sized jobs
// (several MB of instructions per job), which dominated the core's time.
#include <cstdint>

#include "arch/core/flag_slot.h"
#include "arch/core/program_plan.h"
#include "arch/isa.h"
#include "common/stat_group.h"
#include "common/units.h"

namespace npusim::arch {

struct PipeStep {
  struct Occupy {
    Cycles cycles;       // the pipe is busy this long...
    Tick ticks;          // ...which is this much SystemC time
    Counter* counter;    // the stat this instruction adds `amount` to
    std::uint64_t amount;
  };
  struct Transfer {
    std::uint64_t gm_address;
    Bytes bytes;
    double gm_Bpc;       // the core's path rate for this transfer
  };
  struct Flag {
    FlagSlot* slot;
    // What describe_wait reports; `partner` for cross-core flags.
    std::int32_t partner;
    Pipe src, dst;
    std::uint8_t event_id;
  };

  std::uint32_t index = 0;   // position in the program
  std::uint32_t op_tag = 0;  // Instruction::op_tag, for trace labels
  Action action = Action::occupy;
  Opcode op = Opcode::barrier;
  Buffer dst = Buffer::gm;   // a GM read's destination, for its stat
  bool atomic_add = false;  // a GM write that adds into GM (Instruction::atomic_add)
  // Which member is live follows from `action`: occupy, gm_read/gm_write
  // (transfer), the four flag actions (flag), barrier (none).
  union {
    Occupy occupy;
    Transfer transfer;
    Flag flag;
  };

  PipeStep() : occupy{} {}
};

}  // namespace npusim::arch
