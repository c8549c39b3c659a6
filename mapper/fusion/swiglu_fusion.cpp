#include "mapper/fusion/swiglu_fusion.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "mapper/flags.h"
#include "mapper/fusion/cube_tile.h"
#include "mapper/fusion/fused_fit.h"
#include "mapper/fusion/workspace.h"

namespace npusim::mapper {
namespace {

using arch::Buffer;
using arch::Instruction;
using arch::Opcode;
using arch::Pipe;
using arch::VectorOpKind;

// Local events, one id per resource (credits count the slots): L1 panel
// slots (mte1 <-> mte2), accumulator pairs (cube <-> fixpipe), the vector
// side's input slots (vector <-> where tiles arrive from) and output slots
// (vector <-> mte3). Cross-core id 0: AIC -> AIV "tiles ready", AIV -> AIC
// "workspace slot free".
constexpr std::uint8_t kPanelEvent = 0, kAccEvent = 0, kTileEvent = 0, kOutEvent = 0, kCrossTiles = 0;
constexpr int kSlots = 2;

double bytes_per(DType t) { return dtype_bits(t) / 8.0; }
Bytes bytes_of(std::uint64_t elements, double per) {
  return static_cast<Bytes>(std::ceil(static_cast<double>(elements) * per));
}
Bytes align32(Bytes b) { return round_up(b, 32); }
Instruction flag(Opcode op, Pipe src, Pipe dst, std::uint8_t id, std::uint32_t tag) {
  return flag_instruction(op, src, dst, id, tag);
}
Instruction cross(Opcode op, Pipe pipe, int partner, std::uint32_t tag) {
  return cross_flag_instruction(op, pipe, partner, kCrossTiles, tag);
}

struct Layout {
  double a_bytes, b_bytes, c_bytes;
  int workers;
  std::uint32_t worker_rows;
  bool split;
  Bytes a_panel, b_panel, l1_slot, l1_total;
  Bytes acc, l0c_total;
  Bytes ub_tile, ub_in_slot, ub_out_slot, ub_total;  // per worker
  Bytes ws_tile, ws_slot, ws_total;                   // per core
};

Layout layout_of(const SwigluProblem& p, const SwigluTiling& t, const MachineView& m) {
  Layout l{};
  l.a_bytes = bytes_per(p.gate.a_dtype);
  l.b_bytes = std::max(stored_b_bytes_per_element(p.gate), stored_b_bytes_per_element(p.up));
  l.c_bytes = bytes_per(p.gate.c_dtype);
  l.split = m.split_cores;
  l.workers = m.split_cores ? std::max(1, m.vector_cores / std::max(1, m.cube_cores)) : 1;
  l.worker_rows = static_cast<std::uint32_t>(ceil_div(t.bm, static_cast<std::uint64_t>(l.workers)));
  l.a_panel = align32(bytes_of(std::uint64_t{t.bm} * t.bk1, l.a_bytes));
  l.b_panel = align32(bytes_of(std::uint64_t{t.bk1} * t.bn, l.b_bytes));
  l.l1_slot = l.a_panel + 2 * l.b_panel;
  l.l1_total = kSlots * l.l1_slot;
  l.acc = cube_tile_l0c_bytes(t.bm, t.bn);
  l.l0c_total = static_cast<Bytes>(t.l0c_slots) * 2 * l.acc;
  l.ub_tile = align32(bytes_of(std::uint64_t{l.worker_rows} * t.bn, l.c_bytes));
  l.ub_in_slot = 2 * l.ub_tile;
  l.ub_out_slot = l.ub_tile;
  l.ub_total = kSlots * (l.ub_in_slot + l.ub_out_slot);
  l.ws_tile = l.split ? align32(bytes_of(std::uint64_t{t.bm} * t.bn, l.c_bytes)) : 0;
  l.ws_slot = 2 * l.ws_tile;
  l.ws_total = kSlots * l.ws_slot;
  return l;
}

}  // namespace

std::string SwigluTiling::describe() const {
  return fmt::format("fused gate/up+swiglu bm={} bn={} bk1={}{}", bm, bn, bk1, l0c_slots == 1 ? " l0c-single" : "");
}

std::optional<std::string> swiglu_tiling_error(const SwigluProblem& p, const SwigluTiling& t, const MachineView& m) {
  if (t.bm == 0 || t.bn == 0 || t.bk1 == 0) return std::string("fused SwiGLU tile sizes must be positive");
  if (!m.cube_shape.count(p.gate.a_dtype)) return fmt::format("the cube has no {} mode", dtype_name(p.gate.a_dtype));
  const Layout l = layout_of(p, t, m);
  const auto chunk = static_cast<Bytes>(static_cast<double>(t.bm) * 16 * l.a_bytes);
  return fused_overflow(t.describe(), {l.l1_total, l.l0c_total, l.ub_total, l.ws_total, chunk}, m);
}

SwigluTiling choose_swiglu_tiling(const SwigluProblem& p, const GemmTiling& g, const MachineView& m) {
  SwigluTiling t;
  t.bm = static_cast<std::uint32_t>(std::min<std::uint64_t>(g.bm, p.gate.m));
  t.bn = static_cast<std::uint32_t>(std::min<std::uint64_t>(g.bn, p.gate.n));
  t.bk1 = static_cast<std::uint32_t>(std::min<std::uint64_t>(g.bk1, p.gate.k));
  t.l0c_slots = g.l0c_double_buffer ? 2 : 1;
  // Shrink whatever overflows: first the accumulators' double buffer, then
  // the panel depth, then the block, keeping multiples of 16.
  for (int guard = 0; guard < 64; ++guard) {
    const auto error = swiglu_tiling_error(p, t, m);
    if (!error) return t;
    if (t.l0c_slots == 2 && error->find("L0C") != std::string::npos) {
      t.l0c_slots = 1;
    } else if (t.bk1 > 64 && error->find("L1") != std::string::npos) {
      t.bk1 /= 2;
    } else if (t.bn > 16 && t.bn >= t.bm) {
      t.bn = std::max<std::uint32_t>(16, t.bn / 2);
    } else if (t.bm > 16) {
      t.bm = std::max<std::uint32_t>(16, t.bm / 2);
    } else {
      throw InputError("fused SwiGLU: no tiling fits the machine; the smallest fails with " + *error);
    }
  }
  throw InputError("fused SwiGLU: no tiling fits the machine");
}

double estimate_swiglu_seconds(const SwigluProblem& p, const SwigluTiling& t, const MachineView& m) {
  const Layout l = layout_of(p, t, m);
  const double flops = 4.0 * static_cast<double>(p.gate.m * p.gate.k * p.gate.n);
  const double cube = flops / std::max(1.0, m.peak_flops(p.gate.a_dtype));
  const double n_blocks = static_cast<double>(ceil_div(p.gate.n, t.bn)), m_blocks = static_cast<double>(ceil_div(p.gate.m, t.bm));
  const double bytes = n_blocks * static_cast<double>(p.gate.m * p.gate.k) * l.a_bytes +
                       m_blocks * 2.0 * static_cast<double>(p.gate.k * p.gate.n) * l.b_bytes +
                       static_cast<double>(p.gate.m * p.gate.n) * p.out_bytes_per_element;
  const double path = bytes / (m.gm_read_Bpc * m.core_clock_hz * std::max(1, m.cube_cores));
  const double hbm = m.hbm_Bps > 0 ? m_blocks * 2.0 * static_cast<double>(p.gate.k * p.gate.n) * l.b_bytes / m.hbm_Bps : 0;
  return std::max({cube, path, hbm});
}

void emit_fused_swiglu(const SwigluProblem& p, const SwigluTiling& t, const MachineView& m,
                       std::uint64_t workspace_address, std::uint32_t tag, arch::Program& program) {
  if (auto error = swiglu_tiling_error(p, t, m)) throw InputError(*error);
  const Layout l = layout_of(p, t, m);
  const std::uint64_t m_blocks = ceil_div(p.gate.m, t.bm), n_blocks = ceil_div(p.gate.n, t.bn);
  const std::uint64_t k_panels = ceil_div(p.gate.k, t.bk1);
  const std::uint64_t blocks = m_blocks * n_blocks;
  const auto cores = static_cast<std::uint64_t>(m.cube_cores);
  const Pipe arrival = l.split ? Pipe::mte2 : Pipe::fixpipe;
  const auto u32 = [](Bytes b) { return static_cast<std::uint32_t>(b); };

  for (std::uint64_t core = 0; core < cores && core < blocks; ++core) {
    auto& a = program.cube_cores.at(core).instructions;
    std::vector<std::vector<Instruction>*> workers;
    for (int w = 0; w < l.workers; ++w) {
      workers.push_back(l.split ? &program.vector_cores.at(core * static_cast<std::uint64_t>(l.workers) +
                                                           static_cast<std::uint64_t>(w)).instructions
                                : &a);
    }
    const std::uint64_t ws = workspace_address + core * fusion_workspace_per_core(m);
    for (int s = 0; s < kSlots; ++s) {
      a.push_back(flag(Opcode::set_flag, Pipe::mte1, Pipe::mte2, kPanelEvent, tag));
      a.push_back(flag(Opcode::set_flag, Pipe::cube, Pipe::mte1, kL0FreeEvent, tag));
    }
    for (int s = 0; s < t.l0c_slots; ++s) a.push_back(flag(Opcode::set_flag, Pipe::fixpipe, Pipe::cube, kAccEvent, tag));
    for (int w = 0; w < l.workers; ++w) {
      auto& v = *workers[static_cast<std::size_t>(w)];
      for (int s = 0; s < kSlots; ++s) {
        v.push_back(flag(Opcode::set_flag, Pipe::vector, arrival, kTileEvent, tag));
        v.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::vector, kOutEvent, tag));
        if (l.split) v.push_back(cross(Opcode::cross_set, Pipe::mte2, 0, tag));
      }
    }

    std::uint64_t l1_turn = 0, l0_turn = 0, turn = 0;
    for (std::uint64_t block = core; block < blocks; block += cores, ++turn) {
      const std::uint64_t mi = block / n_blocks, ni = block % n_blocks;
      const auto bm = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bm, p.gate.m - mi * t.bm));
      const auto bn = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bn, p.gate.n - ni * t.bn));
      const Bytes acc = (turn % static_cast<std::uint64_t>(t.l0c_slots)) * 2 * l.acc;
      a.push_back(flag(Opcode::wait_flag, Pipe::fixpipe, Pipe::cube, kAccEvent, tag));
      for (std::uint64_t kp = 0; kp < k_panels; ++kp) {
        const auto bk1 = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bk1, p.gate.k - kp * t.bk1));
        const Bytes slot = (l1_turn++ % kSlots) * l.l1_slot;
        a.push_back(flag(Opcode::wait_flag, Pipe::mte1, Pipe::mte2, kPanelEvent, tag));
        Instruction load;
        load.op = Opcode::load;
        load.pipe = Pipe::mte2;
        load.src = Buffer::gm;
        load.dst = Buffer::l1;
        load.op_tag = tag;
        load.dtype = p.gate.a_dtype;
        load.bytes = bytes_of(std::uint64_t{bm} * bk1, l.a_bytes);
        load.gm_address = p.gate.a_address + bytes_of(mi * t.bm * p.gate.k + std::uint64_t{bm} * kp * t.bk1, l.a_bytes);
        load.dst_offset = u32(slot);
        a.push_back(load);
        for (const GemmProblem* g : {&p.gate, &p.up}) {
          const double b_bytes = stored_b_bytes_per_element(*g);
          load.dtype = g->b_dtype;
          load.bytes = bytes_of(std::uint64_t{bk1} * bn, b_bytes);
          load.gm_address = g->b_address + bytes_of(ni * t.bn * g->k + std::uint64_t{bn} * kp * t.bk1, b_bytes);
          load.dst_offset = u32(slot + l.a_panel + (g == &p.up ? l.b_panel : 0));
          a.push_back(load);
        }
        a.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::mte1, kPanelEvent, tag));
        a.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::mte1, kPanelEvent, tag));
        for (const GemmProblem* g : {&p.gate, &p.up}) {
          CubeTile tile;
          tile.m = bm;
          tile.k = bk1;
          tile.n = bn;
          tile.a_dtype = g->a_dtype;
          tile.b_dtype = g->b_dtype;
          tile.b_l1_bytes = stored_b_bytes_per_element(*g);
          tile.a_l1 = u32(slot);
          tile.b_l1 = u32(slot + l.a_panel + (g == &p.up ? l.b_panel : 0));
          tile.l0c = u32(acc + (g == &p.up ? l.acc : 0));
          tile.accumulate = kp > 0;
          emit_cube_tile(tile, m, l0_turn, tag, a);
        }
        a.push_back(flag(Opcode::set_flag, Pipe::mte1, Pipe::mte2, kPanelEvent, tag));
      }
      a.push_back(flag(Opcode::set_flag, Pipe::cube, Pipe::fixpipe, kAccEvent, tag));
      a.push_back(flag(Opcode::wait_flag, Pipe::cube, Pipe::fixpipe, kAccEvent, tag));
      const std::uint64_t io_slot = turn % kSlots;
      for (int w = 0; w < l.workers; ++w) {
        const std::uint64_t row0 = std::uint64_t{l.worker_rows} * static_cast<std::uint64_t>(w);
        if (row0 >= bm) continue;
        const auto rows = static_cast<std::uint32_t>(std::min<std::uint64_t>(l.worker_rows, bm - row0));
        const Bytes c_bytes = bytes_of(std::uint64_t{rows} * bn, l.c_bytes);
        const Bytes in_ub = l.split ? 0 : io_slot * l.ub_in_slot;  // coupled: the core's own UB
        if (l.split) {
          a.push_back(cross(Opcode::cross_wait, Pipe::fixpipe, 1 + w, tag));
        } else {
          a.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::fixpipe, kTileEvent, tag));
        }
        for (int which = 0; which < 2; ++which) {
          Instruction out;
          out.op = l.split ? Opcode::fixpipe : Opcode::move_l0c_ub;
          out.pipe = Pipe::fixpipe;
          out.src = Buffer::l0c;
          out.dst = l.split ? Buffer::gm : Buffer::ub;
          out.src_offset = u32(acc + static_cast<Bytes>(which) * l.acc + row0 * bn * 4);
          out.bytes = c_bytes;
          out.gm_address = l.split ? ws + io_slot * l.ws_slot + static_cast<Bytes>(which) * l.ws_tile +
                                         bytes_of(row0 * bn, l.c_bytes)
                                   : 0;
          out.dst_offset = l.split ? 0 : u32(in_ub + static_cast<Bytes>(which) * l.ub_tile);
          out.dtype = accumulator_dtype(p.gate.a_dtype);
          out.out_dtype = p.gate.c_dtype;
          out.op_tag = tag;
          a.push_back(out);
        }
        if (l.split) {
          a.push_back(cross(Opcode::cross_set, Pipe::fixpipe, 1 + w, tag));
        } else {
          a.push_back(flag(Opcode::set_flag, Pipe::fixpipe, Pipe::vector, kTileEvent, tag));
        }

        // The vector side: silu(gate) * up on its rows.
        auto& v = *workers[static_cast<std::size_t>(w)];
        const Bytes gate_ub = io_slot * l.ub_in_slot, up_ub = gate_ub + l.ub_tile;
        const Bytes out_ub = kSlots * l.ub_in_slot + io_slot * l.ub_out_slot;
        if (l.split) {
          v.push_back(cross(Opcode::cross_wait, Pipe::mte2, 0, tag));
          v.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte2, kTileEvent, tag));
          for (int which = 0; which < 2; ++which) {
            Instruction in;
            in.op = Opcode::load;
            in.pipe = Pipe::mte2;
            in.src = Buffer::gm;
            in.dst = Buffer::ub;
            in.bytes = c_bytes;
            in.gm_address = ws + io_slot * l.ws_slot + static_cast<Bytes>(which) * l.ws_tile + bytes_of(row0 * bn, l.c_bytes);
            in.dst_offset = u32(which == 0 ? gate_ub : up_ub);
            in.dtype = p.gate.c_dtype;
            in.op_tag = tag;
            v.push_back(in);
          }
          v.push_back(cross(Opcode::cross_set, Pipe::mte2, 0, tag));
          v.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::vector, kTileEvent, tag));
        }
        v.push_back(flag(Opcode::wait_flag, arrival, Pipe::vector, kTileEvent, tag));
        const std::uint64_t e = std::uint64_t{rows} * bn;
        Instruction op;
        op.op = Opcode::vector_op;
        op.pipe = Pipe::vector;
        op.src = Buffer::ub;
        op.dst = Buffer::ub;
        op.dtype = p.gate.c_dtype;
        op.out_dtype = p.gate.c_dtype;
        op.elements = e;
        op.op_tag = tag;
        op.vector_kind = VectorOpKind::silu;
        op.src_offset = op.dst_offset = u32(gate_ub);
        v.push_back(op);
        v.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::vector, kOutEvent, tag));
        op.vector_kind = VectorOpKind::mul;
        op.src_offset = u32(up_ub);
        op.dst_offset = u32(out_ub);
        v.push_back(op);
        if (p.quantize) {
          op.vector_kind = VectorOpKind::quantize;
          op.src_offset = u32(out_ub);
          op.out_dtype = p.out_dtype;
          v.push_back(op);
        }
        v.push_back(flag(Opcode::set_flag, Pipe::vector, arrival, kTileEvent, tag));
        v.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte3, kOutEvent, tag));
        v.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte3, kOutEvent, tag));
        const std::uint64_t out_at =
            p.out_address +
            bytes_of(mi * t.bm * p.gate.n + std::uint64_t{bm} * ni * t.bn + row0 * bn, p.out_bytes_per_element);
        v.push_back(gm_transfer_instruction(Opcode::store, out_at, bytes_of(e, p.out_bytes_per_element), Buffer::ub,
                                            u32(out_ub), p.out_dtype, tag));
        v.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::vector, kOutEvent, tag));
      }
      a.push_back(flag(Opcode::set_flag, Pipe::fixpipe, Pipe::cube, kAccEvent, tag));
    }

    for (int s = 0; s < kSlots; ++s) {
      a.push_back(flag(Opcode::wait_flag, Pipe::mte1, Pipe::mte2, kPanelEvent, tag));
      a.push_back(flag(Opcode::wait_flag, Pipe::cube, Pipe::mte1, kL0FreeEvent, tag));
    }
    for (int s = 0; s < t.l0c_slots; ++s) a.push_back(flag(Opcode::wait_flag, Pipe::fixpipe, Pipe::cube, kAccEvent, tag));
    for (int w = 0; w < l.workers; ++w) {
      auto& v = *workers[static_cast<std::size_t>(w)];
      for (int s = 0; s < kSlots; ++s) {
        v.push_back(flag(Opcode::wait_flag, Pipe::vector, arrival, kTileEvent, tag));
        v.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::vector, kOutEvent, tag));
        if (l.split) a.push_back(cross(Opcode::cross_wait, Pipe::fixpipe, 1 + w, tag));
      }
    }
  }
}

}  // namespace npusim::mapper
