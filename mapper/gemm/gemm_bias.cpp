#include "mapper/gemm/gemm_bias.h"

#include <cmath>

#include "mapper/flags.h"

namespace npusim::mapper {
namespace {

using arch::Buffer;
using arch::Instruction;
using arch::Opcode;
using arch::Pipe;

Bytes bytes_of(std::uint64_t elements, double bytes_per_element) {
  return static_cast<Bytes>(std::ceil(static_cast<double>(elements) * bytes_per_element));
}

}  // namespace

Bytes gemm_bias_l1_bytes(const GemmProblem& p, const GemmTiling& t) { return gemm_bias_block_bytes(p, t.bn); }

Bytes gemm_bias_table_bytes(const GemmProblem& p, const GemmTiling& t) {
  if (!p.bias_dtype) return 0;
  return bytes_of(t.bn, element_bytes(accumulator_dtype(p.a_dtype)));
}

Bytes gemm_bias_block_bytes(const GemmProblem& p, std::uint32_t bn) {
  if (!p.bias_dtype) return 0;
  return bytes_of(bn, element_bytes(*p.bias_dtype));
}

void emit_bias_tokens(std::vector<Instruction>& code, std::uint32_t tag) {
  code.push_back(flag_instruction(Opcode::set_flag, Pipe::mte1, Pipe::mte2, kBiasEvent, tag));  // L1 slot free
  code.push_back(flag_instruction(Opcode::set_flag, Pipe::cube, Pipe::mte1, kBiasEvent, tag));  // table free
}

void drain_bias_tokens(std::vector<Instruction>& code, std::uint32_t tag) {
  code.push_back(flag_instruction(Opcode::wait_flag, Pipe::mte1, Pipe::mte2, kBiasEvent, tag));
  code.push_back(flag_instruction(Opcode::wait_flag, Pipe::cube, Pipe::mte1, kBiasEvent, tag));
}

void emit_bias_load(std::vector<Instruction>& code, const GemmProblem& p, const GemmTiling& t, std::uint64_t ni,
                    std::uint32_t bn, std::uint32_t l1_offset, std::uint32_t tag) {
  const double bias_bytes = element_bytes(*p.bias_dtype);
  const DType accumulator = accumulator_dtype(p.a_dtype);
  code.push_back(flag_instruction(Opcode::wait_flag, Pipe::mte1, Pipe::mte2, kBiasEvent, tag));
  Instruction load;
  load.op = Opcode::load;
  load.pipe = Pipe::mte2;
  load.src = Buffer::gm;
  load.dst = Buffer::l1;
  load.bytes = gemm_bias_block_bytes(p, bn);
  // Every batch item and every row block shares the one bias row.
  load.gm_address = p.bias_address + bytes_of(ni * t.bn, bias_bytes);
  load.dst_offset = l1_offset;
  load.dtype = *p.bias_dtype;
  load.op_tag = tag;
  code.push_back(load);
  code.push_back(flag_instruction(Opcode::set_flag, Pipe::mte2, Pipe::mte1, kBiasEvent, tag));

  code.push_back(flag_instruction(Opcode::wait_flag, Pipe::mte2, Pipe::mte1, kBiasEvent, tag));
  code.push_back(flag_instruction(Opcode::wait_flag, Pipe::cube, Pipe::mte1, kBiasEvent, tag));
  Instruction to_table = load_l0_instruction(Buffer::bias_table, bytes_of(bn, element_bytes(accumulator)), l1_offset,
                                             0, *p.bias_dtype, tag);
  to_table.out_dtype = accumulator;
  code.push_back(to_table);
  code.push_back(flag_instruction(Opcode::set_flag, Pipe::mte1, Pipe::mte2, kBiasEvent, tag));
  code.push_back(flag_instruction(Opcode::set_flag, Pipe::mte1, Pipe::cube, kBiasEvent, tag));
}

void emit_biased_mmad(std::vector<Instruction>& code, Instruction first_mmad, std::uint32_t tag) {
  first_mmad.accumulate = false;
  first_mmad.bias_init = true;
  first_mmad.bias_offset = 0;
  code.push_back(flag_instruction(Opcode::wait_flag, Pipe::mte1, Pipe::cube, kBiasEvent, tag));
  code.push_back(first_mmad);
  code.push_back(flag_instruction(Opcode::set_flag, Pipe::cube, Pipe::mte1, kBiasEvent, tag));
}

}  // namespace npusim::mapper
