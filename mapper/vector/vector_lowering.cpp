#include "mapper/vector/vector_lowering.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "mapper/flags.h"

namespace npusim::mapper {
namespace {

using arch::Buffer;
using arch::Instruction;
using arch::Opcode;
using arch::Pipe;

Instruction flag(Opcode op, Pipe src, Pipe dst, std::uint8_t id, std::uint32_t tag) {
  return flag_instruction(op, src, dst, id, tag);
}

}  // namespace

std::uint64_t vector_tile_elements(const VectorProblem& p, const MachineView& m) {
  const double per_element = p.in_bytes_per_element + p.out_bytes_per_element;
  const double fit = static_cast<double>(m.ub) / (2.0 * std::max(per_element, 1e-9));
  const std::uint64_t repeat = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(m.vector_width_bytes / (dtype_bits(p.dtype) / 8)));
  std::uint64_t tile = static_cast<std::uint64_t>(fit) / repeat * repeat;
  if (tile == 0) {
    throw InputError("a vector tile of one repeat does not fit the unified buffer");
  }
  return tile;
}

void emit_vector(const VectorProblem& p, const MachineView& machine, std::uint32_t tag, arch::Program& program) {
  if (p.elements == 0) return;
  auto& workers = machine.split_cores ? program.vector_cores : program.cube_cores;
  const std::uint64_t tile_max = vector_tile_elements(p, machine);
  const std::uint64_t worker_count = workers.size();
  const std::uint64_t per_worker = ceil_div(p.elements, worker_count);
  const Bytes in_slot = static_cast<Bytes>(std::ceil(tile_max * p.in_bytes_per_element));
  const Bytes out_slot = static_cast<Bytes>(std::ceil(tile_max * p.out_bytes_per_element));

  for (std::uint64_t w = 0; w < worker_count; ++w) {
    const std::uint64_t begin = w * per_worker;
    if (begin >= p.elements) break;
    const std::uint64_t end = std::min(p.elements, begin + per_worker);
    auto& code = workers[w].instructions;
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte2, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::vector, s, tag));
    std::uint64_t turn = 0;
    for (std::uint64_t at = begin; at < end; at += tile_max, ++turn) {
      const std::uint64_t elements = std::min(tile_max, end - at);
      const std::uint8_t s = static_cast<std::uint8_t>(turn % 2);
      const Bytes in_bytes = static_cast<Bytes>(std::ceil(elements * p.in_bytes_per_element));
      const Bytes out_bytes = static_cast<Bytes>(std::ceil(elements * p.out_bytes_per_element));

      code.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte2, s, tag));
      if (in_bytes > 0) {
        Instruction load;
        load.op = Opcode::load;
        load.pipe = Pipe::mte2;
        load.src = Buffer::gm;
        load.dst = Buffer::ub;
        load.bytes = in_bytes;
        load.gm_address = p.in_address + static_cast<std::uint64_t>(std::ceil(at * p.in_bytes_per_element));
        load.dst_offset = static_cast<std::uint32_t>(s * in_slot);
        load.dtype = p.dtype;
        load.op_tag = tag;
        code.push_back(load);
      }
      code.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::vector, s, tag));

      code.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::vector, s, tag));
      code.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::vector, s, tag));
      for (const VectorPass& pass : p.passes) {
        Instruction v;
        v.op = Opcode::vector_op;
        v.pipe = Pipe::vector;
        v.vector_kind = pass.kind;
        v.elements = static_cast<std::uint64_t>(std::ceil(elements * pass.per_element));
        v.dtype = p.dtype;
        v.src = Buffer::ub;
        v.dst = Buffer::ub;
        v.src_offset = static_cast<std::uint32_t>(s * in_slot);
        v.dst_offset = static_cast<std::uint32_t>(2 * in_slot + s * out_slot);
        v.bytes = out_bytes;
        v.op_tag = tag;
        code.push_back(v);
      }
      code.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte2, s, tag));
      code.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte3, s, tag));

      code.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte3, s, tag));
      if (out_bytes > 0) {
        Instruction store;
        store.op = Opcode::store;
        store.pipe = Pipe::mte3;
        store.src = Buffer::ub;
        store.dst = Buffer::gm;
        store.bytes = out_bytes;
        store.src_offset = static_cast<std::uint32_t>(2 * in_slot + s * out_slot);
        store.gm_address = p.out_address + static_cast<std::uint64_t>(std::ceil(at * p.out_bytes_per_element));
        store.dtype = p.dtype;
        store.op_tag = tag;
        code.push_back(store);
      }
      code.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::vector, s, tag));
    }
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte2, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::vector, s, tag));
  }
}

}  // namespace npusim::mapper
