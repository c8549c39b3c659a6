#include "mapper/dataflow/stage_gemm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

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
constexpr std::uint8_t kWeights = 2;  // MTE2 -> MTE1 / FixPipe: a weight block is loaded
constexpr Bytes kBarrierBytes = 32;   // one flag word to arrive at or poll a barrier
// A resident row block arrives in this many loads along K, each announced
// by its own set of the slot's flag: the first column block starts on the
// first part while the rest is in flight. Every stage after the first waits
// for its row block on the pipeline's fill path, so this is latency saved
// per stage, for one memory latency per extra load.
constexpr std::uint64_t kRowParts = 4;

// K tiles (of bk0) per part of a resident row block.
std::uint64_t tiles_per_row_part(std::uint64_t k, std::uint32_t bk0) {
  return ceil_div(ceil_div(k, std::uint64_t{bk0}), kRowParts);
}

}  // namespace

StageGemmFit fit_stage_gemm(const StageGemm& g, const MachineView& m) {
  StageGemmFit fit;
  const std::uint64_t slice = round_up(ceil_div(g.n, static_cast<std::uint64_t>(g.cores)), 16);
  const double a = element_bytes(g.a_dtype), b = b_bytes(g), acc = element_bytes(accumulator_dtype(g.a_dtype));
  const Bytes resident = bytes_of(slice * round_up(g.k, 16), b);
  // K panels: the whole row block (read once per micro-batch) or parts.
  const auto whole_k = static_cast<std::uint32_t>(round_up(g.k, 16));
  std::vector<std::uint32_t> panels{whole_k};
  for (std::uint32_t p : {512u, 256u, 128u, 64u, 32u}) {
    if (p < whole_k) panels.push_back(p);
  }
  // L0C blocks: the whole slice, or narrower ones.
  std::vector<std::uint32_t> widths;
  if (slice <= 256) widths.push_back(static_cast<std::uint32_t>(slice));
  for (std::uint32_t bn : {256u, 192u, 128u, 96u, 64u, 32u, 16u}) {
    if (bn < slice) widths.push_back(bn);
  }
  // Of the tilings that fit, the one the cost model finds fastest: the
  // largest mmad that the double-buffered L0 slots hold pays the least
  // per-mmad fill, but the slice may split badly into such blocks.
  double best = std::numeric_limits<double>::infinity();
  for (std::uint32_t bk1 : panels) {
    const Bytes a_panels = 2 * bytes_of(g.rows * bk1, a);
    if (resident + a_panels > m.l1) continue;
    for (std::uint32_t bn : widths) {
      if (2 * bytes_of(g.rows * bn, acc) > m.l0c) continue;
      for (std::uint32_t bk0 = 16; bk0 <= std::min<std::uint32_t>(bk1, 256); bk0 += 16) {
        if (2 * bytes_of(g.rows * bk0, a) > m.l0a || 2 * bytes_of(std::uint64_t{bk0} * bn, element_bytes(g.b_dtype)) > m.l0b) continue;
        const StageGemmTiling t{static_cast<std::uint32_t>(slice), bn, bk1, bk0, bk1 == whole_k};
        const double cycles = estimate_stage_gemm(g, t, m).per_micro_batch_cycles;
        if (cycles < best) {
          best = cycles;
          fit.tiling = t;
        }
      }
    }
  }
  if (fit.tiling) return fit;
  fit.reason = fmt::format("a {}x{} weight slice per core ({} B over {} cores) plus two {}-row activation panels does "
                           "not fit L1 ({} B)",
                           g.k, slice, resident, g.cores, g.rows, m.l1);
  return fit;
}

int emit_stage_gemm(const StageGemm& g, const StageGemmTiling& t, const MachineView& machine, std::uint32_t tag,
                    arch::Program& program) {
  int working = 0;
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
    ++working;
    const std::uint64_t width = std::min<std::uint64_t>(t.slice, g.n - col0);
    auto& code = program.cube_cores.at(static_cast<std::size_t>(g.first_core + i)).instructions;
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::set_flag, Pipe::mte1, Pipe::mte2, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::set_flag, Pipe::cube, Pipe::mte1, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::set_flag, Pipe::fixpipe, Pipe::cube, s, tag));

    // The weight slice, once, as one load per L0C column block (blocked
    // layout: a column block is contiguous), each announced by its own set
    // of kWeights: the first micro-batch starts on block 0 while the rest
    // of the slice is still arriving.
    Instruction load_w;
    load_w.op = Opcode::load;
    load_w.pipe = Pipe::mte2;
    load_w.src = Buffer::gm;
    load_w.dst = Buffer::l1;
    load_w.dtype = g.b_dtype;
    load_w.op_tag = tag;
    const auto load_weights = [&] {
      if (g.wait_barrier != 0) {
        // Into the row slots, which nothing uses yet: MTE2 runs in order.
        Instruction gate = load_w;
        gate.bytes = kBarrierBytes;
        gate.gm_address = g.wait_barrier;
        gate.dst_offset = static_cast<std::uint32_t>(resident);
        code.push_back(gate);
      }
      const auto arrive = [&] {
        code.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::fixpipe, kWeights, tag));
        code.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::fixpipe, kWeights, tag));
        code.push_back(fixpipe_to_gm_instruction(0, kBarrierBytes, g.arrive_barrier, accumulator_dtype(g.a_dtype),
                                                 g.c_dtype, tag));
      };
      const std::uint64_t blocks = ceil_div(width, std::uint64_t{t.bn});
      const std::uint64_t arrive_at =
          g.arrive_after_blocks == 0 ? blocks : std::min<std::uint64_t>(g.arrive_after_blocks, blocks);
      for (std::uint64_t j = 0; j < blocks; ++j) {
        const std::uint64_t bn = std::min<std::uint64_t>(t.bn, width - j * t.bn);
        load_w.bytes = bytes_of(bn * g.k, b);
        load_w.gm_address = g.b_address + bytes_of((col0 + j * t.bn) * g.k, b);
        load_w.dst_offset = static_cast<std::uint32_t>(bytes_of(j * t.bn * g.k, b));
        code.push_back(load_w);
        code.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::mte1, kWeights, tag));
        if (g.arrive_barrier != 0 && j + 1 == arrive_at) arrive();
      }
    };
    // One K panel of micro-batch mb's row block into L1 slot s.
    // A panel is K-major (all its rows for each K step), so a range of K is
    // contiguous in the queue entry and in the L1 slot alike.
    const std::uint64_t part_k = t.whole_rows ? tiles_per_row_part(g.k, t.bk0) * t.bk0 : t.bk1;
    const auto load_rows = [&](std::uint64_t mb, std::uint64_t kp, std::uint8_t s) {
      const auto bk1 = std::min<std::uint64_t>(t.bk1, g.k - kp * t.bk1);
      code.push_back(flag(Opcode::wait_flag, Pipe::mte1, Pipe::mte2, s, tag));
      for (std::uint64_t k0 = 0; k0 < bk1; k0 += part_k) {
        const std::uint64_t part = std::min(part_k, bk1 - k0);
        Instruction load_a = load_w;
        load_a.bytes = bytes_of(g.rows * part, a);
        load_a.gm_address = g.in_base + mb * g.in_stride + bytes_of(g.rows * (kp * t.bk1 + k0), a);
        load_a.dst_offset = static_cast<std::uint32_t>(resident + s * a_slot + bytes_of(g.rows * k0, a));
        load_a.dtype = g.a_dtype;
        code.push_back(load_a);
        code.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::mte1, s, tag));
      }
    };
    if (g.input_streamed) load_weights();

    std::uint64_t l1_turn = 0, l0_turn = 0, acc_turn = 0;
    for (std::uint64_t mb = 0; mb < g.micro_batches; ++mb) {
      // A resident row block is loaded once per micro-batch, before the
      // column blocks that all read it.
      std::uint8_t rows_slot = 0;
      if (t.whole_rows) {
        rows_slot = static_cast<std::uint8_t>(l1_turn++ % 2);
        load_rows(mb, 0, rows_slot);
        if (mb == 0 && !g.input_streamed) load_weights();
      } else if (mb == 0 && !g.input_streamed) {
        load_weights();
      }
      for (std::uint64_t j = 0; j * t.bn < width; ++j) {
        const auto bn = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bn, width - j * t.bn));
        const auto acc_slot = static_cast<std::uint8_t>(acc_turn++ % 2);
        if (mb == 0) code.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::mte1, kWeights, tag));
        code.push_back(flag(Opcode::wait_flag, Pipe::fixpipe, Pipe::cube, acc_slot, tag));
        for (std::uint64_t kp = 0; kp < k_panels; ++kp) {
          const auto bk1 = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bk1, g.k - kp * t.bk1));
          std::uint8_t s = rows_slot;
          if (!t.whole_rows) {
            s = static_cast<std::uint8_t>(l1_turn++ % 2);
            load_rows(mb, kp, s);
            code.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::mte1, s, tag));
          }
          const auto slot = static_cast<std::uint32_t>(resident + s * a_slot);
          const bool last_use = !t.whole_rows || (j + 1) * t.bn >= width;
          const std::uint64_t sub = ceil_div(bk1, t.bk0);
          for (std::uint64_t kt = 0; kt < sub; ++kt) {
            const auto bk0 = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bk0, bk1 - kt * t.bk0));
            const auto u = static_cast<std::uint8_t>(l0_turn++ % 2);
            // The first column block takes each part of the row block as it lands.
            if (t.whole_rows && j == 0 && kt * t.bk0 % part_k == 0) {
              code.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::mte1, s, tag));
            }
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
            if (kt + 1 == sub && last_use) code.push_back(flag(Opcode::set_flag, Pipe::mte1, Pipe::mte2, s, tag));
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
        code.push_back(fixpipe_to_gm_instruction(
            static_cast<std::uint32_t>(acc_slot * l0c_slot), bytes_of(std::uint64_t{rows} * bn, c),
            g.out_base + mb * g.out_stride + bytes_of(g.rows * (col0 + j * t.bn), c), accumulator_dtype(g.a_dtype),
            g.c_dtype, tag));
        code.push_back(flag(Opcode::set_flag, Pipe::fixpipe, Pipe::cube, acc_slot, tag));
      }
    }
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::wait_flag, Pipe::mte1, Pipe::mte2, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::wait_flag, Pipe::cube, Pipe::mte1, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::wait_flag, Pipe::fixpipe, Pipe::cube, s, tag));
  }
  return working;
}

StageCost estimate_stage_gemm(const StageGemm& g, const StageGemmTiling& t, const MachineView& m) {
  const auto& shape = m.cube_shape.at(g.a_dtype);
  const double a = element_bytes(g.a_dtype), b = b_bytes(g);
  const double blocks = static_cast<double>(ceil_div(t.slice, t.bn));
  const double rows = static_cast<double>(g.rows), k = static_cast<double>(g.k), slice = t.slice;
  // Fractal steps of one column block over K, tile by tile as emitted:
  // each K panel splits into bk0 tiles, the last of each possibly short.
  double steps = 0, tiles = 0;
  for (std::uint64_t k0 = 0; k0 < g.k; k0 += t.bk1) {
    const std::uint64_t panel = std::min<std::uint64_t>(t.bk1, g.k - k0);
    for (std::uint64_t kt = 0; kt < panel; kt += t.bk0) {
      steps += static_cast<double>(ceil_div(std::min<std::uint64_t>(t.bk0, panel - kt), shape[1]));
      tiles += 1;
    }
  }
  double n_steps = 0;  // over the column blocks, the last possibly narrow
  for (std::uint64_t n0 = 0; n0 < t.slice; n0 += t.bn) n_steps += static_cast<double>(ceil_div(std::min<std::uint64_t>(t.bn, t.slice - n0), shape[2]));
  const double cube = static_cast<double>(ceil_div(g.rows, shape[0])) * n_steps * steps +
                      blocks * tiles * m.cube_fill_drain_cycles;
  // L1 -> L0: the row block once per column block, the weight slice once
  // per micro-batch.
  const double mte1 = blocks * rows * k * a / m.l1_to_l0a_Bpc + slice * k * element_bytes(g.b_dtype) / m.l1_to_l0b_Bpc;
  const double row_reads = t.whole_rows ? 1.0 : blocks;
  const double panels = t.whole_rows ? static_cast<double>(ceil_div(ceil_div(g.k, std::uint64_t{t.bk0}), tiles_per_row_part(g.k, t.bk0)))
                                     : row_reads * static_cast<double>(ceil_div(g.k, t.bk1));
  const double mte2 = row_reads * rows * k * a / m.gm_read_Bpc + panels * m.gm_latency_cycles;
  const double store = rows * slice * element_bytes(g.c_dtype) / m.gm_write_Bpc / blocks;
  StageCost cost;
  // L0C is double-buffered, so the stores of one micro-batch overlap the
  // next one's work: they set the pace only through the slowest pipe, and
  // the last block's store is latency on the way to the next stage.
  cost.per_micro_batch_cycles = std::max({cube, mte1, mte2, store * blocks});
  cost.handoff_cycles = store;
  cost.weight_bytes = static_cast<double>(g.k * g.n) * b;
  // Blocking chunked reads: every chunk pays the memory latency.
  const double slice_bytes = slice * k * b;
  cost.slice_bytes = slice_bytes;
  cost.preload_cycles = slice_bytes / m.gm_read_Bpc +
                        std::ceil(slice_bytes / static_cast<double>(std::max<Bytes>(1, m.gm_chunk))) * m.gm_latency_cycles;
  return cost;
}

}  // namespace npusim::mapper
