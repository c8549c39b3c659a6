#pragma once
// Flag instructions as every lowering emits them: a set goes in the queue of
// the producing pipe, a wait in the queue of the consuming pipe (isa.h).
#include <cstdint>

#include "arch/isa.h"

namespace npusim::mapper {

inline arch::Instruction flag_instruction(arch::Opcode op, arch::Pipe src, arch::Pipe dst, std::uint8_t id,
                                          std::uint32_t tag) {
  arch::Instruction in;
  in.op = op;
  in.pipe = op == arch::Opcode::set_flag ? src : dst;
  in.flag_src = src;
  in.flag_dst = dst;
  in.event_id = id;
  in.op_tag = tag;
  return in;
}

}  // namespace npusim::mapper
