// Causal tile skipping and split-KV decode in the fused attention lowering
// (mapper/attention/), against closed forms that do not come from it: the
// triangle of score tiles a causal prefill needs, each K and V byte read
// once by a split decode, the combine's partials, and simulated speed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mapper/attention/fused_attention.h"
#include "mapper/fusion/workspace.h"
#include "mapper/kernel_mapper.h"
#include "sim_harness.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

workloads::Workload model(const char* file, workloads::Phase phase, std::uint64_t seq) {
  workloads::WorkloadParams params;
  params.phase = phase;
  params.seq = seq;
  params.batch = 1;
  return workloads::build_workload_from_file(source_path(file), params);
}

// Layer 0's attention chain as the fused lowering sees it, with its placement.
struct LayerAttention {
  mapper::AttentionProblem problem;
  mapper::Placement placement;
};

LayerAttention layer0_attention(const workloads::Graph& g, const mapper::MachineView& view) {
  LayerAttention a;
  a.placement = mapper::place_tensors(g, view, mapper::PlacementPolicy{}, mapper::fusion_workspace_bytes(view));
  const auto score = *g.find_op("layers.0.self_attn.qk_matmul");
  const auto context = *g.find_op("layers.0.self_attn.pv_matmul");
  a.problem.score = mapper::gemm_problem_for(g, score, a.placement);
  a.problem.context = mapper::gemm_problem_for(g, context, a.placement);
  a.problem.causal = g.op(score).causal;
  if (a.problem.causal) a.problem.queries = g.tensor(g.op(score).outputs.front()).shape[2];
  return a;
}

struct Counted {
  double macs = 0, reads = 0, writes = 0, staged_reads = 0, staged_writes = 0;
};

bool in_workspace(std::uint64_t address, const mapper::Placement& p) {
  return address >= p.workspace_address && address < p.workspace_address + p.workspace_bytes;
}

Counted count(const arch::Program& program, const mapper::Placement& placement) {
  Counted c;
  auto add = [&](const arch::CoreProgram& core) {
    for (const auto& in : core.instructions) {
      if (in.op == arch::Opcode::mmad) c.macs += double(in.m) * in.k * in.n;
      const bool load = in.op == arch::Opcode::load;
      const bool store = in.op == arch::Opcode::store || (in.op == arch::Opcode::fixpipe && in.dst == arch::Buffer::gm);
      if (!load && !store) continue;
      const bool staged = in_workspace(in.gm_address, placement);
      (load ? (staged ? c.staged_reads : c.reads) : (staged ? c.staged_writes : c.writes)) += double(in.bytes);
    }
  };
  for (const auto& core : program.cube_cores) add(core);
  for (const auto& core : program.vector_cores) add(core);
  return c;
}

double simulate(const arch::Program& program, const mapper::MachineView& view) {
  scrub_l2(view);
  const auto t = machine_910b2().run(program);
  return ticks_to_seconds(t.end - t.start);
}

// The attention job and, when split, its combine job, simulated back to back.
double simulate_attention(const LayerAttention& a, const mapper::AttentionTiling& t, const mapper::MachineView& view) {
  arch::Program job = empty_program(view);
  mapper::emit_fused_attention(a.problem, t, view, a.placement.workspace_address, 0, job);
  double seconds = simulate(job, view);
  if (t.kv_chunks > 1) {
    arch::Program combine = empty_program(view);
    mapper::emit_split_kv_combine(a.problem, t, view, a.placement.workspace_address, 0, combine);
    const auto timing = machine_910b2().run(combine);
    seconds += ticks_to_seconds(timing.end - timing.start);
  }
  return seconds;
}

// Prefill of S = 2048 with 128 x 128 tiles: T = 16 query blocks and key
// tiles per head, of which the causal mask leaves T (T + 1) / 2 = 136.
TEST(AttentionSplit, CausalPrefillComputesTheTriangleOfTiles) {
  const auto view = run_machine_view(hw_910b2());
  const auto w = model("configs/models/llama-2-7b.yaml", workloads::Phase::prefill, 2048);
  const auto a = layer0_attention(w.graphs.front(), view);
  ASSERT_TRUE(a.problem.causal);
  const auto t = mapper::choose_attention_tiling(a.problem, view);
  ASSERT_EQ(t.bm, 128u);
  ASSERT_EQ(t.bn, 128u);
  ASSERT_EQ(t.kv_chunks, 1u);
  arch::Program program = empty_program(view);
  mapper::emit_fused_attention(a.problem, t, view, a.placement.workspace_address, 0, program);
  const Counted c = count(program, a.placement);
  const double heads = 32, seq = 2048, head_dim = 128, b = 128, tiles = seq / b, triangle = tiles * (tiles + 1) / 2;
  const double full_macs = heads * seq * seq * 2 * head_dim;  // Q K^T and P V over the square
  EXPECT_DOUBLE_EQ(c.macs, heads * triangle * b * b * 2 * head_dim);
  EXPECT_DOUBLE_EQ(c.macs, full_macs * triangle / (tiles * tiles));
  EXPECT_DOUBLE_EQ(mapper::fused_attention_flops(a.problem, t), 2 * c.macs);
  EXPECT_EQ(mapper::attention_work(a.problem, t).score_tiles, static_cast<std::uint64_t>(heads * triangle));
  // GM reads: Q once; K and V, b keys x head_dim x 2 B each, once per tile computed.
  const double q = heads * seq * head_dim * 2, kv_tile = b * head_dim * 2;
  EXPECT_DOUBLE_EQ(c.reads, q + 2 * heads * triangle * kv_tile);
  EXPECT_DOUBLE_EQ(mapper::attention_work(a.problem, t).kv_bytes, 2 * heads * triangle * kv_tile);
  EXPECT_DOUBLE_EQ(c.writes, heads * seq * head_dim * 2);  // the context, once
}

// Grouped-query attention: a group's rows are its 4 query heads' tokens,
// head-major, so each head's blocks see their own diagonal.
TEST(AttentionSplit, CausalSkippingFollowsEachHeadOfAGroup) {
  const auto view = run_machine_view(hw_910b2());
  const auto w = model("configs/models/llama-3-8b.yaml", workloads::Phase::prefill, 1024);
  const auto a = layer0_attention(w.graphs.front(), view);
  ASSERT_EQ(a.problem.score.batch, 8u);   // KV heads
  ASSERT_EQ(a.problem.score.m, 4u * 1024);  // 4 query heads x 1024 tokens
  const auto t = mapper::choose_attention_tiling(a.problem, view);
  ASSERT_EQ(t.bm, 128u);
  ASSERT_EQ(t.bn, 128u);
  arch::Program program = empty_program(view);
  mapper::emit_fused_attention(a.problem, t, view, a.placement.workspace_address, 0, program);
  const Counted c = count(program, a.placement);
  const double heads = 32, tiles = 1024 / 128, triangle = tiles * (tiles + 1) / 2;
  EXPECT_DOUBLE_EQ(c.macs, heads * triangle * 128 * 128 * 2 * 128);
  EXPECT_DOUBLE_EQ(c.reads, heads * 1024 * 128 * 2 + 2 * heads * triangle * 128 * 128 * 2);
}

// Without the causal flag (an encoder's or cross attention) every tile is
// computed, and the transformer builder marks prefill causal and decode not.
TEST(AttentionSplit, NonCausalAttentionComputesEveryTile) {
  const auto view = run_machine_view(hw_910b2());
  const auto w = model("configs/models/llama-2-7b.yaml", workloads::Phase::prefill, 1024);
  auto a = layer0_attention(w.graphs.front(), view);
  a.problem.causal = false;
  const auto t = mapper::choose_attention_tiling(a.problem, view);
  arch::Program program = empty_program(view);
  mapper::emit_fused_attention(a.problem, t, view, a.placement.workspace_address, 0, program);
  const Counted c = count(program, a.placement);
  EXPECT_DOUBLE_EQ(c.macs, 32.0 * 1024 * 1024 * 2 * 128);
  EXPECT_DOUBLE_EQ(c.reads, 32.0 * 1024 * 128 * 2 * (1 + 2 * 1024 / 128));
  const auto d = model("configs/models/llama-2-7b.yaml", workloads::Phase::decode, 1024);
  EXPECT_FALSE(d.graphs.front().op(*d.graphs.front().find_op("layers.0.self_attn.qk_matmul")).causal);
  // A causal problem whose rows are not whole heads is refused by name.
  a.problem.causal = true;
  a.problem.queries = 1000;
  const auto error = mapper::attention_tiling_error(a.problem, t, view);
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("whole heads"), std::string::npos) << *error;
}

// Llama-3-8B decode at context 8192, batch 1: 8 KV heads (each 4 query
// heads) for 24 cube cores, so the keys are split; every K and V byte is
// still read once, the partials are chunks x heads x (head_dim + 2) fp32
// values written once and read once, and the output is written once, by
// the combine job.
TEST(AttentionSplit, SplitKvDecodeReadsEachKvByteOnceAndCombinesItsPartials) {
  const auto view = run_machine_view(hw_910b2());
  const auto w = model("configs/models/llama-3-8b.yaml", workloads::Phase::decode, 8192);
  const auto a = layer0_attention(w.graphs.front(), view);
  const auto t = mapper::choose_attention_tiling(a.problem, view);
  ASSERT_GT(t.kv_chunks, 1u) << t.describe();
  const double chunks = t.kv_chunks, heads = 32, kv_heads = 8, keys = 8192 + 1, head_dim = 128;
  arch::Program job = empty_program(view), combine = empty_program(view);
  mapper::emit_fused_attention(a.problem, t, view, a.placement.workspace_address, 0, job);
  mapper::emit_split_kv_combine(a.problem, t, view, a.placement.workspace_address, 0, combine);
  const Counted j = count(job, a.placement), c = count(combine, a.placement);
  const double kv = 2 * kv_heads * keys * head_dim * 2, q = heads * head_dim * 2;
  EXPECT_DOUBLE_EQ(j.reads, kv + chunks * q);  // each chunk loads its group's queries
  EXPECT_DOUBLE_EQ(j.writes, 0);               // the output is the combine's
  EXPECT_DOUBLE_EQ(j.macs, heads * keys * 2 * head_dim);
  const double partials = chunks * heads * (head_dim + 2) * 4;
  EXPECT_DOUBLE_EQ(mapper::split_kv_partial_bytes(a.problem, t), partials);
  EXPECT_DOUBLE_EQ(c.staged_reads, partials);
  EXPECT_DOUBLE_EQ(c.reads + c.staged_writes + c.macs, 0);
  EXPECT_DOUBLE_EQ(c.writes, heads * head_dim * 2);
  // The attention job's own hand-offs go through the workspace too; the
  // partials are the part of its staged writes beyond the hand-off slots.
  EXPECT_GE(j.staged_writes, partials);
}

// The split the cost model picks is faster in simulation than the same
// tiling unsplit, combine job included, and so is Llama-2-7B's (32 heads on
// 24 cores: unsplit, 8 cores take two heads).
TEST(AttentionSplit, SplitKvDecodeIsFasterThanUnsplit) {
  const auto view = run_machine_view(hw_910b2());
  for (const char* file : {"configs/models/llama-3-8b.yaml", "configs/models/llama-2-7b.yaml"}) {
    SCOPED_TRACE(file);
    const auto w = model(file, workloads::Phase::decode, 8192);
    const auto a = layer0_attention(w.graphs.front(), view);
    const auto split = mapper::choose_attention_tiling(a.problem, view);
    ASSERT_GT(split.kv_chunks, 1u) << split.describe();
    auto unsplit = split;
    unsplit.kv_chunks = 1;
    const double t_split = simulate_attention(a, split, view), t_unsplit = simulate_attention(a, unsplit, view);
    RecordProperty(std::string(file) + " split_us", std::to_string(t_split * 1e6));
    RecordProperty(std::string(file) + " unsplit_us", std::to_string(t_unsplit * 1e6));
    EXPECT_LT(t_split, t_unsplit) << split.describe() << ": " << t_split * 1e6 << " us, unsplit " << t_unsplit * 1e6;
    // K and V once from HBM bound it from below.
    const double kv = double(mapper::attention_work(a.problem, split).kv_bytes);
    EXPECT_GT(t_split, kv / view.hbm_Bps);
  }
}

}  // namespace
}  // namespace npusim::test
