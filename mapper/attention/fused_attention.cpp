#include "mapper/attention/fused_attention.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>
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

// Local events. On the cube side mte2 <-> mte1 per L1 resource (a "ready"
// one way, a "free" token the other way), cube <-> fixpipe per L0C tile kind.
constexpr std::uint8_t kQueryEvent = 0, kKvEvent = 1, kProbsL1Event = 2;
constexpr std::uint8_t kScoreEvent = 0, kContextEvent = 1;
// On the vector side: the tile kinds arriving (from mte2 on split cores,
// from fixpipe on coupled ones), the probability and output tiles leaving
// by mte3, and (coupled) the probability workspace between mte3 and mte2.
constexpr std::uint8_t kProbsUbEvent = 0, kOutputEvent = 1, kProbsGmEvent = 0;
// Cross-core (FFTS) ids, the same in each direction: AIC -> AIV "ready" and
// AIV -> AIC "slot free" for scores and context tiles; the other way round
// for probability tiles.
constexpr std::uint8_t kCrossScore = 0, kCrossProbs = 1, kCrossContext = 2;
constexpr int kWorkspaceSlots = 2;
// Score tiles the cube runs ahead of the vector side: two, so the FixPipe
// has the next score tiles to write while the probabilities of the current
// one make their round trip. K/V tiles in L1 and score slots in the
// workspace each need one more than that.
constexpr int kLookAhead = 2;
constexpr int kKvSlots = kLookAhead + 1, kScoreWsSlots = kLookAhead + 1;
// A worker's running max and sum belong to one item; with the look-ahead,
// up to three items' tiles are in flight on the vector side.
constexpr int kStatsSlots = kLookAhead + 1;

double bytes_per(DType t) { return dtype_bits(t) / 8.0; }
Bytes bytes_of(std::uint64_t elements, double per) {
  return static_cast<Bytes>(std::ceil(static_cast<double>(elements) * per));
}
Bytes align32(Bytes b) { return round_up(b, 32); }

Instruction flag(Opcode op, Pipe src, Pipe dst, std::uint8_t id, std::uint32_t tag) {
  return flag_instruction(op, src, dst, id, tag);
}
Instruction cross(Opcode op, Pipe pipe, int partner, std::uint8_t id, std::uint32_t tag) {
  return cross_flag_instruction(op, pipe, partner, id, tag);
}
Instruction gm_transfer(Opcode op, std::uint64_t address, Bytes bytes, Buffer on_chip, std::uint32_t offset,
                        DType dtype, std::uint32_t tag) {
  return gm_transfer_instruction(op, address, bytes, on_chip, offset, dtype, tag);
}
// L0C accumulators out to GM (split) or UB (coupled) at `out` precision.
Instruction from_l0c(bool to_ub, std::uint32_t l0c_offset, std::uint64_t gm_address, std::uint32_t ub_offset,
                     Bytes bytes, DType out, std::uint32_t tag) {
  Instruction in;
  in.op = to_ub ? Opcode::move_l0c_ub : Opcode::fixpipe;
  in.pipe = Pipe::fixpipe;
  in.src = Buffer::l0c;
  in.dst = to_ub ? Buffer::ub : Buffer::gm;
  in.src_offset = l0c_offset;
  in.dst_offset = to_ub ? ub_offset : 0;
  in.gm_address = to_ub ? 0 : gm_address;
  in.bytes = bytes;
  in.dtype = DType::fp32;
  in.out_dtype = out;
  in.op_tag = tag;
  return in;
}
Instruction vec(VectorOpKind kind, std::uint64_t elements, std::uint32_t src, std::uint32_t dst, DType dtype,
                DType out, std::uint32_t tag) {
  Instruction in;
  in.op = Opcode::vector_op;
  in.pipe = Pipe::vector;
  in.vector_kind = kind;
  in.elements = elements;
  in.dtype = dtype;
  in.out_dtype = out;
  in.src = Buffer::ub;
  in.dst = Buffer::ub;
  in.src_offset = src;
  in.dst_offset = dst;
  in.op_tag = tag;
  return in;
}

// Every size and offset of one tiling on one machine.
struct Layout {
  std::uint64_t groups, rows, head_dim, keys, value_dim;
  double q_bytes, k_bytes, v_bytes, out_bytes;
  // Scores leave L0C in the operands' precision (FixPipe converts), as the
  // unfused score GEMM writes them; the running output stays fp32.
  DType score_dtype;
  double score_bytes;
  int workers;                     // vector workers per cube core
  std::uint32_t worker_rows;       // rows each worker takes of a full block
  bool split;
  // L1
  Bytes q_slot, k_part, kv_slot, p_slot, q_at, kv_at, p_at;
  // L0C
  Bytes score_l0c, context_l0c, context_l0c_at;
  // UB of one worker
  Bytes ub_score, ub_probs, ub_context, ub_acc, ub_stats;
  Bytes ub_score_at, ub_probs_at, ub_context_at, ub_acc_at, ub_stats_at, ub_total;
  // GM workspace of one core; split-KV partials after the slots
  Bytes ws_score, ws_probs, ws_context, ws_score_at, ws_probs_at, ws_context_at, ws_total;
  bool partial;                    // split-KV: items leave partials, not the output
  Bytes partial_acc, partial_stride;  // one item's unnormalised rows, and with their max and sum
};

Layout layout_of(const AttentionProblem& p, const AttentionTiling& t, const MachineView& m) {
  Layout l{};
  l.groups = p.score.batch;
  l.rows = p.score.m;
  l.head_dim = p.score.k;
  l.keys = p.score.n;
  l.value_dim = p.context.n;
  l.q_bytes = bytes_per(p.score.a_dtype);
  l.k_bytes = stored_b_bytes_per_element(p.score);
  l.v_bytes = stored_b_bytes_per_element(p.context);
  l.out_bytes = bytes_per(p.context.c_dtype);
  l.score_dtype = p.score.a_dtype;
  l.score_bytes = bytes_per(l.score_dtype);
  l.split = m.split_cores;
  l.workers = m.split_cores ? std::max(1, m.vector_cores / std::max(1, m.cube_cores)) : 1;
  l.worker_rows = static_cast<std::uint32_t>(ceil_div(t.bm, static_cast<std::uint64_t>(l.workers)));

  l.q_slot = align32(bytes_of(std::uint64_t{t.bm} * l.head_dim, l.q_bytes));
  l.k_part = align32(bytes_of(std::uint64_t{t.bn} * l.head_dim, l.k_bytes));
  l.kv_slot = l.k_part + align32(bytes_of(std::uint64_t{t.bn} * l.value_dim, l.v_bytes));
  l.p_slot = align32(bytes_of(std::uint64_t{t.bm} * t.bn, l.q_bytes));
  l.q_at = 0;
  l.kv_at = 2 * l.q_slot;
  l.p_at = l.kv_at + kKvSlots * l.kv_slot;

  l.score_l0c = cube_tile_l0c_bytes(t.bm, t.bn);
  l.context_l0c = cube_tile_l0c_bytes(t.bm, static_cast<std::uint32_t>(l.value_dim));
  l.context_l0c_at = static_cast<Bytes>(t.score_l0c_slots) * l.score_l0c;

  const std::uint64_t r = l.worker_rows;
  l.ub_score = align32(bytes_of(r * t.bn, l.score_bytes));
  l.ub_probs = align32(bytes_of(r * t.bn, l.q_bytes));
  l.ub_context = align32(r * l.value_dim * 4);
  l.ub_acc = l.ub_context;
  l.ub_stats = align32(4 * r * 4);  // running max, running sum, rescale factor, scratch
  l.ub_score_at = 0;
  l.ub_probs_at = l.ub_score_at + 2 * l.ub_score;
  l.ub_context_at = l.ub_probs_at + 2 * l.ub_probs;
  l.ub_acc_at = l.ub_context_at + static_cast<Bytes>(t.context_ub_slots) * l.ub_context;
  l.ub_stats_at = l.ub_acc_at + l.ub_acc;
  l.ub_total = l.ub_stats_at + kStatsSlots * l.ub_stats;

  l.ws_score = l.split ? align32(bytes_of(std::uint64_t{t.bm} * t.bn, l.score_bytes)) : 0;
  l.ws_probs = align32(bytes_of(std::uint64_t{t.bm} * t.bn, l.q_bytes));
  l.ws_context = l.split ? align32(std::uint64_t{t.bm} * l.value_dim * 4) : 0;
  l.ws_score_at = 0;
  l.ws_probs_at = kScoreWsSlots * l.ws_score;
  l.ws_context_at = l.ws_probs_at + kWorkspaceSlots * l.ws_probs;
  l.ws_total = l.ws_context_at + kWorkspaceSlots * l.ws_context;
  l.partial = t.kv_chunks > 1;
  l.partial_acc = std::uint64_t{t.bm} * l.value_dim * 4;
  l.partial_stride = align32(l.partial_acc + std::uint64_t{t.bm} * 2 * 4);
  return l;
}

// One core's share of a job: (unit, chunk) items, a unit being a KV-head
// group's query block. Items go longest first to the least loaded core, so
// causal blocks of different lengths spread evenly.
struct Item {
  std::uint64_t group, block, chunk, tile_begin, tile_end;
};
std::vector<std::vector<Item>> assign_items(const AttentionProblem& p, const AttentionTiling& t, int cube_cores) {
  const std::uint64_t blocks = ceil_div(p.score.m, t.bm);
  const std::uint64_t chunks = std::max<std::uint32_t>(1, t.kv_chunks);
  std::vector<Item> items;
  for (std::uint64_t group = 0; group < p.score.batch; ++group) {
    for (std::uint64_t block = 0; block < blocks; ++block) {
      const std::uint64_t tiles = key_tiles_of_block(p, t, block);
      for (std::uint64_t c = 0; c < chunks; ++c) {
        items.push_back(Item{group, block, c, c * tiles / chunks, (c + 1) * tiles / chunks});
      }
    }
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.tile_end - a.tile_begin > b.tile_end - b.tile_begin;
  });
  const auto cores = static_cast<std::size_t>(std::max(1, cube_cores));
  std::vector<std::vector<Item>> per_core(std::min(cores, items.size()));
  std::vector<std::uint64_t> load(per_core.size(), 0);
  for (const Item& item : items) {
    const auto least = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    per_core[least].push_back(item);
    load[least] += item.tile_end - item.tile_begin;
  }
  return per_core;
}

// The first and last query token of a block (tokens of a head; a block
// that spans heads holds every token).
std::pair<std::uint64_t, std::uint64_t> block_tokens(const AttentionProblem& p, const AttentionTiling& t,
                                                     std::uint64_t block) {
  const std::uint64_t first = block * t.bm, last = std::min(p.score.m, first + t.bm) - 1;
  if (first / p.queries != last / p.queries) return {0, p.queries - 1};
  return {first % p.queries, last % p.queries};
}

// Whether some key of the tile lies beyond what some row of the block sees.
bool crosses_diagonal(const AttentionProblem& p, const AttentionTiling& t, std::uint64_t block, std::uint64_t tile) {
  if (!p.causal) return false;
  const std::uint64_t first_visible_limit = p.score.n - p.queries + block_tokens(p, t, block).first;
  const std::uint64_t tile_last_key = std::min(p.score.n, (tile + 1) * t.bn) - 1;
  return tile_last_key > first_visible_limit;
}

// One step of a core's schedule: KV tile `tile` of unit (group, row block).
struct Turn {
  std::uint64_t group, block, tile;
  std::uint32_t rows, keys;
  bool first, last;
  bool masked;              // crosses the causal diagonal
  std::uint64_t index;      // turns of this core so far
  std::uint64_t unit_index; // items of this core so far
};

class CoreEmitter {
 public:
  CoreEmitter(const AttentionProblem& p, const AttentionTiling& t, const MachineView& m, const Layout& l,
              std::uint64_t workspace, std::uint32_t tag, std::vector<Instruction>& aic,
              std::vector<std::vector<Instruction>*> workers)
      : p_(p), t_(t), m_(m), l_(l), ws_(workspace), tag_(tag), aic_(aic), workers_(std::move(workers)) {}

  void emit(const std::vector<Turn>& turns) {
    preamble();
    // The cube computes the next tiles' scores while the vector side turns
    // the current ones into probabilities.
    const std::size_t ahead = kLookAhead;
    for (std::size_t i = 0; i < turns.size() + ahead; ++i) {
      if (i < turns.size()) scores(turns[i]);
      if (i >= ahead) context(turns[i - ahead]);
    }
    postamble();
  }

 private:
  std::uint32_t rows_of(const Turn& turn, int w) const {
    const std::uint64_t begin = std::uint64_t{l_.worker_rows} * static_cast<std::uint64_t>(w);
    return begin >= turn.rows ? 0 : static_cast<std::uint32_t>(std::min<std::uint64_t>(l_.worker_rows, turn.rows - begin));
  }
  std::vector<Instruction>& worker(int w) { return l_.split ? *workers_.at(static_cast<std::size_t>(w)) : aic_; }
  int partner(int w) const { return 1 + w; }
  // Where tile kinds arrive on the vector side from.
  Pipe arrival() const { return l_.split ? Pipe::mte2 : Pipe::fixpipe; }
  std::uint32_t u32(Bytes b) const { return static_cast<std::uint32_t>(b); }
  Bytes stats_at(const Turn& turn) const {
    return l_.ub_stats_at + (turn.unit_index % static_cast<std::uint64_t>(kStatsSlots)) * l_.ub_stats;
  }
  std::uint64_t ws_slot(Bytes at, Bytes slot, std::uint64_t turn, int slots = kWorkspaceSlots) const {
    return ws_ + at + (turn % static_cast<std::uint64_t>(slots)) * slot;
  }

  void preamble() {
    auto& a = aic_;
    for (int s = 0; s < 2; ++s) {
      for (std::uint8_t id : {kQueryEvent, kProbsL1Event}) a.push_back(flag(Opcode::set_flag, Pipe::mte1, Pipe::mte2, id, tag_));
      a.push_back(flag(Opcode::set_flag, Pipe::cube, Pipe::mte1, kL0FreeEvent, tag_));
    }
    for (int s = 0; s < kKvSlots; ++s) a.push_back(flag(Opcode::set_flag, Pipe::mte1, Pipe::mte2, kKvEvent, tag_));
    for (int s = 0; s < t_.score_l0c_slots; ++s) a.push_back(flag(Opcode::set_flag, Pipe::fixpipe, Pipe::cube, kScoreEvent, tag_));
    a.push_back(flag(Opcode::set_flag, Pipe::fixpipe, Pipe::cube, kContextEvent, tag_));
    for (int w = 0; w < l_.workers; ++w) {
      auto& v = worker(w);
      for (int s = 0; s < kWorkspaceSlots; ++s) {
        v.push_back(flag(Opcode::set_flag, Pipe::vector, arrival(), kScoreEvent, tag_));
        v.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::vector, kProbsUbEvent, tag_));
        if (l_.split) {
          v.push_back(cross(Opcode::cross_set, Pipe::mte2, 0, kCrossContext, tag_));
          a.push_back(cross(Opcode::cross_set, Pipe::mte2, partner(w), kCrossProbs, tag_));
        } else {
          v.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::mte3, kProbsGmEvent, tag_));
        }
      }
      for (int s = 0; s < kScoreWsSlots && l_.split; ++s) v.push_back(cross(Opcode::cross_set, Pipe::mte2, 0, kCrossScore, tag_));
      for (int s = 0; s < t_.context_ub_slots; ++s) v.push_back(flag(Opcode::set_flag, Pipe::vector, arrival(), kContextEvent, tag_));
      v.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::vector, kOutputEvent, tag_));
    }
  }

  void postamble() {
    auto& a = aic_;
    for (int s = 0; s < 2; ++s) {
      for (std::uint8_t id : {kQueryEvent, kProbsL1Event}) a.push_back(flag(Opcode::wait_flag, Pipe::mte1, Pipe::mte2, id, tag_));
      a.push_back(flag(Opcode::wait_flag, Pipe::cube, Pipe::mte1, kL0FreeEvent, tag_));
    }
    for (int s = 0; s < kKvSlots; ++s) a.push_back(flag(Opcode::wait_flag, Pipe::mte1, Pipe::mte2, kKvEvent, tag_));
    for (int s = 0; s < t_.score_l0c_slots; ++s) a.push_back(flag(Opcode::wait_flag, Pipe::fixpipe, Pipe::cube, kScoreEvent, tag_));
    a.push_back(flag(Opcode::wait_flag, Pipe::fixpipe, Pipe::cube, kContextEvent, tag_));
    for (int w = 0; w < l_.workers; ++w) {
      auto& v = worker(w);
      for (int s = 0; s < kWorkspaceSlots; ++s) {
        v.push_back(flag(Opcode::wait_flag, Pipe::vector, arrival(), kScoreEvent, tag_));
        v.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::vector, kProbsUbEvent, tag_));
        if (l_.split) {
          a.push_back(cross(Opcode::cross_wait, Pipe::fixpipe, partner(w), kCrossContext, tag_));
          v.push_back(cross(Opcode::cross_wait, Pipe::mte3, 0, kCrossProbs, tag_));
        } else {
          v.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::mte3, kProbsGmEvent, tag_));
        }
      }
      for (int s = 0; s < kScoreWsSlots && l_.split; ++s) a.push_back(cross(Opcode::cross_wait, Pipe::fixpipe, partner(w), kCrossScore, tag_));
      for (int s = 0; s < t_.context_ub_slots; ++s) v.push_back(flag(Opcode::wait_flag, Pipe::vector, arrival(), kContextEvent, tag_));
      v.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::vector, kOutputEvent, tag_));
    }
  }

  // Q K^T of one KV tile into L0C and out to the vector side, which turns
  // it into probabilities in the workspace.
  void scores(const Turn& turn) {
    auto& a = aic_;
    const std::uint64_t slot = turn.index % 2;
    const Bytes q_l1 = l_.q_at + (turn.unit_index % 2) * l_.q_slot;
    const Bytes kv_l1 = l_.kv_at + (turn.index % kKvSlots) * l_.kv_slot;
    const std::uint64_t q_gm = p_.score.a_address + turn.group * p_.score.a_batch_stride +
                               bytes_of(turn.block * t_.bm * l_.head_dim, l_.q_bytes);
    const std::uint64_t k_gm = p_.score.b_address +
                               (turn.group / std::max<std::uint64_t>(1, p_.score.b_shared_by)) * p_.score.b_batch_stride +
                               bytes_of(turn.tile * t_.bn * l_.head_dim, l_.k_bytes);
    const std::uint64_t v_gm = p_.context.b_address +
                               (turn.group / std::max<std::uint64_t>(1, p_.context.b_shared_by)) * p_.context.b_batch_stride +
                               bytes_of(turn.tile * t_.bn * l_.value_dim, l_.v_bytes);
    if (turn.first) {
      a.push_back(flag(Opcode::wait_flag, Pipe::mte1, Pipe::mte2, kQueryEvent, tag_));
      a.push_back(gm_transfer(Opcode::load, q_gm, bytes_of(std::uint64_t{turn.rows} * l_.head_dim, l_.q_bytes), Buffer::l1,
                              u32(q_l1), p_.score.a_dtype, tag_));
      a.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::mte1, kQueryEvent, tag_));
    }
    a.push_back(flag(Opcode::wait_flag, Pipe::mte1, Pipe::mte2, kKvEvent, tag_));
    a.push_back(gm_transfer(Opcode::load, k_gm, bytes_of(std::uint64_t{turn.keys} * l_.head_dim, l_.k_bytes), Buffer::l1,
                            u32(kv_l1), p_.score.b_dtype, tag_));
    a.push_back(gm_transfer(Opcode::load, v_gm, bytes_of(std::uint64_t{turn.keys} * l_.value_dim, l_.v_bytes), Buffer::l1,
                            u32(kv_l1 + l_.k_part), p_.context.b_dtype, tag_));
    a.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::mte1, kKvEvent, tag_));

    if (turn.first) a.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::mte1, kQueryEvent, tag_));
    a.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::mte1, kKvEvent, tag_));
    const Bytes s_l0c = (score_turn_++ % static_cast<std::uint64_t>(t_.score_l0c_slots)) * l_.score_l0c;
    a.push_back(flag(Opcode::wait_flag, Pipe::fixpipe, Pipe::cube, kScoreEvent, tag_));
    CubeTile qk;
    qk.m = turn.rows;
    qk.k = static_cast<std::uint32_t>(l_.head_dim);
    qk.n = turn.keys;
    qk.a_dtype = p_.score.a_dtype;
    qk.b_dtype = p_.score.b_dtype;
    qk.b_l1_bytes = l_.k_bytes;
    qk.a_l1 = u32(q_l1);
    qk.b_l1 = u32(kv_l1);
    qk.l0c = u32(s_l0c);
    emit_cube_tile(qk, m_, l0_turn_, tag_, a);
    if (turn.last) a.push_back(flag(Opcode::set_flag, Pipe::mte1, Pipe::mte2, kQueryEvent, tag_));
    a.push_back(flag(Opcode::set_flag, Pipe::cube, Pipe::fixpipe, kScoreEvent, tag_));

    a.push_back(flag(Opcode::wait_flag, Pipe::cube, Pipe::fixpipe, kScoreEvent, tag_));
    // Each worker's rows are written as soon as its slot is free, so it can
    // start on them while the other's are still on the way.
    for (int w = 0; w < l_.workers; ++w) {
      const std::uint32_t rows = rows_of(turn, w);
      if (rows == 0) continue;
      const Bytes row0 = std::uint64_t{l_.worker_rows} * static_cast<std::uint64_t>(w);
      const Bytes bytes = bytes_of(std::uint64_t{rows} * turn.keys, l_.score_bytes);
      const auto l0c = u32(s_l0c + row0 * turn.keys * 4);
      if (l_.split) {
        a.push_back(cross(Opcode::cross_wait, Pipe::fixpipe, partner(w), kCrossScore, tag_));
        a.push_back(from_l0c(false, l0c,
                             ws_slot(l_.ws_score_at, l_.ws_score, turn.index, kScoreWsSlots) + bytes_of(row0 * turn.keys, l_.score_bytes), 0,
                             bytes, l_.score_dtype, tag_));
        a.push_back(cross(Opcode::cross_set, Pipe::fixpipe, partner(w), kCrossScore, tag_));
      } else {
        a.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::fixpipe, kScoreEvent, tag_));
        a.push_back(from_l0c(true, l0c, 0, u32(l_.ub_score_at + slot * l_.ub_score), bytes, l_.score_dtype, tag_));
        a.push_back(flag(Opcode::set_flag, Pipe::fixpipe, Pipe::vector, kScoreEvent, tag_));
      }
    }
    a.push_back(flag(Opcode::set_flag, Pipe::fixpipe, Pipe::cube, kScoreEvent, tag_));
    for (int w = 0; w < l_.workers; ++w) softmax(turn, w);
  }

  // The online softmax of one worker's rows of a score tile.
  void softmax(const Turn& turn, int w) {
    const std::uint32_t rows = rows_of(turn, w);
    if (rows == 0) return;
    auto& v = worker(w);
    const std::uint64_t slot = turn.index % 2;
    const Bytes row0 = std::uint64_t{l_.worker_rows} * static_cast<std::uint64_t>(w);
    const std::uint64_t e = std::uint64_t{rows} * turn.keys;
    const auto s_ub = u32(l_.ub_score_at + slot * l_.ub_score);
    const auto p_ub = u32(l_.ub_probs_at + slot * l_.ub_probs);
    const auto stats = u32(stats_at(turn));
    if (l_.split) {
      v.push_back(cross(Opcode::cross_wait, Pipe::mte2, 0, kCrossScore, tag_));
      v.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte2, kScoreEvent, tag_));
      v.push_back(gm_transfer(Opcode::load,
                              ws_slot(l_.ws_score_at, l_.ws_score, turn.index, kScoreWsSlots) + bytes_of(row0 * turn.keys, l_.score_bytes),
                              bytes_of(e, l_.score_bytes), Buffer::ub, s_ub, l_.score_dtype, tag_));
      v.push_back(cross(Opcode::cross_set, Pipe::mte2, 0, kCrossScore, tag_));
      v.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::vector, kScoreEvent, tag_));
    }
    v.push_back(flag(Opcode::wait_flag, arrival(), Pipe::vector, kScoreEvent, tag_));
    const DType sd = l_.score_dtype, f32 = DType::fp32;
    if (turn.masked) v.push_back(vec(VectorOpKind::add, e, s_ub, s_ub, sd, sd, tag_));  // -inf above the diagonal
    v.push_back(vec(VectorOpKind::reduce_max, e, s_ub, s_ub, sd, sd, tag_));               // tile row max
    v.push_back(vec(VectorOpKind::reduce_max, 2ULL * rows, stats, stats, f32, f32, tag_));  // with the running max
    v.push_back(vec(VectorOpKind::add, rows, stats, stats, f32, f32, tag_));                // old - new max
    v.push_back(vec(VectorOpKind::exp, rows, stats, stats, f32, f32, tag_));                // rescale factor
    v.push_back(vec(VectorOpKind::add, e, s_ub, s_ub, sd, sd, tag_));                       // scores - row max
    v.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::vector, kProbsUbEvent, tag_));
    v.push_back(vec(VectorOpKind::exp, e, s_ub, p_ub, sd, sd, tag_));                       // P, unnormalised
    v.push_back(flag(Opcode::set_flag, Pipe::vector, arrival(), kScoreEvent, tag_));
    v.push_back(vec(VectorOpKind::reduce_sum, e, p_ub, p_ub, sd, sd, tag_));
    v.push_back(vec(VectorOpKind::mul, rows, stats, stats, f32, f32, tag_));                // running sum x rescale
    v.push_back(vec(VectorOpKind::add, rows, stats, stats, f32, f32, tag_));                // + tile sum
    v.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte3, kProbsUbEvent, tag_));

    const Bytes p_bytes = bytes_of(e, l_.q_bytes);
    const std::uint64_t p_gm = ws_slot(l_.ws_probs_at, l_.ws_probs, turn.index) + bytes_of(row0 * turn.keys, l_.q_bytes);
    v.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte3, kProbsUbEvent, tag_));
    if (l_.split) {
      v.push_back(cross(Opcode::cross_wait, Pipe::mte3, 0, kCrossProbs, tag_));
    } else {
      v.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::mte3, kProbsGmEvent, tag_));
    }
    v.push_back(gm_transfer(Opcode::store, p_gm, p_bytes, Buffer::ub, p_ub, p_.score.a_dtype, tag_));
    if (l_.split) {
      v.push_back(cross(Opcode::cross_set, Pipe::mte3, 0, kCrossProbs, tag_));
    } else {
      v.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::mte2, kProbsGmEvent, tag_));
    }
    v.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::vector, kProbsUbEvent, tag_));
  }

  // P V of one KV tile on the cube, added into the running output.
  void context(const Turn& turn) {
    auto& a = aic_;
    const std::uint64_t slot = turn.index % 2;
    const Bytes p_l1 = l_.p_at + slot * l_.p_slot;
    const Bytes kv_l1 = l_.kv_at + (turn.index % kKvSlots) * l_.kv_slot;
    for (int w = 0; w < l_.workers; ++w) {
      if (rows_of(turn, w) == 0) continue;
      if (l_.split) {
        a.push_back(cross(Opcode::cross_wait, Pipe::mte2, partner(w), kCrossProbs, tag_));
      } else {
        a.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::mte2, kProbsGmEvent, tag_));
      }
    }
    a.push_back(flag(Opcode::wait_flag, Pipe::mte1, Pipe::mte2, kProbsL1Event, tag_));
    a.push_back(gm_transfer(Opcode::load, ws_slot(l_.ws_probs_at, l_.ws_probs, turn.index),
                            bytes_of(std::uint64_t{turn.rows} * turn.keys, l_.q_bytes), Buffer::l1, u32(p_l1),
                            p_.score.a_dtype, tag_));
    for (int w = 0; w < l_.workers; ++w) {
      if (rows_of(turn, w) == 0) continue;
      if (l_.split) {
        a.push_back(cross(Opcode::cross_set, Pipe::mte2, partner(w), kCrossProbs, tag_));
      } else {
        a.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::mte3, kProbsGmEvent, tag_));
      }
    }
    a.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::mte1, kProbsL1Event, tag_));

    a.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::mte1, kProbsL1Event, tag_));
    a.push_back(flag(Opcode::wait_flag, Pipe::fixpipe, Pipe::cube, kContextEvent, tag_));
    CubeTile pv;
    pv.m = turn.rows;
    pv.k = turn.keys;
    pv.n = static_cast<std::uint32_t>(l_.value_dim);
    pv.a_dtype = p_.score.a_dtype;
    pv.b_dtype = p_.context.b_dtype;
    pv.b_l1_bytes = l_.v_bytes;
    pv.a_l1 = u32(p_l1);
    pv.b_l1 = u32(kv_l1 + l_.k_part);
    pv.l0c = u32(l_.context_l0c_at);
    emit_cube_tile(pv, m_, l0_turn_, tag_, a);
    a.push_back(flag(Opcode::set_flag, Pipe::mte1, Pipe::mte2, kProbsL1Event, tag_));
    a.push_back(flag(Opcode::set_flag, Pipe::mte1, Pipe::mte2, kKvEvent, tag_));
    a.push_back(flag(Opcode::set_flag, Pipe::cube, Pipe::fixpipe, kContextEvent, tag_));

    a.push_back(flag(Opcode::wait_flag, Pipe::cube, Pipe::fixpipe, kContextEvent, tag_));
    const std::uint64_t ub_slot = turn.index % static_cast<std::uint64_t>(t_.context_ub_slots);
    for (int w = 0; w < l_.workers; ++w) {
      const std::uint32_t rows = rows_of(turn, w);
      if (rows == 0) continue;
      const Bytes row0 = std::uint64_t{l_.worker_rows} * static_cast<std::uint64_t>(w);
      const Bytes bytes = std::uint64_t{rows} * l_.value_dim * 4;
      const auto l0c = u32(l_.context_l0c_at + row0 * l_.value_dim * 4);
      if (l_.split) {
        a.push_back(cross(Opcode::cross_wait, Pipe::fixpipe, partner(w), kCrossContext, tag_));
        a.push_back(from_l0c(false, l0c, ws_slot(l_.ws_context_at, l_.ws_context, turn.index) + row0 * l_.value_dim * 4,
                             0, bytes, DType::fp32, tag_));
        a.push_back(cross(Opcode::cross_set, Pipe::fixpipe, partner(w), kCrossContext, tag_));
      } else {
        a.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::fixpipe, kContextEvent, tag_));
        a.push_back(from_l0c(true, l0c, 0, u32(l_.ub_context_at + ub_slot * l_.ub_context), bytes, DType::fp32, tag_));
        a.push_back(flag(Opcode::set_flag, Pipe::fixpipe, Pipe::vector, kContextEvent, tag_));
      }
    }
    a.push_back(flag(Opcode::set_flag, Pipe::fixpipe, Pipe::cube, kContextEvent, tag_));
    for (int w = 0; w < l_.workers; ++w) accumulate(turn, w, ub_slot);
  }

  // The worker adds the P V tile into its running output; after the last
  // KV tile it normalises and writes its rows of the layer's output.
  void accumulate(const Turn& turn, int w, std::uint64_t ub_slot) {
    const std::uint32_t rows = rows_of(turn, w);
    if (rows == 0) return;
    auto& v = worker(w);
    const Bytes row0 = std::uint64_t{l_.worker_rows} * static_cast<std::uint64_t>(w);
    const std::uint64_t e = std::uint64_t{rows} * l_.value_dim;
    const auto in_ub = u32(l_.ub_context_at + ub_slot * l_.ub_context);
    const auto acc = u32(l_.ub_acc_at);
    if (l_.split) {
      v.push_back(cross(Opcode::cross_wait, Pipe::mte2, 0, kCrossContext, tag_));
      v.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte2, kContextEvent, tag_));
      v.push_back(gm_transfer(Opcode::load, ws_slot(l_.ws_context_at, l_.ws_context, turn.index) + row0 * l_.value_dim * 4,
                              e * 4, Buffer::ub, in_ub, DType::fp32, tag_));
      v.push_back(cross(Opcode::cross_set, Pipe::mte2, 0, kCrossContext, tag_));
      v.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::vector, kContextEvent, tag_));
    }
    v.push_back(flag(Opcode::wait_flag, arrival(), Pipe::vector, kContextEvent, tag_));
    if (turn.first) {
      v.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::vector, kOutputEvent, tag_));
      v.push_back(vec(VectorOpKind::copy, e, in_ub, acc, DType::fp32, DType::fp32, tag_));
    } else {
      v.push_back(vec(VectorOpKind::mul, e, acc, acc, DType::fp32, DType::fp32, tag_));  // rescale by the new max
      v.push_back(vec(VectorOpKind::add, e, in_ub, acc, DType::fp32, DType::fp32, tag_));
    }
    v.push_back(flag(Opcode::set_flag, Pipe::vector, arrival(), kContextEvent, tag_));
    if (!turn.last) return;
    if (l_.partial) {
      // The chunk's unnormalised rows with their running max and sum, for
      // the combine job.
      v.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte3, kOutputEvent, tag_));
      v.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte3, kOutputEvent, tag_));
      const std::uint64_t partial = ws_ + l_.ws_total + turn.unit_index * l_.partial_stride;
      v.push_back(gm_transfer(Opcode::store, partial + row0 * l_.value_dim * 4, e * 4, Buffer::ub, acc, DType::fp32, tag_));
      v.push_back(gm_transfer(Opcode::store, partial + l_.partial_acc + row0 * 2 * 4, std::uint64_t{rows} * 2 * 4,
                              Buffer::ub, u32(stats_at(turn)), DType::fp32, tag_));
      v.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::vector, kOutputEvent, tag_));
      return;
    }
    v.push_back(vec(VectorOpKind::mul, e, acc, acc, DType::fp32, DType::fp32, tag_));  // divide by the running sum
    v.push_back(vec(VectorOpKind::cast, e, acc, acc, DType::fp32, p_.context.c_dtype, tag_));
    v.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte3, kOutputEvent, tag_));
    v.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte3, kOutputEvent, tag_));
    const std::uint64_t out_gm = p_.context.c_address + turn.group * p_.context.c_batch_stride +
                                 bytes_of((turn.block * t_.bm + row0) * l_.value_dim, l_.out_bytes);
    v.push_back(gm_transfer(Opcode::store, out_gm, bytes_of(e, l_.out_bytes), Buffer::ub, acc, p_.context.c_dtype, tag_));
    v.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::vector, kOutputEvent, tag_));
  }

  const AttentionProblem& p_;
  const AttentionTiling& t_;
  const MachineView& m_;
  const Layout& l_;
  std::uint64_t ws_;
  std::uint32_t tag_;
  std::vector<Instruction>& aic_;
  std::vector<std::vector<Instruction>*> workers_;
  std::uint64_t l0_turn_ = 0;
  std::uint64_t score_turn_ = 0;
};

}  // namespace

std::string AttentionTiling::describe() const {
  return fmt::format("fused attention bm={} bn={}{}{}{}", bm, bn, score_l0c_slots == 1 ? " score-l0c-single" : "",
                     context_ub_slots == 1 ? " context-ub-single" : "",
                     kv_chunks > 1 ? fmt::format(" split-kv={}", kv_chunks) : std::string());
}

std::uint64_t key_tiles_of_block(const AttentionProblem& p, const AttentionTiling& t, std::uint64_t block) {
  const std::uint64_t tiles = ceil_div(p.score.n, std::uint64_t{t.bn});
  if (!p.causal) return tiles;
  const std::uint64_t last_visible = p.score.n - p.queries + block_tokens(p, t, block).second;
  return std::min(tiles, last_visible / t.bn + 1);
}

AttentionWork attention_work(const AttentionProblem& p, const AttentionTiling& t) {
  AttentionWork w;
  const double k_bytes = stored_b_bytes_per_element(p.score), v_bytes = stored_b_bytes_per_element(p.context);
  const std::uint64_t blocks = ceil_div(p.score.m, std::uint64_t{t.bm});
  for (std::uint64_t block = 0; block < blocks; ++block) {
    const double rows = static_cast<double>(std::min<std::uint64_t>(t.bm, p.score.m - block * t.bm));
    const std::uint64_t tiles = key_tiles_of_block(p, t, block);
    const double keys = static_cast<double>(std::min(p.score.n, tiles * t.bn));
    const double groups = static_cast<double>(p.score.batch);
    w.score_tiles += p.score.batch * tiles;
    w.macs += groups * rows * keys * static_cast<double>(p.score.k + p.context.n);
    w.kv_bytes += groups * keys * (static_cast<double>(p.score.k) * k_bytes + static_cast<double>(p.context.n) * v_bytes);
  }
  return w;
}

double split_kv_partial_bytes(const AttentionProblem& p, const AttentionTiling& t) {
  if (t.kv_chunks <= 1) return 0;
  return static_cast<double>(p.score.batch * p.score.m) * t.kv_chunks * static_cast<double>(p.context.n + 2) * 4;
}

namespace {

std::uint64_t most_items_per_core(const AttentionProblem& p, const AttentionTiling& t, const MachineView& m) {
  std::size_t most = 0;
  for (const auto& items : assign_items(p, t, m.cube_cores)) most = std::max(most, items.size());
  return most;
}

// One combine worker's share: the rows of one unit a vector worker of the
// fused job held, so the partials it reads are contiguous.
struct CombineShare {
  std::uint64_t group, block;
  int slice;
};

// UB of one combine worker: every chunk's rows and their max and sum, the
// merged stats and the output rows.
Bytes combine_ub_bytes(const AttentionTiling& t, const Layout& l) {
  const std::uint64_t r = l.worker_rows;
  return t.kv_chunks * (align32(r * l.value_dim * 4) + align32(r * 2 * 4)) + align32(4 * r * 4) +
         align32(bytes_of(r * l.value_dim, l.out_bytes));
}

}  // namespace

AttentionFootprint attention_footprint(const AttentionProblem& p, const AttentionTiling& t, const MachineView& m) {
  const Layout l = layout_of(p, t, m);
  AttentionFootprint f;
  f.l1 = l.p_at + 2 * l.p_slot;
  // The cube tiles' chunks each take one of two half-buffer slots.
  f.l0a = m.l0a;
  f.l0b = m.l0b;
  f.l0c = l.context_l0c_at + l.context_l0c;
  f.ub = l.partial ? std::max(l.ub_total, combine_ub_bytes(t, l)) : l.ub_total;
  f.workspace = l.ws_total + (l.partial ? most_items_per_core(p, t, m) * l.partial_stride : 0);
  return f;
}

std::optional<std::string> attention_tiling_error(const AttentionProblem& p, const AttentionTiling& t,
                                                  const MachineView& m) {
  if (t.bm == 0 || t.bn == 0) return std::string("fused attention tile sizes must be positive");
  if (!m.cube_shape.count(p.score.a_dtype)) return fmt::format("the cube has no {} mode", dtype_name(p.score.a_dtype));
  if (p.causal && (p.queries == 0 || p.queries > p.score.n || p.score.m % p.queries != 0)) {
    return fmt::format("causal attention needs its {} rows per group to be whole heads of query tokens, at most the {} "
                       "keys; {} tokens per head given",
                       p.score.m, p.score.n, p.queries);
  }
  if (t.kv_chunks == 0) return std::string("fused attention needs at least one KV chunk");
  if (t.kv_chunks > 1) {
    if (p.causal) return std::string("split-KV applies to attention without a causal mask (decode)");
    if (t.kv_chunks > ceil_div(p.score.n, std::uint64_t{t.bn})) {
      return fmt::format("{}: more KV chunks than the {} key tiles", t.describe(), ceil_div(p.score.n, std::uint64_t{t.bn}));
    }
  }
  const AttentionFootprint f = attention_footprint(p, t, m);
  // A query row block and one K chunk must fit half of L0A (cube_tile.cpp).
  const auto chunk = static_cast<Bytes>(static_cast<double>(t.bm) * 16 * bytes_per(p.score.a_dtype));
  return fused_overflow(t.describe(), {f.l1, f.l0c, f.ub, f.workspace, chunk}, m);
}

double fused_attention_flops(const AttentionProblem& p, const AttentionTiling& t) {
  return 2.0 * attention_work(p, t).macs;
}

namespace {

// Cycles before an item's first tile is in steady state: its query load and
// its first tile's hand-offs through GM (scores out, probabilities back,
// context out), each a GM round trip on split cores.
double item_fill_cycles(const MachineView& m) { return (m.split_cores ? 4.0 : 2.0) * m.gm_latency_cycles; }

// Cycles of an item's `keys` keys on its core: the cube's two products
// (rows padded to the fractal) against the K and V loads. Each load is one
// blocking GM request that pays the latency before its bytes stream; the
// share `from_dram` of the bytes comes from DRAM, whose bandwidth the
// `streaming` cores divide, the rest hits in L2 at the core's path rate.
double item_cycles(const AttentionProblem& p, const AttentionTiling& t, const Layout& l, const MachineView& m,
                   std::uint64_t rows, std::uint64_t keys, double from_dram, double streaming) {
  const auto& shape = m.cube_shape.at(p.score.a_dtype);
  const double padded_rows = static_cast<double>(round_up(rows, std::uint64_t{shape[0]}));
  const double cube = padded_rows * static_cast<double>(keys) * static_cast<double>(l.head_dim + l.value_dim) /
                      std::max(1.0, m.cube_macs_per_cycle(p.score.a_dtype));
  const double dram_Bps = m.hbm_Bps > 0 ? m.hbm_Bps : m.ddr_Bps;
  const double dram_share_Bpc =
      dram_Bps > 0 ? std::min(m.gm_read_Bpc, dram_Bps / m.core_clock_hz / std::max(1.0, streaming)) : m.gm_read_Bpc;
  const double bytes = static_cast<double>(keys) * (l.head_dim * l.k_bytes + l.value_dim * l.v_bytes);
  const double loads = 2.0 * static_cast<double>(ceil_div(keys, std::uint64_t{t.bn}));
  const double latency = from_dram * m.gm_latency_cycles + (1 - from_dram) * m.gm_hit_latency_cycles;
  const double path = loads * latency + bytes * (from_dram / dram_share_Bpc + (1 - from_dram) / m.gm_read_Bpc);
  return std::max(cube, path);
}

}  // namespace

double estimate_fused_attention_seconds(const AttentionProblem& p, const AttentionTiling& t, const MachineView& m) {
  const Layout l = layout_of(p, t, m);
  const auto per_core = assign_items(p, t, m.cube_cores);
  // A group's K and V come from DRAM once and from L2 for its other blocks.
  const double from_dram = 1.0 / static_cast<double>(ceil_div(l.rows, std::uint64_t{t.bm}));
  // The busiest core's items, each its fill and its keys.
  double busiest = 0;
  for (const auto& items : per_core) {
    double cycles = 0;
    for (const Item& item : items) {
      const std::uint64_t rows = std::min<std::uint64_t>(t.bm, l.rows - item.block * t.bm);
      const std::uint64_t keys = std::min(l.keys, item.tile_end * t.bn) - item.tile_begin * t.bn;
      cycles += item_fill_cycles(m) + item_cycles(p, t, l, m, rows, keys, from_dram, static_cast<double>(per_core.size()));
    }
    busiest = std::max(busiest, cycles);
  }
  // The chip's DRAM bound: Q, K and V read and the output (or the partials) written once.
  const double once = static_cast<double>(l.groups * l.rows) * (l.head_dim * l.q_bytes + l.value_dim * l.out_bytes) +
                      static_cast<double>(l.groups) * static_cast<double>(l.keys) *
                          (l.head_dim * l.k_bytes + l.value_dim * l.v_bytes) +
                      split_kv_partial_bytes(p, t);
  const double dram = m.hbm_Bps > 0 ? once / m.hbm_Bps : m.ddr_Bps > 0 ? once / m.ddr_Bps : 0.0;
  return std::max(busiest / m.core_clock_hz, dram);
}

namespace {

std::vector<CombineShare> combine_shares(const AttentionProblem& p, const AttentionTiling& t, const Layout& l) {
  std::vector<CombineShare> shares;
  const std::uint64_t blocks = ceil_div(l.rows, std::uint64_t{t.bm});
  for (std::uint64_t group = 0; group < p.score.batch; ++group) {
    for (std::uint64_t block = 0; block < blocks; ++block) {
      const std::uint64_t rows = std::min<std::uint64_t>(t.bm, l.rows - block * t.bm);
      for (int w = 0; w < l.workers; ++w) {
        if (std::uint64_t{l.worker_rows} * static_cast<std::uint64_t>(w) < rows) shares.push_back({group, block, w});
      }
    }
  }
  return shares;
}

int combine_workers(const MachineView& m) { return m.split_cores ? m.vector_cores : m.cube_cores; }

}  // namespace

double estimate_split_kv_combine_seconds(const AttentionProblem& p, const AttentionTiling& t, const MachineView& m) {
  if (t.kv_chunks <= 1) return 0;
  const Layout l = layout_of(p, t, m);
  const auto shares = static_cast<double>(combine_shares(p, t, l).size());
  const double per_worker = std::ceil(shares / std::max(1, combine_workers(m)));
  const double r = l.worker_rows, c = t.kv_chunks;
  const double in = c * r * (static_cast<double>(l.value_dim) + 2) * 4, out = r * static_cast<double>(l.value_dim) * l.out_bytes;
  // Per share: the chunks' loads, one store, and the vector passes over
  // every chunk's rows (scale and add) and the output (normalise, cast).
  const double vector = (2 * c + 2) * r * static_cast<double>(l.value_dim) * 4 / static_cast<double>(m.vector_width_bytes);
  const double cycles = per_worker * ((c + 2) * m.gm_latency_cycles + in / m.gm_read_Bpc + out / m.gm_write_Bpc + vector);
  return cycles / m.core_clock_hz;
}

AttentionTiling choose_attention_tiling(const AttentionProblem& p, const MachineView& m) {
  std::optional<std::string> last_error;
  std::optional<AttentionTiling> chosen;
  // With fewer query rows than a cube fractal (decode), a KV tile costs its
  // loads' latency and its hand-offs almost whatever its length, so longer
  // tiles are tried first.
  std::vector<std::uint64_t> key_tiles = {128, 64, 32, 16};
  const auto shape = m.cube_shape.find(p.score.a_dtype);
  if (shape != m.cube_shape.end() && p.score.m <= shape->second[0]) key_tiles.insert(key_tiles.begin(), 256);
  for (std::uint64_t bm : {128, 64, 32, 16}) {
    for (std::uint64_t bn : key_tiles) {
      for (int score_slots : {2, 1}) {
        for (int context_slots : {2, 1}) {
          AttentionTiling t;
          t.bm = static_cast<std::uint32_t>(std::min(bm, p.score.m));
          t.bn = static_cast<std::uint32_t>(std::min(bn, p.score.n));
          t.score_l0c_slots = score_slots;
          t.context_ub_slots = context_slots;
          last_error = attention_tiling_error(p, t, m);
          if (!last_error && !chosen) chosen = t;
        }
      }
    }
  }
  if (!chosen) {
    throw InputError("fused attention: no tiling fits the machine; the smallest candidate fails with " + *last_error);
  }
  // Split-KV when the units leave cube cores idle or unevenly loaded (32
  // heads on 24 cores): the chunk count the cost model prices fastest, up to
  // four items per core, each chunk at least kMinChunkTiles key tiles so its
  // fill is spread.
  constexpr std::uint64_t kMinChunkTiles = 2, kMostItemsPerCore = 4;
  const std::uint64_t units = p.score.batch * ceil_div(p.score.m, std::uint64_t{chosen->bm});
  const std::uint64_t tiles = ceil_div(p.score.n, std::uint64_t{chosen->bn});
  const auto cores = static_cast<std::uint64_t>(std::max(1, m.cube_cores));
  if (p.causal) return *chosen;
  const std::uint64_t most = std::min(ceil_div(kMostItemsPerCore * cores, units), tiles / kMinChunkTiles);
  AttentionTiling best = *chosen;
  double best_seconds = estimate_fused_attention_seconds(p, best, m);
  for (std::uint64_t chunks = 2; chunks <= most; ++chunks) {
    AttentionTiling t = *chosen;
    t.kv_chunks = static_cast<std::uint32_t>(chunks);
    if (attention_tiling_error(p, t, m)) continue;
    const double seconds = estimate_fused_attention_seconds(p, t, m) + estimate_split_kv_combine_seconds(p, t, m);
    if (seconds < best_seconds) {
      best = t;
      best_seconds = seconds;
    }
  }
  return best;
}

void emit_fused_attention(const AttentionProblem& p, const AttentionTiling& t, const MachineView& m,
                          std::uint64_t workspace_address, std::uint32_t tag, arch::Program& program) {
  if (auto error = attention_tiling_error(p, t, m)) throw InputError(*error);
  const Layout l = layout_of(p, t, m);
  const auto per_core = assign_items(p, t, m.cube_cores);
  for (std::size_t core = 0; core < per_core.size(); ++core) {
    std::vector<Turn> turns;
    std::uint64_t unit_index = 0;
    for (const Item& item : per_core[core]) {
      const auto rows = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bm, l.rows - item.block * t.bm));
      for (std::uint64_t tile = item.tile_begin; tile < item.tile_end; ++tile) {
        const auto keys = static_cast<std::uint32_t>(std::min<std::uint64_t>(t.bn, l.keys - tile * t.bn));
        turns.push_back(Turn{item.group, item.block, tile, rows, keys, tile == item.tile_begin, tile + 1 == item.tile_end,
                             crosses_diagonal(p, t, item.block, tile), turns.size(), unit_index});
      }
      ++unit_index;
    }
    std::vector<std::vector<Instruction>*> workers;
    if (l.split) {
      for (int w = 0; w < l.workers; ++w) {
        workers.push_back(&program.vector_cores.at(core * static_cast<std::uint64_t>(l.workers) + static_cast<std::uint64_t>(w)).instructions);
      }
    }
    CoreEmitter emitter(p, t, m, l, workspace_address + core * fusion_workspace_per_core(m), tag,
                        program.cube_cores.at(core).instructions, workers);
    emitter.emit(turns);
  }
}

void emit_split_kv_combine(const AttentionProblem& p, const AttentionTiling& t, const MachineView& m,
                           std::uint64_t workspace_address, std::uint32_t tag, arch::Program& program) {
  if (auto error = attention_tiling_error(p, t, m)) throw InputError(*error);
  if (t.kv_chunks <= 1) throw InputError(t.describe() + ": a combine job needs a split-KV tiling");
  const Layout l = layout_of(p, t, m);
  // Where each (group, block, chunk) left its partial: its core's slots,
  // after the items that core ran before it.
  std::map<std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>, std::uint64_t> partial_at;
  const auto per_core = assign_items(p, t, m.cube_cores);
  for (std::size_t core = 0; core < per_core.size(); ++core) {
    for (std::size_t k = 0; k < per_core[core].size(); ++k) {
      const Item& item = per_core[core][k];
      partial_at[{item.group, item.block, item.chunk}] =
          workspace_address + core * fusion_workspace_per_core(m) + l.ws_total + k * l.partial_stride;
    }
  }
  const std::uint64_t r_max = l.worker_rows;
  const Bytes acc_slot = align32(r_max * l.value_dim * 4), stats_slot = align32(r_max * 2 * 4);
  const Bytes stats_at = t.kv_chunks * acc_slot, merged_at = stats_at + t.kv_chunks * stats_slot;
  const Bytes out_at = merged_at + align32(4 * r_max * 4);
  constexpr std::uint8_t kInputsFree = 0, kOutFree = 1;
  const int workers = combine_workers(m);
  auto code_of = [&](int w) -> std::vector<Instruction>& {
    return m.split_cores ? program.vector_cores.at(static_cast<std::size_t>(w)).instructions
                         : program.cube_cores.at(static_cast<std::size_t>(w)).instructions;
  };
  const auto shares = combine_shares(p, t, l);
  for (int w = 0; w < workers && static_cast<std::size_t>(w) < shares.size(); ++w) {
    auto& v = code_of(w);
    v.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte2, kInputsFree, tag));
    v.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::vector, kOutFree, tag));
  }
  const DType f32 = DType::fp32;
  for (std::size_t s = 0; s < shares.size(); ++s) {
    const CombineShare& share = shares[s];
    auto& v = code_of(static_cast<int>(s % static_cast<std::size_t>(workers)));
    const std::uint64_t row0 = std::uint64_t{l.worker_rows} * static_cast<std::uint64_t>(share.slice);
    const std::uint64_t block_rows = std::min<std::uint64_t>(t.bm, l.rows - share.block * t.bm);
    const std::uint64_t rows = std::min<std::uint64_t>(l.worker_rows, block_rows - row0);
    const std::uint64_t e = rows * l.value_dim, c = t.kv_chunks;
    v.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte2, kInputsFree, tag));
    for (std::uint64_t chunk = 0; chunk < c; ++chunk) {
      const std::uint64_t at = partial_at.at({share.group, share.block, chunk});
      v.push_back(gm_transfer(Opcode::load, at + row0 * l.value_dim * 4, e * 4, Buffer::ub,
                              static_cast<std::uint32_t>(chunk * acc_slot), f32, tag));
      v.push_back(gm_transfer(Opcode::load, at + l.partial_acc + row0 * 2 * 4, rows * 2 * 4, Buffer::ub,
                              static_cast<std::uint32_t>(stats_at + chunk * stats_slot), f32, tag));
    }
    v.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::vector, kInputsFree, tag));
    v.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::vector, kInputsFree, tag));
    const auto stats = static_cast<std::uint32_t>(stats_at), merged = static_cast<std::uint32_t>(merged_at);
    const auto out = static_cast<std::uint32_t>(out_at);
    v.push_back(vec(VectorOpKind::reduce_max, c * rows, stats, merged, f32, f32, tag));  // the rows' global max
    v.push_back(vec(VectorOpKind::add, c * rows, stats, stats, f32, f32, tag));          // chunk max - global max
    v.push_back(vec(VectorOpKind::exp, c * rows, stats, stats, f32, f32, tag));          // each chunk's scale
    v.push_back(vec(VectorOpKind::mul, c * rows, stats, stats, f32, f32, tag));          // its sum, scaled
    v.push_back(vec(VectorOpKind::reduce_sum, c * rows, stats, merged, f32, f32, tag));  // the rows' total
    v.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::vector, kOutFree, tag));
    for (std::uint64_t chunk = 0; chunk < c; ++chunk) {
      const auto acc = static_cast<std::uint32_t>(chunk * acc_slot);
      v.push_back(vec(VectorOpKind::mul, e, acc, acc, f32, f32, tag));  // scaled to the global max
      if (chunk > 0) v.push_back(vec(VectorOpKind::add, e, acc, 0, f32, f32, tag));
    }
    v.push_back(vec(VectorOpKind::mul, e, 0, 0, f32, f32, tag));  // divide by the total
    v.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte2, kInputsFree, tag));
    v.push_back(vec(VectorOpKind::cast, e, 0, out, f32, p.context.c_dtype, tag));
    v.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte3, kOutFree, tag));
    v.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte3, kOutFree, tag));
    const std::uint64_t out_gm = p.context.c_address + share.group * p.context.c_batch_stride +
                                 bytes_of((share.block * t.bm + row0) * l.value_dim, l.out_bytes);
    v.push_back(gm_transfer(Opcode::store, out_gm, bytes_of(e, l.out_bytes), Buffer::ub, out, p.context.c_dtype, tag));
    v.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::vector, kOutFree, tag));
  }
  for (int w = 0; w < workers && static_cast<std::size_t>(w) < shares.size(); ++w) {
    auto& v = code_of(w);
    v.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte2, kInputsFree, tag));
    v.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::vector, kOutFree, tag));
  }
}

}  // namespace npusim::mapper
