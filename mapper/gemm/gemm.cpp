#include "mapper/gemm/gemm.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "mapper/flags.h"

namespace npusim::mapper {
namespace {

using arch::Buffer;
using arch::Instruction;
using arch::Opcode;
using arch::Pipe;

// Event ids: slot s of a double buffer uses id s on its pipe pair.
Instruction set_flag(Pipe src, Pipe dst, std::uint8_t id, std::uint32_t tag) {
  return flag_instruction(Opcode::set_flag, src, dst, id, tag);
}
Instruction wait_flag(Pipe src, Pipe dst, std::uint8_t id, std::uint32_t tag) {
  return flag_instruction(Opcode::wait_flag, src, dst, id, tag);
}

Bytes bytes_of(std::uint64_t elements, double bytes_per_element) {
  return static_cast<Bytes>(std::ceil(static_cast<double>(elements) * bytes_per_element));
}

}  // namespace

double element_bytes(DType t) { return dtype_bits(t) / 8.0; }

double stored_b_bytes_per_element(const GemmProblem& problem) {
  return problem.b_stored_bits > 0 ? problem.b_stored_bits / 8.0 : element_bytes(problem.b_dtype);
}

DType accumulator_dtype(DType operand) {
  switch (operand) {
    case DType::int8:
    case DType::int4:
    case DType::mxint8: return DType::int32;
    default: return DType::fp32;
  }
}

std::string GemmTiling::describe() const {
  return fmt::format("bm={} bn={} bk1={} bk0={}{}", bm, bn, bk1, bk0, l0c_double_buffer ? "" : " l0c-single");
}

GemmFootprint gemm_footprint(const GemmProblem& p, const GemmTiling& t) {
  const double a_bytes = element_bytes(p.a_dtype);
  const double b_l1_bytes = stored_b_bytes_per_element(p);
  const double b_l0_bytes = element_bytes(p.b_dtype);
  const double acc_bytes = element_bytes(accumulator_dtype(p.a_dtype));
  GemmFootprint f;
  f.l1 = 2 * (bytes_of(std::uint64_t{t.bm} * t.bk1, a_bytes) + bytes_of(std::uint64_t{t.bk1} * t.bn, b_l1_bytes));
  f.l0a = 2 * bytes_of(std::uint64_t{t.bm} * t.bk0, a_bytes);
  f.l0b = 2 * bytes_of(std::uint64_t{t.bk0} * t.bn, b_l0_bytes);
  f.l0c = (t.l0c_double_buffer ? 2 : 1) * bytes_of(std::uint64_t{t.bm} * t.bn, acc_bytes);
  return f;
}

std::optional<std::string> gemm_tiling_error(const GemmProblem& p, const GemmTiling& t, const MachineView& m) {
  if (t.bm == 0 || t.bn == 0 || t.bk0 == 0 || t.bk1 == 0) return std::string("tile sizes must be positive");
  if (t.bk1 % t.bk0 != 0) return fmt::format("bk0={} does not divide bk1={}", t.bk0, t.bk1);
  if (!m.cube_shape.count(p.a_dtype)) {
    return fmt::format("the cube has no {} mode", dtype_name(p.a_dtype));
  }
  const GemmFootprint f = gemm_footprint(p, t);
  auto over = [](const char* name, Bytes need, Bytes have) -> std::optional<std::string> {
    if (need > have) return fmt::format("{} needs {} B but holds {} B", name, need, have);
    return std::nullopt;
  };
  if (auto e = over("L1", f.l1, m.l1)) return e;
  if (auto e = over("L0A", f.l0a, m.l0a)) return e;
  if (auto e = over("L0B", f.l0b, m.l0b)) return e;
  if (auto e = over("L0C", f.l0c, m.l0c)) return e;
  return std::nullopt;
}

void emit_gemm(const GemmProblem& p, const GemmTiling& t, const MachineView& machine, std::uint32_t tag,
               arch::Program& program) {
  const double a_bytes = element_bytes(p.a_dtype);
  const double b_l1_bytes = stored_b_bytes_per_element(p);
  const double b_l0_bytes = element_bytes(p.b_dtype);
  const double c_bytes = element_bytes(p.c_dtype);
  const double acc_bytes = element_bytes(accumulator_dtype(p.a_dtype));

  const std::uint64_t m_blocks = ceil_div(p.m, t.bm);
  const std::uint64_t n_blocks = ceil_div(p.n, t.bn);
  const std::uint64_t k_panels = ceil_div(p.k, t.bk1);
  const std::uint64_t blocks = p.batch * m_blocks * n_blocks;
  const int cores = machine.cube_cores;

  // Buffer windows: two L1 slots, each holding an A panel then a B panel.
  const Bytes a_panel_max = bytes_of(std::uint64_t{t.bm} * t.bk1, a_bytes);
  const Bytes l1_slot = a_panel_max + bytes_of(std::uint64_t{t.bk1} * t.bn, b_l1_bytes);
  const Bytes l0a_slot = bytes_of(std::uint64_t{t.bm} * t.bk0, a_bytes);
  const Bytes l0b_slot = bytes_of(std::uint64_t{t.bk0} * t.bn, b_l0_bytes);
  const Bytes l0c_slot = bytes_of(std::uint64_t{t.bm} * t.bn, acc_bytes);
  const int l0c_slots = t.l0c_double_buffer ? 2 : 1;

  for (int core = 0; core < cores; ++core) {
    if (static_cast<std::uint64_t>(core) >= blocks) break;
    auto& code = program.cube_cores.at(core).instructions;
    // Every "free" event starts with one token per slot, so producers may
    // fill both slots before the first consumer has run.
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(set_flag(Pipe::mte1, Pipe::mte2, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(set_flag(Pipe::cube, Pipe::mte1, s, tag));
    for (int s = 0; s < l0c_slots; ++s) code.push_back(set_flag(Pipe::fixpipe, Pipe::cube, s, tag));

    std::uint64_t l1_turn = 0, l0_turn = 0, l0c_turn = 0;
    for (std::uint64_t block = core; block < blocks; block += cores) {
      const std::uint64_t b = block / (m_blocks * n_blocks);
      const std::uint64_t mi = (block / n_blocks) % m_blocks;
      const std::uint64_t ni = block % n_blocks;
      const std::uint32_t bm = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bm, p.m - mi * t.bm));
      const std::uint32_t bn = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bn, p.n - ni * t.bn));
      const std::uint64_t a_base = p.a_address + b * p.a_batch_stride;
      const std::uint64_t b_base = p.b_address + (b / std::max<std::uint64_t>(1, p.b_shared_by)) * p.b_batch_stride;
      const std::uint64_t c_base = p.c_address + b * p.c_batch_stride;

      const std::uint8_t acc_slot = static_cast<std::uint8_t>(l0c_turn++ % l0c_slots);
      code.push_back(wait_flag(Pipe::fixpipe, Pipe::cube, acc_slot, tag));
      for (std::uint64_t kp = 0; kp < k_panels; ++kp) {
        const std::uint32_t bk1 = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bk1, p.k - kp * t.bk1));
        const std::uint8_t s = static_cast<std::uint8_t>(l1_turn++ % 2);
        const std::uint32_t slot_offset = static_cast<std::uint32_t>(s * l1_slot);

        code.push_back(wait_flag(Pipe::mte1, Pipe::mte2, s, tag));
        Instruction load_a;
        load_a.op = Opcode::load;
        load_a.pipe = Pipe::mte2;
        load_a.src = Buffer::gm;
        load_a.dst = Buffer::l1;
        load_a.bytes = bytes_of(std::uint64_t{bm} * bk1, a_bytes);
        load_a.gm_address = a_base + bytes_of((mi * t.bm) * p.k + std::uint64_t{bm} * kp * t.bk1, a_bytes);
        load_a.dst_offset = slot_offset;
        load_a.dtype = p.a_dtype;
        load_a.op_tag = tag;
        code.push_back(load_a);
        Instruction load_b = load_a;
        load_b.bytes = bytes_of(std::uint64_t{bk1} * bn, b_l1_bytes);
        load_b.gm_address = b_base + bytes_of((ni * t.bn) * p.k + std::uint64_t{bn} * kp * t.bk1, b_l1_bytes);
        load_b.dst_offset = static_cast<std::uint32_t>(slot_offset + a_panel_max);
        load_b.dtype = p.b_dtype;
        code.push_back(load_b);
        code.push_back(set_flag(Pipe::mte2, Pipe::mte1, s, tag));

        code.push_back(wait_flag(Pipe::mte2, Pipe::mte1, s, tag));
        const std::uint64_t sub_tiles = ceil_div(bk1, t.bk0);
        for (std::uint64_t kt = 0; kt < sub_tiles; ++kt) {
          const std::uint32_t bk0 = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bk0, bk1 - kt * t.bk0));
          const std::uint8_t u = static_cast<std::uint8_t>(l0_turn++ % 2);
          code.push_back(wait_flag(Pipe::cube, Pipe::mte1, u, tag));
          Instruction to_l0a;
          to_l0a.op = Opcode::load_l0;
          to_l0a.pipe = Pipe::mte1;
          to_l0a.src = Buffer::l1;
          to_l0a.dst = Buffer::l0a;
          to_l0a.bytes = bytes_of(std::uint64_t{bm} * bk0, a_bytes);
          to_l0a.src_offset = static_cast<std::uint32_t>(slot_offset + bytes_of(std::uint64_t{bm} * kt * t.bk0, a_bytes));
          to_l0a.dst_offset = static_cast<std::uint32_t>(u * l0a_slot);
          to_l0a.dtype = p.a_dtype;
          to_l0a.op_tag = tag;
          code.push_back(to_l0a);
          Instruction to_l0b = to_l0a;
          to_l0b.dst = Buffer::l0b;
          // The L1 copy of B may be compressed; MTE1 reads the stored form
          // and L0B holds the operand the cube consumes.
          to_l0b.bytes = bytes_of(std::uint64_t{bk0} * bn, b_l0_bytes);
          to_l0b.src_offset = static_cast<std::uint32_t>(slot_offset + a_panel_max +
                                                         bytes_of(std::uint64_t{bn} * kt * t.bk0, b_l1_bytes));
          to_l0b.dst_offset = static_cast<std::uint32_t>(u * l0b_slot);
          to_l0b.dtype = p.b_dtype;
          code.push_back(to_l0b);
          if (kt + 1 == sub_tiles) code.push_back(set_flag(Pipe::mte1, Pipe::mte2, s, tag));
          code.push_back(set_flag(Pipe::mte1, Pipe::cube, u, tag));

          code.push_back(wait_flag(Pipe::mte1, Pipe::cube, u, tag));
          Instruction mmad;
          mmad.op = Opcode::mmad;
          mmad.pipe = Pipe::cube;
          mmad.m = bm;
          mmad.k = bk0;
          mmad.n = bn;
          mmad.dtype = p.a_dtype;
          mmad.sparsity = p.sparsity;
          mmad.accumulate = !(kp == 0 && kt == 0);
          mmad.src = Buffer::l0a;
          mmad.dst = Buffer::l0c;
          mmad.dst_offset = static_cast<std::uint32_t>(acc_slot * l0c_slot);
          mmad.bytes = l0c_slot;
          mmad.op_tag = tag;
          code.push_back(mmad);
          code.push_back(set_flag(Pipe::cube, Pipe::mte1, u, tag));
        }
      }
      code.push_back(set_flag(Pipe::cube, Pipe::fixpipe, acc_slot, tag));
      code.push_back(wait_flag(Pipe::cube, Pipe::fixpipe, acc_slot, tag));
      Instruction out;
      out.op = Opcode::fixpipe;
      out.pipe = Pipe::fixpipe;
      out.src = Buffer::l0c;
      out.dst = Buffer::gm;
      out.src_offset = static_cast<std::uint32_t>(acc_slot * l0c_slot);
      out.bytes = bytes_of(std::uint64_t{bm} * bn, c_bytes);
      out.gm_address = c_base + bytes_of(mi * t.bm * p.n + std::uint64_t{bm} * ni * t.bn, c_bytes);
      out.dtype = accumulator_dtype(p.a_dtype);
      out.out_dtype = p.c_dtype;
      out.op_tag = tag;
      code.push_back(out);
      code.push_back(set_flag(Pipe::fixpipe, Pipe::cube, acc_slot, tag));
    }
    // Consume the initial tokens so every event is balanced at the end.
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(wait_flag(Pipe::mte1, Pipe::mte2, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(wait_flag(Pipe::cube, Pipe::mte1, s, tag));
    for (int s = 0; s < l0c_slots; ++s) {
      code.push_back(wait_flag(Pipe::fixpipe, Pipe::cube, static_cast<std::uint8_t>(s), tag));
    }
  }
}

}  // namespace npusim::mapper
