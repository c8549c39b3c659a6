#pragma once
// Instruction builders shared by the lowerings. Flag instructions as every
// lowering emits them: a set goes in the queue of
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

// A cross-core flag between an AIC and one of its AIVs: `partner` is the
// other core's index within the core group (0 the AIC, 1.. its AIVs), and
// the instruction sits in the queue of `pipe` on this core.
inline arch::Instruction cross_flag_instruction(arch::Opcode op, arch::Pipe pipe, int partner, std::uint8_t id,
                                                std::uint32_t tag) {
  arch::Instruction in;
  in.op = op;
  in.pipe = pipe;
  in.partner = partner;
  in.event_id = id;
  in.op_tag = tag;
  return in;
}

// A GM transfer: a load (MTE2, GM -> `on_chip` at `offset`) or a store
// (MTE3, `on_chip` at `offset` -> GM) of `bytes` at `gm_address`.
inline arch::Instruction gm_transfer_instruction(arch::Opcode op, std::uint64_t gm_address, Bytes bytes,
                                                 arch::Buffer on_chip, std::uint32_t offset, DType dtype,
                                                 std::uint32_t tag) {
  const bool load = op == arch::Opcode::load;
  arch::Instruction in;
  in.op = op;
  in.pipe = load ? arch::Pipe::mte2 : arch::Pipe::mte3;
  in.gm_address = gm_address;
  in.bytes = bytes;
  in.src = load ? arch::Buffer::gm : on_chip;
  in.dst = load ? on_chip : arch::Buffer::gm;
  (load ? in.dst_offset : in.src_offset) = offset;
  in.dtype = dtype;
  in.op_tag = tag;
  return in;
}

// MTE1 moving one operand tile from L1 into an L0A or L0B slot.
inline arch::Instruction load_l0_instruction(arch::Buffer dst, Bytes bytes, std::uint32_t l1_offset,
                                             std::uint32_t l0_offset, DType dtype, std::uint32_t tag) {
  arch::Instruction in;
  in.op = arch::Opcode::load_l0;
  in.pipe = arch::Pipe::mte1;
  in.src = arch::Buffer::l1;
  in.dst = dst;
  in.bytes = bytes;
  in.src_offset = l1_offset;
  in.dst_offset = l0_offset;
  in.dtype = dtype;
  in.op_tag = tag;
  return in;
}

// One cube step of a GEMM: L0A x L0B accumulated into an L0C slot. The
// offsets name the double-buffer slots the operands sit in.
struct MmadOperands {
  std::uint32_t m = 0, k = 0, n = 0;
  DType dtype = DType::fp16;
  arch::CubeSparsity sparsity = arch::CubeSparsity::dense;
  bool accumulate = false;
  std::uint32_t l0a_offset = 0, l0b_offset = 0, l0c_offset = 0;
  Bytes l0c_bytes = 0;
};

inline arch::Instruction mmad_instruction(const MmadOperands& o, std::uint32_t tag) {
  arch::Instruction in;
  in.op = arch::Opcode::mmad;
  in.pipe = arch::Pipe::cube;
  in.m = o.m;
  in.k = o.k;
  in.n = o.n;
  in.dtype = o.dtype;
  in.sparsity = o.sparsity;
  in.accumulate = o.accumulate;
  in.src = arch::Buffer::l0a;
  in.dst = arch::Buffer::l0c;
  in.src_offset = o.l0a_offset;
  in.src2_offset = o.l0b_offset;
  in.dst_offset = o.l0c_offset;
  in.bytes = o.l0c_bytes;
  in.op_tag = tag;
  return in;
}

// FixPipe moving `bytes` of accumulators from L0C (at `l0c_offset`) to GM,
// converting from the accumulator precision to `out_dtype` on the way.
inline arch::Instruction fixpipe_to_gm_instruction(std::uint32_t l0c_offset, Bytes bytes, std::uint64_t gm_address,
                                                   DType accumulator, DType out_dtype, std::uint32_t tag) {
  arch::Instruction in;
  in.op = arch::Opcode::fixpipe;
  in.pipe = arch::Pipe::fixpipe;
  in.src = arch::Buffer::l0c;
  in.dst = arch::Buffer::gm;
  in.src_offset = l0c_offset;
  in.bytes = bytes;
  in.gm_address = gm_address;
  in.dtype = accumulator;
  in.out_dtype = out_dtype;
  in.op_tag = tag;
  return in;
}

}  // namespace npusim::mapper
