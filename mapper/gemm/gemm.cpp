#include "mapper/gemm/gemm.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "mapper/flags.h"
#include "mapper/gemm/gemm_bias.h"
#include "mapper/gemm/gemm_expansion.h"

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

double l1_b_bytes_per_element(const GemmProblem& problem) {
  return problem.b_expanded_by_vector() ? element_bytes(problem.b_dtype) : stored_b_bytes_per_element(problem);
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
  return fmt::format("bm={} bn={} bk1={} bk0={}{}{}{}{}", bm, bn, bk1, bk0, l0c_double_buffer ? "" : " l0c-single",
                     a_resident ? " a-resident" : "", b_resident ? " b-resident" : "",
                     split_k > 1 ? fmt::format(" split-k={}", split_k) : std::string());
}

GemmFootprint gemm_footprint(const GemmProblem& p, const GemmTiling& t) {
  const double a_bytes = element_bytes(p.a_dtype);
  const double b_l1_bytes = l1_b_bytes_per_element(p);
  const double b_l0_bytes = element_bytes(p.b_dtype);
  const double acc_bytes = element_bytes(accumulator_dtype(p.a_dtype));
  GemmFootprint f;
  // A resident strip holds one K part's panels.
  const std::uint64_t strip_k = gemm_panels_per_part(p, t) * t.bk1;
  const Bytes a_l1 = t.a_resident ? bytes_of(std::uint64_t{t.bm} * strip_k, a_bytes)
                                  : 2 * bytes_of(std::uint64_t{t.bm} * t.bk1, a_bytes);
  const Bytes b_l1 = t.b_resident ? bytes_of(std::uint64_t{t.bn} * strip_k, b_l1_bytes)
                                  : 2 * bytes_of(std::uint64_t{t.bk1} * t.bn, b_l1_bytes);
  f.l1 = a_l1 + b_l1;
  f.l0a = 2 * bytes_of(std::uint64_t{t.bm} * t.bk0, a_bytes);
  f.l0b = 2 * bytes_of(std::uint64_t{t.bk0} * t.bn, b_l0_bytes);
  f.l0c = (t.l0c_double_buffer ? 2 : 1) * bytes_of(std::uint64_t{t.bm} * t.bn, acc_bytes);
  f.l1 += gemm_bias_l1_bytes(p, t);
  f.bias_table = gemm_bias_table_bytes(p, t);
  return f;
}

std::uint64_t gemm_panels_per_part(const GemmProblem& p, const GemmTiling& t) {
  return ceil_div(ceil_div(p.k, t.bk1), std::max<std::uint64_t>(1, t.split_k));
}

std::uint64_t gemm_work_items(const GemmProblem& p, const GemmTiling& t) {
  return p.batch * ceil_div(p.m, t.bm) * ceil_div(p.n, t.bn) * std::max<std::uint64_t>(1, t.split_k);
}

GemmBlock gemm_block_at(const GemmProblem& p, const GemmTiling& t, std::uint64_t index) {
  const std::uint64_t m_blocks = ceil_div(p.m, t.bm), n_blocks = ceil_div(p.n, t.bn);
  GemmBlock b;
  const std::uint64_t parts = std::max<std::uint64_t>(1, t.split_k);
  if (!t.a_resident && !t.b_resident) {
    // Dealt round-robin, part fastest: the cores running at once read the
    // consecutive K parts of one block's B, one contiguous run of GM, not
    // one part of many blocks at a block's stride (which piles every
    // core's reads onto the same DRAM banks).
    b.part = index % parts;
    index /= parts;
  } else {
    // Contiguous runs of one part's strips; strip indices run on across
    // parts, so a new part is a new strip.
    b.part = index / (p.batch * m_blocks * n_blocks);
  }
  b.batch = (index / (m_blocks * n_blocks)) % p.batch;
  if (t.b_resident) {
    b.mi = index % m_blocks;
    b.ni = (index / m_blocks) % n_blocks;
    b.strip = index / m_blocks;
  } else {
    b.ni = index % n_blocks;
    b.mi = (index / n_blocks) % m_blocks;
    b.strip = index / n_blocks;
  }
  return b;
}

VectorProblem gemm_output_zeroing(const GemmProblem& p) {
  VectorProblem z;
  z.elements = p.batch * p.m * p.n;
  z.in_bytes_per_element = 0;
  z.out_bytes_per_element = element_bytes(p.c_dtype);
  z.dtype = p.c_dtype;
  z.passes = {{arch::VectorOpKind::copy, 1.0}};  // a fill of UB with zeros
  z.out_address = p.c_address;
  return z;
}

std::vector<std::uint64_t> gemm_blocks_of_core(const GemmProblem& p, const GemmTiling& t, int cores, int core) {
  const std::uint64_t blocks = gemm_work_items(p, t);
  std::vector<std::uint64_t> out;
  if (!t.a_resident && !t.b_resident) {
    for (std::uint64_t b = static_cast<std::uint64_t>(core); b < blocks; b += static_cast<std::uint64_t>(cores)) out.push_back(b);
    return out;
  }
  // Contiguous runs balanced to within one block. With B resident, runs of
  // whole strips instead: a strip split between two cores would be fetched
  // by both, and B is the operand that may sit in a slow, uncached tier.
  const std::uint64_t c = static_cast<std::uint64_t>(cores), i = static_cast<std::uint64_t>(core);
  const std::uint64_t unit = t.b_resident ? ceil_div(p.m, t.bm) : 1, units = blocks / unit;
  const std::uint64_t begin = units * i / c * unit, end = units * (i + 1) / c * unit;
  for (std::uint64_t b = begin; b < end; ++b) out.push_back(b);
  return out;
}

std::optional<std::string> gemm_tiling_error(const GemmProblem& p, const GemmTiling& t, const MachineView& m) {
  if (t.bm == 0 || t.bn == 0 || t.bk0 == 0 || t.bk1 == 0) return std::string("tile sizes must be positive");
  if (t.bk1 % t.bk0 != 0) return fmt::format("bk0={} does not divide bk1={}", t.bk0, t.bk1);
  // A strip refills panel by panel over the previous strip (emit_gemm), which
  // is only safe when MTE1 is at least one panel ahead of the overwrite.
  if (t.a_resident && t.b_resident) return std::string("only one operand can be resident");
  if (t.split_k == 0) return std::string("split_k must be at least 1");
  const std::uint64_t k_panels = ceil_div(p.k, t.bk1), per_part = gemm_panels_per_part(p, t);
  if ((t.split_k - 1) * per_part >= k_panels) {
    return fmt::format("split_k={} leaves a part without K panels ({} panels of {})", t.split_k, k_panels, t.bk1);
  }
  // The fewest panels of any part: the last one's.
  const std::uint64_t least_panels = k_panels - (t.split_k - 1) * per_part;
  if (t.a_resident && least_panels < 2) return std::string("a-resident needs at least two K panels per part");
  if (t.b_resident && least_panels < 2) return std::string("b-resident needs at least two K panels per part");
  // Parts add raw partial sums into GM: a bias would be added once per part
  // and a ReLU would clip partial sums, so either needs the whole K in one L0C.
  if (t.split_k > 1 && p.bias_dtype) return std::string("split-K would add the bias once per part");
  if (t.split_k > 1 && p.relu) return std::string("split-K would apply FixPipe's ReLU to partial sums");
  if (t.split_k > 1 && p.batch > 1 && p.c_batch_stride != 0 &&
      static_cast<double>(p.c_batch_stride) != static_cast<double>(p.m * p.n) * element_bytes(p.c_dtype)) {
    return std::string("split-K zeroes the output as one run, which needs the batch's outputs contiguous");
  }
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
  if (auto e = over("the bias table", f.bias_table, m.bias_table)) return e;
  return std::nullopt;
}

void emit_gemm(const GemmProblem& p, const GemmTiling& t, const MachineView& machine, std::uint32_t tag,
               arch::Program& program) {
  const double a_bytes = element_bytes(p.a_dtype);
  // B as it sits in GM and as the AIC loads it: the same unless the AIVs
  // expand it through the workspace (gemm_expansion.h).
  const double b_gm_bytes = stored_b_bytes_per_element(p);
  const double b_l1_bytes = l1_b_bytes_per_element(p);
  const bool expanded = p.b_expanded_by_vector();
  const double b_l0_bytes = element_bytes(p.b_dtype);
  const double c_bytes = element_bytes(p.c_dtype);
  const double acc_bytes = element_bytes(accumulator_dtype(p.a_dtype));

  const std::uint64_t k_panels = ceil_div(p.k, t.bk1);
  const std::uint64_t per_part = gemm_panels_per_part(p, t);
  const int cores = machine.cube_cores;

  // L1 layout. Streamed: two slots, each an A panel then a B panel.
  // A-resident: the whole bm x K strip of A, then two B slots; B-resident:
  // the whole K x bn strip of B, then two A slots.
  const Bytes a_panel_max = bytes_of(std::uint64_t{t.bm} * t.bk1, a_bytes);
  const Bytes b_panel_max = bytes_of(std::uint64_t{t.bk1} * t.bn, b_l1_bytes);
  const Bytes a_strip = bytes_of(std::uint64_t{t.bm} * per_part * t.bk1, a_bytes);
  const Bytes b_strip = bytes_of(std::uint64_t{t.bn} * per_part * t.bk1, b_l1_bytes);
  const Bytes l1_slot = t.a_resident ? b_panel_max : t.b_resident ? a_panel_max : a_panel_max + b_panel_max;
  const Bytes l1_slots_base = t.a_resident ? a_strip : t.b_resident ? b_strip : 0;
  const Bytes b_in_slot = t.a_resident || t.b_resident ? 0 : a_panel_max;
  const Bytes l0a_slot = bytes_of(std::uint64_t{t.bm} * t.bk0, a_bytes);
  const Bytes l0b_slot = bytes_of(std::uint64_t{t.bk0} * t.bn, b_l0_bytes);
  const Bytes l0c_slot = bytes_of(std::uint64_t{t.bm} * t.bn, acc_bytes);
  const int l0c_slots = t.l0c_double_buffer ? 2 : 1;
  const auto l1_bias_slot = static_cast<std::uint32_t>(l1_slots_base + 2 * l1_slot);  // after the panel slots

  for (int core = 0; core < cores; ++core) {
    const std::vector<std::uint64_t> mine = gemm_blocks_of_core(p, t, cores, core);
    if (mine.empty()) continue;
    auto& code = program.cube_cores.at(core).instructions;
    // A decode GEMV deals thousands of narrow blocks to a core; growing the
    // vector by doubling would copy its instructions many times over.
    const std::uint64_t sub_tiles = ceil_div(std::min<std::uint64_t>(t.bk1, p.k), t.bk0);
    code.reserve(code.size() + mine.size() * (per_part * (5 + 8 * sub_tiles) + 6) + 16);
    // Every "free" event starts with one token per slot, so producers may
    // fill both slots before the first consumer has run.
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(set_flag(Pipe::mte1, Pipe::mte2, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(set_flag(Pipe::cube, Pipe::mte1, s, tag));
    for (int s = 0; s < l0c_slots; ++s) code.push_back(set_flag(Pipe::fixpipe, Pipe::cube, s, tag));
    if (p.bias_dtype) emit_bias_tokens(code, tag);
    if (expanded) emit_expansion_tokens(machine, tag, code);
    std::vector<ExpandedPanel> expanded_panels;

    std::uint64_t l1_turn = 0, l0_turn = 0, l0c_turn = 0;
    std::uint64_t strip = ~std::uint64_t{0};  // the resident operand's strip
    for (std::size_t bi = 0; bi < mine.size(); ++bi) {
      const GemmBlock at = gemm_block_at(p, t, mine[bi]);
      const std::uint64_t b = at.batch, mi = at.mi, ni = at.ni;
      const std::uint32_t bm = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bm, p.m - mi * t.bm));
      const std::uint32_t bn = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bn, p.n - ni * t.bn));
      const std::uint64_t a_base = p.a_address + b * p.a_batch_stride;
      const std::uint64_t b_base = p.b_address + (b / std::max<std::uint64_t>(1, p.b_shared_by)) * p.b_batch_stride;
      const std::uint64_t c_base = p.c_address + b * p.c_batch_stride;

      // A new strip of the resident operand arrives panel by panel with the
      // first block's streamed panels, through the same slot flags, so the
      // refill overlaps compute. Overwriting panel kp is safe: the slot wait
      // below means MTE1 has finished turn l1_turn - 2, which is at or after
      // the old strip's read of panel kp since a strip has at least two
      // panels (gemm_tiling_error).
      const bool new_strip = (t.a_resident || t.b_resident) && at.strip != strip;
      strip = at.strip;
      if (p.bias_dtype) emit_bias_load(code, p, t, ni, bn, l1_bias_slot, tag);
      const std::uint8_t acc_slot = static_cast<std::uint8_t>(l0c_turn++ % l0c_slots);
      code.push_back(wait_flag(Pipe::fixpipe, Pipe::cube, acc_slot, tag));
      const std::uint64_t kp_begin = at.part * per_part, kp_end = std::min(k_panels, kp_begin + per_part);
      for (std::uint64_t kp = kp_begin; kp < kp_end; ++kp) {
        const std::uint32_t bk1 = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bk1, p.k - kp * t.bk1));
        const std::uint8_t s = static_cast<std::uint8_t>(l1_turn++ % 2);
        const std::uint32_t slot_offset = static_cast<std::uint32_t>(l1_slots_base + s * l1_slot);
        // Where this panel's A sits in L1.
        const std::uint64_t a_l1 =
            t.a_resident ? bytes_of(std::uint64_t{t.bm} * (kp - kp_begin) * t.bk1, a_bytes) : slot_offset;
        const std::uint64_t b_l1 =
            t.b_resident ? bytes_of(std::uint64_t{t.bn} * (kp - kp_begin) * t.bk1, b_l1_bytes) : slot_offset + b_in_slot;

        code.push_back(wait_flag(Pipe::mte1, Pipe::mte2, s, tag));
        Instruction load_b;
        load_b.op = Opcode::load;
        load_b.pipe = Pipe::mte2;
        load_b.src = Buffer::gm;
        load_b.dst = Buffer::l1;
        load_b.op_tag = tag;
        if (!t.a_resident || new_strip) {
          Instruction load_a = load_b;
          load_a.bytes = bytes_of(std::uint64_t{bm} * bk1, a_bytes);
          load_a.gm_address = a_base + bytes_of((mi * t.bm) * p.k + std::uint64_t{bm} * kp * t.bk1, a_bytes);
          load_a.dst_offset = static_cast<std::uint32_t>(a_l1);
          load_a.dtype = p.a_dtype;
          code.push_back(load_a);
        }
        if (!t.b_resident || new_strip) {
          load_b.bytes = bytes_of(std::uint64_t{bk1} * bn, b_l1_bytes);
          load_b.gm_address = b_base + bytes_of((ni * t.bn) * p.k + std::uint64_t{bn} * kp * t.bk1, b_gm_bytes);
          load_b.dst_offset = static_cast<std::uint32_t>(b_l1);
          load_b.dtype = p.b_dtype;
          if (expanded) {
            ExpandedPanel panel;
            panel.stored_address = load_b.gm_address;
            panel.elements = std::uint64_t{bk1} * bn;
            panel.slot_address = expansion_slot_address(p, machine, core, expanded_panels.size(),
                                                        bytes_of(std::uint64_t{t.bk1} * t.bn, b_l1_bytes));
            emit_expanded_panel_load(machine, panel, load_b, tag, code);
            expanded_panels.push_back(panel);
          } else {
            code.push_back(load_b);
          }
        }
        code.push_back(set_flag(Pipe::mte2, Pipe::mte1, s, tag));

        code.push_back(wait_flag(Pipe::mte2, Pipe::mte1, s, tag));
        const std::uint64_t sub_tiles = ceil_div(bk1, t.bk0);
        for (std::uint64_t kt = 0; kt < sub_tiles; ++kt) {
          const std::uint32_t bk0 = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bk0, bk1 - kt * t.bk0));
          const std::uint8_t u = static_cast<std::uint8_t>(l0_turn++ % 2);
          code.push_back(wait_flag(Pipe::cube, Pipe::mte1, u, tag));
          const Instruction to_l0a = load_l0_instruction(
              Buffer::l0a, bytes_of(std::uint64_t{bm} * bk0, a_bytes),
              static_cast<std::uint32_t>(a_l1 + bytes_of(std::uint64_t{bm} * kt * t.bk0, a_bytes)),
              static_cast<std::uint32_t>(u * l0a_slot), p.a_dtype, tag);
          code.push_back(to_l0a);
          Instruction to_l0b = to_l0a;
          to_l0b.dst = Buffer::l0b;
          // The L1 copy of B may be compressed; MTE1 reads the stored form
          // and L0B holds the operand the cube consumes.
          to_l0b.bytes = bytes_of(std::uint64_t{bk0} * bn, b_l0_bytes);
          to_l0b.src_offset =
              static_cast<std::uint32_t>(b_l1 + bytes_of(std::uint64_t{bn} * kt * t.bk0, b_l1_bytes));
          to_l0b.dst_offset = static_cast<std::uint32_t>(u * l0b_slot);
          to_l0b.dtype = p.b_dtype;
          code.push_back(to_l0b);
          if (kt + 1 == sub_tiles) {
            code.push_back(set_flag(Pipe::mte1, Pipe::mte2, s, tag));
          }
          code.push_back(set_flag(Pipe::mte1, Pipe::cube, u, tag));

          code.push_back(wait_flag(Pipe::mte1, Pipe::cube, u, tag));
          MmadOperands mmad;
          mmad.m = bm;
          mmad.k = bk0;
          mmad.n = bn;
          mmad.dtype = p.a_dtype;
          mmad.sparsity = p.sparsity;
          mmad.accumulate = !(kp == kp_begin && kt == 0);
          mmad.l0a_offset = static_cast<std::uint32_t>(u * l0a_slot);
          mmad.l0b_offset = static_cast<std::uint32_t>(u * l0b_slot);
          mmad.l0c_offset = static_cast<std::uint32_t>(acc_slot * l0c_slot);
          mmad.l0c_bytes = l0c_slot;
          if (p.bias_dtype && !mmad.accumulate) {
            emit_biased_mmad(code, mmad_instruction(mmad, tag), tag);
          } else {
            code.push_back(mmad_instruction(mmad, tag));
          }
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
      out.relu = p.relu;
      out.atomic_add = t.split_k > 1;
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
    if (p.bias_dtype) drain_bias_tokens(code, tag);
    if (expanded) emit_b_expansion(p, expanded_panels, machine, core, tag, program);
  }
}

}  // namespace npusim::mapper
