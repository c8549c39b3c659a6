#include "mapper/dataflow/stage_gemm.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "mapper/flags.h"
#include "mapper/gemm/gemm.h"

namespace npusim::mapper {
namespace {

using arch::Buffer;
using arch::Instruction;
using arch::Opcode;
using arch::Pipe;

Bytes bytes_of(std::uint64_t elements, double per) { return static_cast<Bytes>(std::ceil(elements * per)); }
double b_bytes(const StageGemm& g) { return g.b_stored_bits > 0 ? g.b_stored_bits / 8.0 : element_bytes(g.b_dtype); }
Instruction flag(Opcode op, Pipe src, Pipe dst, std::uint8_t id, std::uint32_t tag) {
  return flag_instruction(op, src, dst, id, tag);
}
constexpr std::uint8_t kWeights = 2;  // MTE2 -> MTE1: the resident slice is loaded

}  // namespace

StageGemmFit fit_stage_gemm(const StageGemm& g, const MachineView& m) {
  StageGemmFit fit;
  const std::uint64_t slice = round_up(ceil_div(g.n, static_cast<std::uint64_t>(g.cores)), 16);
  const double a = element_bytes(g.a_dtype), b = b_bytes(g), acc = element_bytes(accumulator_dtype(g.a_dtype));
  const Bytes resident = bytes_of(slice * round_up(g.k, 16), b);
  for (std::uint32_t bk1 : {512u, 256u, 128u, 64u, 32u}) {
    const Bytes a_panels = 2 * bytes_of(g.rows * bk1, a);
    if (resident + a_panels > m.l1) continue;
    for (std::uint32_t bn : {256u, 192u, 128u, 96u, 64u, 32u, 16u}) {
      if (bn > slice && bn != 16) continue;
      if (2 * bytes_of(g.rows * bn, acc) > m.l0c) continue;
      for (std::uint32_t bk0 : {128u, 64u, 32u, 16u}) {
        if (bk1 % bk0 != 0) continue;
        if (2 * bytes_of(g.rows * bk0, a) > m.l0a || 2 * bytes_of(std::uint64_t{bk0} * bn, element_bytes(g.b_dtype)) > m.l0b) continue;
        fit.tiling = StageGemmTiling{static_cast<std::uint32_t>(slice), bn, bk1, bk0};
        return fit;
      }
    }
  }
  fit.reason = fmt::format("a {}x{} weight slice per core ({} B over {} cores) plus two {}-row activation panels does "
                           "not fit L1 ({} B)",
                           g.k, slice, resident, g.cores, g.rows, m.l1);
  return fit;
}

void emit_stage_gemm(const StageGemm& g, const StageGemmTiling& t, const MachineView& machine, std::uint32_t tag,
                     arch::Program& program) {
  const double a = element_bytes(g.a_dtype), b = b_bytes(g), c = element_bytes(g.c_dtype);
  const double acc = element_bytes(accumulator_dtype(g.a_dtype));
  const std::uint64_t k_panels = ceil_div(g.k, t.bk1);
  const Bytes resident = bytes_of(std::uint64_t{t.slice} * round_up(g.k, 16), b);
  const Bytes a_slot = bytes_of(g.rows * t.bk1, a);
  const Bytes l0a_slot = bytes_of(g.rows * t.bk0, a);
  const Bytes l0b_slot = bytes_of(std::uint64_t{t.bk0} * t.bn, element_bytes(g.b_dtype));
  const Bytes l0c_slot = bytes_of(g.rows * t.bn, acc);
  const auto rows = static_cast<std::uint32_t>(g.rows);
  (void)machine;

  for (int i = 0; i < g.cores; ++i) {
    const std::uint64_t col0 = std::uint64_t{t.slice} * static_cast<std::uint64_t>(i);
    if (col0 >= g.n) break;
    const std::uint64_t width = std::min<std::uint64_t>(t.slice, g.n - col0);
    auto& code = program.cube_cores.at(static_cast<std::size_t>(g.first_core + i)).instructions;
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::set_flag, Pipe::mte1, Pipe::mte2, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::set_flag, Pipe::cube, Pipe::mte1, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::set_flag, Pipe::fixpipe, Pipe::cube, s, tag));

    // The weight slice, once (blocked layout: a column slice is contiguous).
    Instruction load_w;
    load_w.op = Opcode::load;
    load_w.pipe = Pipe::mte2;
    load_w.src = Buffer::gm;
    load_w.dst = Buffer::l1;
    load_w.bytes = bytes_of(width * g.k, b);
    load_w.gm_address = g.b_address + bytes_of(col0 * g.k, b);
    load_w.dst_offset = 0;
    load_w.dtype = g.b_dtype;
    load_w.op_tag = tag;
    code.push_back(load_w);
    code.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::mte1, kWeights, tag));
    code.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::mte1, kWeights, tag));

    std::uint64_t l1_turn = 0, l0_turn = 0, acc_turn = 0;
    for (std::uint64_t mb = 0; mb < g.micro_batches; ++mb) {
      for (std::uint64_t j = 0; j * t.bn < width; ++j) {
        const auto bn = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bn, width - j * t.bn));
        const auto acc_slot = static_cast<std::uint8_t>(acc_turn++ % 2);
        code.push_back(flag(Opcode::wait_flag, Pipe::fixpipe, Pipe::cube, acc_slot, tag));
        for (std::uint64_t kp = 0; kp < k_panels; ++kp) {
          const auto bk1 = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bk1, g.k - kp * t.bk1));
          const auto s = static_cast<std::uint8_t>(l1_turn++ % 2);
          const auto slot = static_cast<std::uint32_t>(resident + s * a_slot);
          code.push_back(flag(Opcode::wait_flag, Pipe::mte1, Pipe::mte2, s, tag));
          Instruction load_a = load_w;
          load_a.bytes = bytes_of(g.rows * bk1, a);
          load_a.gm_address = g.in_base + mb * g.in_stride + bytes_of(g.rows * kp * t.bk1, a);
          load_a.dst_offset = slot;
          load_a.dtype = g.a_dtype;
          code.push_back(load_a);
          code.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::mte1, s, tag));
          code.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::mte1, s, tag));
          const std::uint64_t sub = ceil_div(bk1, t.bk0);
          for (std::uint64_t kt = 0; kt < sub; ++kt) {
            const auto bk0 = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bk0, bk1 - kt * t.bk0));
            const auto u = static_cast<std::uint8_t>(l0_turn++ % 2);
            code.push_back(flag(Opcode::wait_flag, Pipe::cube, Pipe::mte1, u, tag));
            const Instruction to_a = load_l0_instruction(
                Buffer::l0a, bytes_of(std::uint64_t{rows} * bk0, a),
                static_cast<std::uint32_t>(slot + bytes_of(std::uint64_t{rows} * kt * t.bk0, a)),
                static_cast<std::uint32_t>(u * l0a_slot), g.a_dtype, tag);
            code.push_back(to_a);
            Instruction to_b = to_a;
            to_b.dst = Buffer::l0b;
            to_b.bytes = bytes_of(std::uint64_t{bk0} * bn, element_bytes(g.b_dtype));
            to_b.src_offset = static_cast<std::uint32_t>(
                bytes_of((j * t.bn) * g.k + std::uint64_t{bn} * (kp * t.bk1 + kt * t.bk0), b));
            to_b.dst_offset = static_cast<std::uint32_t>(u * l0b_slot);
            to_b.dtype = g.b_dtype;
            code.push_back(to_b);
            if (kt + 1 == sub) code.push_back(flag(Opcode::set_flag, Pipe::mte1, Pipe::mte2, s, tag));
            code.push_back(flag(Opcode::set_flag, Pipe::mte1, Pipe::cube, u, tag));
            code.push_back(flag(Opcode::wait_flag, Pipe::mte1, Pipe::cube, u, tag));
            MmadOperands mmad;
            mmad.m = rows;
            mmad.k = bk0;
            mmad.n = bn;
            mmad.dtype = g.a_dtype;
            mmad.accumulate = !(kp == 0 && kt == 0);
            mmad.l0a_offset = static_cast<std::uint32_t>(u * l0a_slot);
            mmad.l0b_offset = static_cast<std::uint32_t>(u * l0b_slot);
            mmad.l0c_offset = static_cast<std::uint32_t>(acc_slot * l0c_slot);
            mmad.l0c_bytes = l0c_slot;
            code.push_back(mmad_instruction(mmad, tag));
            code.push_back(flag(Opcode::set_flag, Pipe::cube, Pipe::mte1, u, tag));
          }
        }
        code.push_back(flag(Opcode::set_flag, Pipe::cube, Pipe::fixpipe, acc_slot, tag));
        code.push_back(flag(Opcode::wait_flag, Pipe::cube, Pipe::fixpipe, acc_slot, tag));
        Instruction out;
        out.op = Opcode::fixpipe;
        out.pipe = Pipe::fixpipe;
        out.src = Buffer::l0c;
        out.dst = Buffer::gm;
        out.src_offset = static_cast<std::uint32_t>(acc_slot * l0c_slot);
        out.bytes = bytes_of(std::uint64_t{rows} * bn, c);
        out.gm_address = g.out_base + mb * g.out_stride + bytes_of(g.rows * (col0 + j * t.bn), c);
        out.dtype = accumulator_dtype(g.a_dtype);
        out.out_dtype = g.c_dtype;
        out.op_tag = tag;
        code.push_back(out);
        code.push_back(flag(Opcode::set_flag, Pipe::fixpipe, Pipe::cube, acc_slot, tag));
      }
    }
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::wait_flag, Pipe::mte1, Pipe::mte2, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::wait_flag, Pipe::cube, Pipe::mte1, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::wait_flag, Pipe::fixpipe, Pipe::cube, s, tag));
  }
}

StageCost estimate_stage_gemm(const StageGemm& g, const StageGemmTiling& t, const MachineView& m) {
  const auto& shape = m.cube_shape.at(g.a_dtype);
  const double a = element_bytes(g.a_dtype);
  const double blocks = static_cast<double>(ceil_div(t.slice, t.bn));
  const double k_tiles = static_cast<double>(ceil_div(g.k, t.bk0));
  const double cube = blocks * (static_cast<double>(ceil_div(g.rows, shape[0]) * ceil_div(t.bk0, shape[1]) *
                                                    ceil_div(t.bn, shape[2])) +
                                m.cube_fill_drain_cycles) *
                      k_tiles;
  const double loads = blocks * static_cast<double>(g.rows * g.k) * a / m.gm_read_Bpc;
  const double store = static_cast<double>(g.rows * t.slice) * element_bytes(g.c_dtype) / m.gm_write_Bpc / blocks;
  StageCost cost;
  cost.per_micro_batch_cycles = std::max(cube, loads) + store;
  cost.weight_bytes = static_cast<double>(g.k * g.n) * b_bytes(g);
  cost.preload_cycles = static_cast<double>(t.slice * g.k) * b_bytes(g) / m.gm_read_Bpc;
  return cost;
}

}  // namespace npusim::mapper
