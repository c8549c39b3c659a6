// A quantized KV cache read by an unfused attention matmul, on split cores:
// like a weight the cube cannot read (weight_expansion_test.cpp), the AIVs
// load the stored cache, dequantize it and hand the AIC dense K/V panels
// through the GM workspace. Coupled cores keep dequantizing alongside.
//
// Llama-2-7B, decode of one token after 64 cached ones, kv-int8 (int8 with a
// per-token fp16 scale, pages of 16 tokens: 64 tokens are 4 whole pages):
// per KV head (32 of them, one batch item each) the score matmul's B is
// K^T, 128 x 65 (the 64 cached keys and this step's fresh one, at fp16).
#include <gtest/gtest.h>

#include <cstdio>

#include "mapper/compression/apply_plan.h"
#include "mapper/compression/gemm_operands.h"
#include "mapper/compression/plan.h"
#include "mapper/gemm/gemm_expansion.h"
#include "mapper/kernel_mapper.h"
#include "sim_harness.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

using arch::Buffer;
using arch::Opcode;

constexpr double kHeads = 32, kWidth = 128, kCached = 64, kKeys = kCached + 1;
// int8 values and one fp16 scale per token and head.
constexpr double kStoredKeyBytes = kCached * (kWidth + 2) + (kKeys - kCached) * kWidth * 2;
constexpr double kStoredK = kHeads * kStoredKeyBytes;  // 274,432 B
constexpr double kDenseK = kHeads * kKeys * kWidth * 2;  // 532,480 B
constexpr double kQuery = kHeads * kWidth * 2;           // A: one query row per head

struct Mapped {
  std::vector<workloads::Graph> graphs;
  mapper::Placement placement;
  std::vector<mapper::Job> jobs;
  mapper::GemmTiling tiling;  // the op's GEMM tiling
  const workloads::Graph& graph() const { return graphs.front(); }
  // A's bytes the AIC loads: once per block column unless A is resident.
  double a_loaded(const std::string& name) const {
    const auto p = mapper::gemm_problem_for(graph(), *graph().find_op("layers.0.self_attn." + name), placement);
    const double loads = tiling.a_resident ? 1.0 : static_cast<double>((p.n + tiling.bn - 1) / tiling.bn);
    return static_cast<double>(p.batch * p.m * p.k) * 2 * loads;
  }
};

// The kernel-by-kernel jobs of layer 0's op `name` in a decode step of
// Llama-2-7B after 64 tokens, under a compression plan.
Mapped map_attention(const std::string& hw_file, const std::string& plan, const std::string& name,
                     std::uint64_t cached = static_cast<std::uint64_t>(kCached)) {
  HwConfig hw = load_hw_config(source_path(hw_file));
  workloads::WorkloadParams params;
  params.phase = workloads::Phase::decode;
  params.seq = cached;
  Mapped m;
  m.graphs = build_workload_from_file(source_path("configs/models/llama-2-7b.yaml"), params).graphs;
  const auto resolved = mapper::resolve_compression_plan(
      ConfigNode::load_file(source_path("configs/compression/" + plan + ".yaml")));
  mapper::apply_compression_plan(resolved, m.graphs, mapper::compression_target(hw.machine.core));
  const auto view = run_machine_view(hw);
  mapper::GemmTilingCache cache;
  m.placement = mapper::for_each_kernel_job(
      m.graph(), view, cache, mapper::MapperOptions{}, [&](mapper::Job& job) { m.jobs.push_back(std::move(job)); },
      [&](const workloads::Op& op) { return op.name == "layers.0.self_attn." + name; });
  const auto id = *m.graph().find_op("layers.0.self_attn." + name);
  m.tiling = cache.choose(mapper::gemm_problem_for(m.graph(), id, m.placement), view).tiling;
  return m;
}

struct Moved {
  double aic_b = 0, aic_other = 0;  // AIC loads into L1 from the workspace, and from elsewhere
  double aiv_loaded = 0, aiv_stored = 0;
  double dequantized = 0;  // elements of the AIVs' dequantize sweeps
  // Each AIV load and sweep rounds its bytes or elements up by less than one.
  double aiv_loads = 0, sweeps = 0;
};
Moved moved(const mapper::Job& job, const mapper::Placement& placement) {
  Moved m;
  const std::uint64_t ws = placement.expansion_workspace_address, ws_end = ws + placement.expansion_workspace_bytes;
  for (const auto& core : job.program.cube_cores) {
    for (const auto& in : core.instructions) {
      if (in.op != Opcode::load || in.src != Buffer::gm || in.dst != Buffer::l1) continue;
      const bool from_workspace = in.gm_address >= ws && in.gm_address + in.bytes <= ws_end;
      (from_workspace ? m.aic_b : m.aic_other) += static_cast<double>(in.bytes);
    }
  }
  for (const auto& core : job.program.vector_cores) {
    for (const auto& in : core.instructions) {
      if (in.op == Opcode::load && in.src == Buffer::gm) {
        m.aiv_loaded += static_cast<double>(in.bytes);
        ++m.aiv_loads;
      }
      if (in.op == Opcode::store && in.dst == Buffer::gm) m.aiv_stored += static_cast<double>(in.bytes);
      if (in.op == Opcode::vector_op && in.vector_kind == arch::VectorOpKind::dequantize) {
        m.dequantized += static_cast<double>(in.elements);
        ++m.sweeps;
      }
    }
  }
  return m;
}

// Split cores: the placement reserves the workspace for the cache alone (the
// plan quantizes no weight); the AIVs load the stored K and write it dense,
// the AIC loads dense K from the workspace and only the query elsewhere.
TEST(KvExpansion, SplitCoreScoreLoadsDenseKeysFromTheWorkspace) {
  const Mapped m = map_attention("configs/hw/ascend-910b2.yaml", "kv-int8", "qk_matmul");
  ASSERT_GT(m.placement.expansion_workspace_bytes, 0u);
  ASSERT_EQ(m.jobs.size(), 1u);
  const Moved b = moved(m.jobs.front(), m.placement);
  EXPECT_GE(b.aiv_loaded, kStoredK);
  EXPECT_LT(b.aiv_loaded, kStoredK + b.aiv_loads);
  EXPECT_DOUBLE_EQ(b.aiv_stored, kDenseK);
  EXPECT_DOUBLE_EQ(b.aic_b, kDenseK) << "the AIC's port carries dense K";
  EXPECT_DOUBLE_EQ(b.aic_other, m.a_loaded("qk_matmul")) << "and only the query elsewhere";
  // The 64 quantized keys of 65 are dequantized, 1 pass each.
  EXPECT_GE(b.dequantized, kHeads * kCached * kWidth);
  EXPECT_LT(b.dequantized, kHeads * kCached * kWidth + b.sweeps);

  const auto id = *m.graph().find_op("layers.0.self_attn.qk_matmul");
  const auto p = mapper::gemm_problem_for(m.graph(), id, m.placement);
  ASSERT_TRUE(p.b_expanded_by_vector());
  EXPECT_TRUE(mapper::operand_work(m.graph(), id, p).empty()) << "nothing dequantized alongside";
}

// The context matmul reads V the same way (B = V, 65 x 128 per head).
TEST(KvExpansion, SplitCoreContextLoadsDenseValuesFromTheWorkspace) {
  const Mapped m = map_attention("configs/hw/ascend-910b2.yaml", "kv-int8", "pv_matmul");
  ASSERT_EQ(m.jobs.size(), 1u);
  const Moved b = moved(m.jobs.front(), m.placement);
  EXPECT_GE(b.aiv_loaded, kStoredK);
  EXPECT_LT(b.aiv_loaded, kStoredK + b.aiv_loads);
  EXPECT_DOUBLE_EQ(b.aiv_stored, kDenseK);
  EXPECT_DOUBLE_EQ(b.aic_b, kDenseK);
  EXPECT_DOUBLE_EQ(b.aic_other, m.a_loaded("pv_matmul")) << "A: a row of 65 probabilities per head and block column";
}

// Pivot tokens stay at fp16: with kv-int4-pivot the first 4 of the 64 cached
// tokens are not dequantized, so a pass covers 60/65 of every panel.
TEST(KvExpansion, PivotTokensAreNotDequantized) {
  const Mapped m = map_attention("configs/hw/ascend-910b2.yaml", "kv-int4-pivot", "qk_matmul");
  const auto id = *m.graph().find_op("layers.0.self_attn.qk_matmul");
  const auto passes = mapper::kv_expansion_passes(m.graph(), id);
  ASSERT_EQ(passes.size(), 1u);
  EXPECT_DOUBLE_EQ(passes[0].per_element, (kCached - 4) / kKeys);
  ASSERT_EQ(m.jobs.size(), 1u);
  const Moved b = moved(m.jobs.front(), m.placement);
  EXPECT_GE(b.dequantized, kHeads * (kCached - 4) * kWidth);
  EXPECT_LT(b.dequantized, kHeads * (kCached - 4) * kWidth + b.sweeps);
}

// Coupled cores (910): no workspace; the stored cache reaches the cube and
// the quantized tokens are dequantized alongside.
TEST(KvExpansion, CoupledCoresDequantizeAlongside) {
  const Mapped m = map_attention("configs/hw/ascend-910.yaml", "kv-int8", "qk_matmul");
  EXPECT_EQ(m.placement.expansion_workspace_bytes, 0u);
  ASSERT_EQ(m.jobs.size(), 1u);
  const auto id = *m.graph().find_op("layers.0.self_attn.qk_matmul");
  const auto p = mapper::gemm_problem_for(m.graph(), id, m.placement);
  EXPECT_FALSE(p.b_expanded_by_vector());
  const auto work = mapper::operand_work(m.graph(), id, p);
  ASSERT_EQ(work.alongside.size(), 1u);
  EXPECT_DOUBLE_EQ(static_cast<double>(work.alongside[0].elements), kHeads * kCached * kWidth);
}

// Simulated on the 910B2 from a scrubbed L2: HBM reads the stored cache and
// the query, not the dense panels, which round-trip through L2.
TEST(KvExpansion, HbmReadsTheStoredCacheOnly) {
  const Mapped m = map_attention("configs/hw/ascend-910b2.yaml", "kv-int8", "qk_matmul");
  ASSERT_EQ(m.jobs.size(), 1u);
  const auto view = run_machine_view(hw_910b2());
  scrub_l2(view);
  auto& machine = machine_910b2();
  const auto& hbm = machine.hbm()->stats();
  const double before = hbm.value("bytes_read");
  machine.run(m.jobs.front().program);
  const double read = hbm.value("bytes_read") - before;
  std::printf("HBM read %.0f B; stored K %.0f + query %.0f = %.0f; dense K %.0f\n", read, kStoredK, kQuery,
              kStoredK + kQuery, kDenseK);
  // Whole lines are fetched: allow a line (128 B on the 910B2) at each end
  // of every head's K and query.
  EXPECT_GE(read, kStoredK + kQuery);
  EXPECT_LE(read, kStoredK + kQuery + 2 * kHeads * 2 * 128) << "the dense panels must not be read from HBM";
}

// The tiling search sees the AIVs' pace (gemm_cost.cpp): at context 2048 its
// estimate of each attention matmul's job is within 25% of the simulation.
// Before it did, it took 48-column panels of 64 keys for Q.K^T, estimated at
// 5.5 us and simulated at 13.8 us.
TEST(KvExpansion, EstimateTracksTheSimulatedPipelineAtLongContext) {
  const auto view = run_machine_view(hw_910b2());
  for (const char* name : {"qk_matmul", "pv_matmul"}) {
    const Mapped m = map_attention("configs/hw/ascend-910b2.yaml", "kv-int8", name, 2048);
    ASSERT_EQ(m.jobs.size(), 1u);
    scrub_l2(view);
    const auto timing = machine_910b2().run(m.jobs.front().program);
    const double simulated = ticks_to_seconds(timing.end - timing.start), estimated = m.jobs.front().estimated_seconds;
    std::printf("%s %s: estimated %.3f us, simulated %.3f us\n", name, m.jobs.front().tiling.c_str(), estimated * 1e6,
                simulated * 1e6);
    EXPECT_GT(estimated, simulated / 1.25) << name;
    EXPECT_LT(estimated, simulated * 1.25) << name;
  }
}

}  // namespace
}  // namespace npusim::test
