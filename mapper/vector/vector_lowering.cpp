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

// UB bytes one element occupies in the input and output slots: the GM bytes
// it moves, but never less than the element itself, since the vector unit
// reads and writes whole elements in UB even for work that moves nothing
// (dequantize alongside a GEMM, a compute-only pass).
double ub_in_bytes(const VectorProblem& p) { return std::max(p.in_bytes_per_element, dtype_bits(p.dtype) / 8); }
double ub_out_bytes(const VectorProblem& p) { return std::max(p.out_bytes_per_element, dtype_bits(p.dtype) / 8); }

}  // namespace

std::uint64_t vector_tile_elements(const VectorProblem& p, const MachineView& m) {
  const double per_element = ub_in_bytes(p) + ub_out_bytes(p);
  const double fit = static_cast<double>(m.ub) / (2.0 * std::max(per_element, 1e-9));
  const std::uint64_t repeat = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(m.vector_width_bytes / (dtype_bits(p.dtype) / 8)));
  std::uint64_t tile = static_cast<std::uint64_t>(fit) / repeat * repeat;
  if (tile == 0) {
    throw InputError("a vector tile of one repeat does not fit the unified buffer");
  }
  return tile;
}

double estimate_vector_seconds(const VectorProblem& p, const MachineView& m) {
  const double workers = m.split_cores ? m.vector_cores : m.cube_cores;
  const double bytes = static_cast<double>(p.elements) * (p.in_bytes_per_element + p.out_bytes_per_element);
  // Each worker's MTE2 and MTE3 stream its share tile by tile; every GM
  // request is blocking, so each tile's load and store pays the memory
  // latency once, and the first load and last store are not overlapped.
  const double per_worker = std::ceil(static_cast<double>(p.elements) / std::max(1.0, workers));
  const double tiles = std::ceil(per_worker / static_cast<double>(vector_tile_elements(p, m)));
  const double load = tiles * m.gm_latency_cycles + per_worker * p.in_bytes_per_element / m.gm_read_Bpc;
  const double store = tiles * m.gm_latency_cycles + per_worker * p.out_bytes_per_element / m.gm_write_Bpc;
  const double core_cycles = std::max(load, store) + std::min(load, store) / std::max(1.0, tiles);
  return std::max(core_cycles / m.core_clock_hz, m.hbm_Bps > 0 ? bytes / m.hbm_Bps : 0.0);
}

namespace {

// `offset` into a run of reads kept inside a tensor of `extent` bytes at
// `base`: wrapped around its end, and a read that would straddle the end
// moved back to end there.
std::uint64_t wrapped(std::uint64_t base, Bytes extent, std::uint64_t offset, Bytes bytes) {
  if (extent == 0) return base + offset;
  std::uint64_t at = offset % extent;
  if (at + bytes > extent) at = bytes <= extent ? extent - bytes : 0;
  return base + at;
}

}  // namespace

void append_vector_passes(const std::vector<VectorPass>& passes, std::uint64_t elements, DType dtype,
                          std::uint32_t src_offset, std::uint32_t dst_offset, Bytes out_bytes, std::uint32_t tag,
                          std::vector<Instruction>& code) {
  for (const VectorPass& pass : passes) {
    // The unit's source and destination windows are `elements` long, so a
    // pass of several operations per element is several sweeps over the
    // tile (the last partial when the count is fractional), never one sweep
    // over a window larger than the tile's slot.
    for (double left = pass.per_element; left > 1e-9; left -= 1.0) {
      Instruction v;
      v.op = Opcode::vector_op;
      v.pipe = Pipe::vector;
      v.vector_kind = pass.kind;
      v.elements = static_cast<std::uint64_t>(std::ceil(static_cast<double>(elements) * std::min(1.0, left)));
      v.dtype = dtype;
      v.out_dtype = dtype;
      v.src = Buffer::ub;
      v.dst = Buffer::ub;
      v.src_offset = src_offset;
      v.dst_offset = dst_offset;
      v.bytes = out_bytes;
      v.op_tag = tag;
      code.push_back(v);
    }
  }
}

void emit_vector(const VectorProblem& p, const MachineView& machine, std::uint32_t tag, arch::Program& program) {
  if (p.elements == 0) return;
  auto& workers = machine.split_cores ? program.vector_cores : program.cube_cores;
  const std::uint64_t tile_max = vector_tile_elements(p, machine);
  const std::uint64_t worker_count = workers.size();
  const std::uint64_t per_worker = ceil_div(p.elements, worker_count);
  const Bytes in_slot = static_cast<Bytes>(std::ceil(tile_max * ub_in_bytes(p)));
  const Bytes out_slot = static_cast<Bytes>(std::ceil(tile_max * ub_out_bytes(p)));

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
      // A tile larger than the input tensor it wraps in reads it in pieces.
      std::uint64_t run_at = p.in_run_offset + static_cast<std::uint64_t>(std::ceil(at * p.in_bytes_per_element));
      for (Bytes loaded = 0; loaded < in_bytes;) {
        const Bytes piece = p.in_extent > 0 ? std::min<Bytes>(in_bytes - loaded, p.in_extent) : in_bytes;
        code.push_back(gm_transfer_instruction(Opcode::load, wrapped(p.in_address, p.in_extent, run_at, piece), piece,
                                               Buffer::ub, static_cast<std::uint32_t>(s * in_slot + loaded), p.dtype,
                                               tag));
        loaded += piece;
        run_at += piece;
      }
      code.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::vector, s, tag));

      code.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::vector, s, tag));
      code.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::vector, s, tag));
      // Converting passes write the tile's own precision: the slots are sized
      // for p.dtype, and the problem already states its GM bytes.
      append_vector_passes(p.passes, elements, p.dtype, static_cast<std::uint32_t>(s * in_slot),
                           static_cast<std::uint32_t>(2 * in_slot + s * out_slot), out_bytes, tag, code);
      code.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte2, s, tag));
      code.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte3, s, tag));

      code.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte3, s, tag));
      if (out_bytes > 0) {
        code.push_back(gm_transfer_instruction(
            Opcode::store, p.out_address + static_cast<std::uint64_t>(std::ceil(at * p.out_bytes_per_element)),
            out_bytes, Buffer::ub, static_cast<std::uint32_t>(2 * in_slot + s * out_slot), p.dtype, tag));
      }
      code.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::vector, s, tag));
    }
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte2, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::vector, s, tag));
  }
}

}  // namespace npusim::mapper
