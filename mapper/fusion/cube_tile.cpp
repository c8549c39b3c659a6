#include "mapper/fusion/cube_tile.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "mapper/flags.h"

namespace npusim::mapper {
namespace {

using arch::Buffer;
using arch::Opcode;
using arch::Pipe;

double bytes_per(DType t) { return dtype_bits(t) / 8.0; }

Bytes bytes_of(std::uint64_t elements, double per) {
  return static_cast<Bytes>(std::ceil(static_cast<double>(elements) * per));
}

// The largest multiple of 16 not above `limit`, or `extent` when it fits whole.
std::uint32_t fit_extent(std::uint64_t extent, std::uint64_t limit) {
  if (extent <= limit) return static_cast<std::uint32_t>(extent);
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(16, limit / 16 * 16));
}

}  // namespace

Bytes cube_tile_l0c_bytes(std::uint32_t m, std::uint32_t n) { return Bytes{m} * n * 4; }

CubeChunks cube_chunks(const CubeTile& t, const MachineView& machine) {
  const double b_bytes = std::max(bytes_per(t.b_dtype), bytes_per(t.a_dtype));
  const double a_bytes = bytes_per(t.a_dtype);
  const auto l0b_slot = static_cast<double>(machine.l0b / 2), l0a_slot = static_cast<double>(machine.l0a / 2);
  CubeChunks c;
  // Prefer whole rows of B (n) with at least 16 deep, then as deep as fits.
  c.n0 = fit_extent(t.n, static_cast<std::uint64_t>(l0b_slot / (16 * b_bytes)));
  const auto k_by_b = static_cast<std::uint64_t>(l0b_slot / (c.n0 * b_bytes));
  const auto k_by_a = static_cast<std::uint64_t>(l0a_slot / (std::max<std::uint32_t>(t.m, 1) * a_bytes));
  c.k0 = fit_extent(t.k, std::min(k_by_a, k_by_b));
  if (bytes_of(std::uint64_t{t.m} * c.k0, a_bytes) > machine.l0a / 2) {
    throw InputError("a fused cube tile of " + std::to_string(t.m) + " rows does not fit half of L0A");
  }
  return c;
}

void emit_cube_tile(const CubeTile& t, const MachineView& machine, std::uint64_t& l0_turn, std::uint32_t tag,
                    std::vector<arch::Instruction>& code) {
  const CubeChunks c = cube_chunks(t, machine);
  const double a_bytes = bytes_per(t.a_dtype), b_l0_bytes = bytes_per(t.b_dtype);
  const Bytes l0a_slot = machine.l0a / 2, l0b_slot = machine.l0b / 2;
  for (std::uint32_t n_at = 0; n_at < t.n; n_at += c.n0) {
    const std::uint32_t n0 = std::min(c.n0, t.n - n_at);
    for (std::uint32_t k_at = 0; k_at < t.k; k_at += c.k0) {
      const std::uint32_t k0 = std::min(c.k0, t.k - k_at);
      const auto u = static_cast<std::uint32_t>(l0_turn++ % 2);
      code.push_back(flag_instruction(Opcode::wait_flag, Pipe::cube, Pipe::mte1, kL0FreeEvent, tag));
      code.push_back(load_l0_instruction(Buffer::l0a, bytes_of(std::uint64_t{t.m} * k0, a_bytes),
                                         static_cast<std::uint32_t>(t.a_l1 + bytes_of(std::uint64_t{t.m} * k_at, a_bytes)),
                                         static_cast<std::uint32_t>(u * l0a_slot), t.a_dtype, tag));
      // B is stored column chunk after column chunk, each k x n0.
      const std::uint64_t b_at = std::uint64_t{n_at} * t.k + std::uint64_t{k_at} * n0;
      code.push_back(load_l0_instruction(Buffer::l0b, bytes_of(std::uint64_t{k0} * n0, b_l0_bytes),
                                         static_cast<std::uint32_t>(t.b_l1 + bytes_of(b_at, t.b_l1_bytes)),
                                         static_cast<std::uint32_t>(u * l0b_slot), t.b_dtype, tag));
      code.push_back(flag_instruction(Opcode::set_flag, Pipe::mte1, Pipe::cube, kL0ReadyEvent, tag));
      code.push_back(flag_instruction(Opcode::wait_flag, Pipe::mte1, Pipe::cube, kL0ReadyEvent, tag));
      MmadOperands mmad;
      mmad.m = t.m;
      mmad.k = k0;
      mmad.n = n0;
      mmad.dtype = t.a_dtype;
      mmad.accumulate = t.accumulate || k_at > 0;
      mmad.l0a_offset = static_cast<std::uint32_t>(u * l0a_slot);
      mmad.l0b_offset = static_cast<std::uint32_t>(u * l0b_slot);
      mmad.l0c_offset = static_cast<std::uint32_t>(t.l0c + cube_tile_l0c_bytes(t.m, n_at));
      mmad.l0c_bytes = cube_tile_l0c_bytes(t.m, n0);
      code.push_back(mmad_instruction(mmad, tag));
      code.push_back(flag_instruction(Opcode::set_flag, Pipe::cube, Pipe::mte1, kL0FreeEvent, tag));
    }
  }
}

}  // namespace npusim::mapper
