// A matmul's bias (mapper/gemm/gemm_bias.h, mapper/fusion/matmul_bias.h)
// against expectations that do not come from the lowering: the closed-form
// bytes of the bias rows, the bias table's capacity, a bound on the time a
// bias may add, and a shipped model's parameter count.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "mapper/dataflow/dataflow_mapper.h"
#include "mapper/fusion/fusion_plan.h"
#include "mapper/fusion/matmul_bias.h"
#include "mapper/gemm/gemm_bias.h"
#include "mapper/kernel_mapper.h"
#include "sim_harness.h"
#include "workloads/graph_builder.h"
#include "workloads/model_math.h"
#include "workloads/onnx/onnx_import.h"
#include "workloads/onnx_test_models.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

using mapper::GemmProblem;
using mapper::GemmTiling;

constexpr std::uint64_t kBiasAddress = 62ULL << 30;  // clear of cold_copy's operands and scrub_l2's region

std::uint64_t gm_bytes_read_by_cores() {
  std::uint64_t total = 0;
  for (const auto& core : machine_910b2().cores()) total += core->stats().value("gm_bytes_read");
  return total;
}

struct SimulatedGemm {
  double seconds = 0;
  std::uint64_t gm_bytes_read = 0;
};

// From an L2 scrubbed of the operands, so two runs on the same addresses
// start from the same state and differ only by what their programs do.
SimulatedGemm simulate(const GemmProblem& p, const GemmTiling& t) {
  const auto view = run_machine_view(hw_910b2());
  scrub_l2(view);
  arch::Program program = empty_program(view);
  mapper::emit_gemm(p, t, view, 0, program);
  const std::uint64_t before = gm_bytes_read_by_cores();
  const auto timing = machine_910b2().run(program);
  return {ticks_to_seconds(timing.end - timing.start), gm_bytes_read_by_cores() - before};
}

GemmProblem with_bias(GemmProblem p) {
  p.bias_dtype = DType::fp16;
  p.bias_address = kBiasAddress;
  return p;
}

TEST(GemmBias, ReadsOneBiasRowPerRowBlockAndAddsAtMostItsSerialTransfers) {
  const auto view = run_machine_view(hw_910b2());
  const GemmProblem plain = cold_copy(gemm(512, 1024, 2048));
  const GemmProblem biased = with_bias(plain);
  const GemmTiling t{128, 256, 256, 64, false};
  ASSERT_FALSE(mapper::gemm_tiling_error(biased, t, view));

  const SimulatedGemm without = simulate(plain, t);
  const SimulatedGemm with = simulate(biased, t);
  // Closed forms: every (m-block, n-block) loads its bm x K of A and K x bn
  // of B; with a bias, each block also loads its bn columns of the fp16
  // bias row, so the whole row is read once per row block.
  const std::uint64_t m_blocks = 512 / 128, n_blocks = 2048 / 256;
  EXPECT_EQ(without.gm_bytes_read, m_blocks * n_blocks * (128 + 256) * 1024 * 2);
  EXPECT_EQ(with.gm_bytes_read - without.gm_bytes_read, m_blocks * 2048 * 2);

  // Bound: even fully serialised on one core, a block's bias costs one GM
  // round trip and its bytes on the MTE2 path, plus the MTE1 copy into the
  // table; the cube spends nothing on it. The busiest core has
  // ceil(32 / 24) = 2 blocks.
  const double per_block_cycles = view.gm_latency_cycles + 256 * 2 / view.gm_read_Bpc +
                                  256 * 4 / view.l1_to_bias_table_Bpc;
  const double bound_seconds = 2 * per_block_cycles / view.core_clock_hz;
  EXPECT_LE(with.seconds - without.seconds, bound_seconds)
      << "without " << without.seconds << " s, with " << with.seconds << " s";
  RecordProperty("seconds_without_bias", fmt::format("{:.4e}", without.seconds));
  RecordProperty("seconds_with_bias", fmt::format("{:.4e}", with.seconds));
  RecordProperty("bias_bound_seconds", fmt::format("{:.4e}", bound_seconds));
}

TEST(GemmBias, EveryBlockStartsFromItsBiasOnce) {
  const auto view = run_machine_view(hw_910b2());
  const GemmProblem p = with_bias(gemm(300, 512, 1000));  // ragged edges in M and N; never simulated
  const GemmTiling t{128, 256, 256, 64, false};
  arch::Program program = empty_program(view);
  mapper::emit_gemm(p, t, view, 0, program);
  std::uint64_t biased_mmads = 0, bias_bytes = 0, table_bytes = 0;
  for (const auto& core : program.cube_cores) {
    for (const auto& in : core.instructions) {
      if (in.op == arch::Opcode::mmad && in.bias_init) ++biased_mmads;
      if (in.op == arch::Opcode::load && in.gm_address >= kBiasAddress) bias_bytes += in.bytes;
      if (in.op == arch::Opcode::load_l0 && in.dst == arch::Buffer::bias_table) table_bytes += in.bytes;
    }
  }
  const std::uint64_t m_blocks = 3, n_blocks = 4;  // ceil(300/128), ceil(1000/256)
  EXPECT_EQ(biased_mmads, m_blocks * n_blocks);
  EXPECT_EQ(bias_bytes, m_blocks * 1000 * 2);
  EXPECT_EQ(table_bytes, m_blocks * 1000 * 4);  // widened to the fp32 accumulators
}

TEST(GemmBias, TheBiasTableLimitsTheBlockWidth) {
  const auto view = run_machine_view(hw_910b2());
  ASSERT_EQ(view.bias_table, 1024u);  // 910B2: 1 KiB [A7, A11]
  const GemmProblem plain = gemm(512, 1024, 2048);
  const GemmProblem biased = with_bias(plain);
  const GemmTiling fits{128, 256, 256, 64, false};
  const GemmTiling too_wide{64, 512, 128, 32, false};  // fits every other buffer
  const auto f = mapper::gemm_footprint(biased, fits);
  EXPECT_EQ(f.bias_table, 256u * 4);
  EXPECT_EQ(f.l1, mapper::gemm_footprint(plain, fits).l1 + 256 * 2);
  EXPECT_FALSE(mapper::gemm_tiling_error(plain, too_wide, view));
  const auto error = mapper::gemm_tiling_error(biased, too_wide, view);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("bias table"), std::string::npos) << *error;

  // The search only offers tilings whose bias fits.
  mapper::GemmTilingCache cache;
  const auto& choice = cache.choose(biased, view);
  EXPECT_LE(std::uint64_t{choice.tiling.bn} * 4, view.bias_table) << choice.tiling.describe();
}

// x -> gate (biased) and up (unbiased) -> SwiGLU.
struct Toy {
  workloads::Graph graph{"toy"};
  workloads::OpId gate = 0;
};

Toy biased_swiglu() {
  Toy t;
  workloads::GraphBuilder b(t.graph, DType::fp16, DType::fp16, DType::fp16);
  const auto x = b.activation("x", {16, 256}, 0);
  const auto g = b.linear("gate", 0, x, 16, 256, 512, /*bias=*/true);
  const auto u = b.linear("up", 0, x, 16, 256, 512);
  b.vector_op(workloads::OpKind::SwiGLU, "act", 0, {g, u}, {16, 512});
  t.gate = *t.graph.find_op("gate");
  return t;
}

TEST(GemmBias, RecognisedOnlyAsAPerColumnThirdInput) {
  const Toy t = biased_swiglu();
  const auto bias = mapper::matmul_bias(t.graph, t.gate);
  ASSERT_TRUE(bias);
  EXPECT_EQ(t.graph.tensor(*bias).name, "gate.bias");
  EXPECT_FALSE(mapper::matmul_bias(t.graph, *t.graph.find_op("up")));
}

TEST(GemmBias, LoweringsWithoutABiasPathDeclineBiasedOps) {
  const Toy t = biased_swiglu();
  const auto view = run_machine_view(hw_910b2());
  mapper::FusionOptions fusion;
  fusion.epilogues = true;
  // The fused SwiGLU tiles start from zero, so a biased gate stays unfused
  // and goes through emit_gemm, which adds the bias.
  EXPECT_TRUE(mapper::plan_fusions(t.graph, fusion, view).swiglu.empty());

  // Outside decoder layers a chain runs on dataflow stage GEMMs, which have
  // no bias path; inside a layer the layer pipeline lowers each op with
  // emit_gemm, which adds it.
  auto chain = [](int layer) {
    workloads::Graph g("chain");
    workloads::GraphBuilder b(g, DType::fp16, DType::fp16, DType::fp16);
    const auto x = b.activation("x", {16, 256}, layer);
    const auto h = b.linear("first", layer, x, 16, 256, 256);
    b.linear("second", layer, h, 16, 256, 256, /*bias=*/true);
    return g;
  };
  const auto stages = mapper::map_dataflow(chain(-1), view);
  EXPECT_FALSE(stages.applies);
  EXPECT_NE(stages.reason.find("has a bias"), std::string::npos) << stages.reason;
  const auto layers = mapper::map_dataflow(chain(0), view);
  ASSERT_TRUE(layers.applies) << layers.reason;
  std::uint64_t biased_mmads = 0;
  for (const auto& core : layers.program.cube_cores) {
    for (const auto& in : core.instructions) biased_mmads += in.op == arch::Opcode::mmad && in.bias_init;
  }
  EXPECT_GT(biased_mmads, 0u);
}

// ONNX Gemm's C, one value per output column, is the same bias: imported
// as the op's third input, it reaches the bias table.
TEST(GemmBias, OnnxGemmWithAPerColumnCIsBiased) {
  OnnxModelBuilder b;
  b.input("a", {64, 256});
  b.weight("proj.weight", {512, 256});
  b.weight("proj.bias", {512});
  auto* gemm = b.node("Gemm", "/proj/Gemm", {"a", "proj.weight", "proj.bias"}, {"g"});
  OnnxModelBuilder::int_attr(gemm, "transB", 1);
  b.output("g", {64, 512});
  workloads::OnnxImportOptions options;
  options.weight_dtype = DType::fp16;
  options.activation_dtype = DType::fp16;
  const auto g = workloads::import_onnx(b.save(scratch_dir() + "/gemm_bias.onnx"), options);
  const auto proj = g.find_op("proj");
  ASSERT_TRUE(proj);
  const auto bias = mapper::matmul_bias(g, *proj);
  ASSERT_TRUE(bias);
  EXPECT_EQ(g.tensor(*bias).name, "proj.bias");

  const auto view = run_machine_view(hw_910b2());
  mapper::GemmTilingCache cache;
  std::uint64_t biased_mmads = 0;
  std::vector<std::pair<std::uint64_t, Bytes>> loads;
  const auto placement = mapper::for_each_kernel_job(g, view, cache, mapper::MapperOptions{}, [&](mapper::Job& job) {
    for (const auto& core : job.program.cube_cores) {
      for (const auto& in : core.instructions) {
        biased_mmads += in.op == arch::Opcode::mmad && in.bias_init;
        if (in.op == arch::Opcode::load) loads.emplace_back(in.gm_address, in.bytes);
      }
    }
  });
  const std::uint64_t bias_start = placement.read_address(*bias);
  std::uint64_t bias_bytes = 0;
  for (const auto& [address, bytes] : loads) {
    if (address >= bias_start && address + bytes <= bias_start + 512 * 2) bias_bytes += bytes;
  }
  // Every output block starts from its slice once; each row block reads the
  // whole row once.
  const GemmTiling t = cache.choose(mapper::gemm_problem_for(g, *proj, placement), view).tiling;
  const std::uint64_t m_blocks = ceil_div(64, t.bm), n_blocks = ceil_div(512, t.bn);
  EXPECT_EQ(biased_mmads, m_blocks * n_blocks) << t.describe();
  EXPECT_EQ(bias_bytes, m_blocks * 512 * 2) << t.describe();
}

// Qwen1.5-MoE's q/k/v projections carry biases: a decode step's matmuls
// must read every matmul weight a token uses plus every attention bias,
// which is what the model's closed-form parameter count says.
TEST(GemmBias, QwenMoeDecodeReadsItsQkvBiases) {
  workloads::WorkloadParams params;
  params.phase = workloads::Phase::decode;
  params.seq = 256;
  params.batch = 1;
  const auto w =
      workloads::build_workload_from_file(source_path("configs/models/qwen1.5-moe-a2.7b.yaml"), params);
  ASSERT_TRUE(w.model.attention_bias);
  const auto& g = w.graphs.front();
  const auto view = run_machine_view(hw_910b2());
  mapper::GemmTilingCache cache;
  mapper::MapperOptions options;
  options.placement.activations.has_spill = true;

  // Every GM load of the matmul jobs, classified once the placement is known.
  std::vector<std::pair<std::uint64_t, Bytes>> loads;
  std::uint64_t biased_ops = 0;
  const mapper::Placement placement = mapper::for_each_kernel_job(g, view, cache, options, [&](mapper::Job& job) {
    if (!workloads::is_matmul_like(g.op(job.op).kind)) return;
    biased_ops += mapper::matmul_bias(g, job.op).has_value();
    for (const auto& core : job.program.cube_cores) {
      for (const auto& in : core.instructions) {
        if (in.op == arch::Opcode::load && in.src == arch::Buffer::gm) loads.emplace_back(in.gm_address, in.bytes);
      }
    }
  });
  std::map<std::uint64_t, std::uint64_t> weight_end;  // start -> end of each weight in GM
  for (const auto& t : g.tensors()) {
    if (t.role != workloads::TensorRole::weight || t.bytes() == 0) continue;
    const std::uint64_t start = placement.read_address(t.id);
    weight_end[start] = start + t.bytes();
  }
  std::uint64_t weight_bytes_read = 0;
  for (const auto& [address, bytes] : loads) {
    auto it = weight_end.upper_bound(address);
    if (it == weight_end.begin()) continue;
    --it;
    if (address + bytes <= it->second) weight_bytes_read += bytes;
  }

  const auto& c = w.model;
  const std::uint64_t bias_params = c.num_layers * (c.num_heads + 2 * c.num_kv_heads) * c.head_dim;
  const std::uint64_t expected =
      (workloads::count_parameters(c).matmul_active + bias_params) * dtype_bits(c.dtype) / 8;
  EXPECT_EQ(biased_ops, 3 * c.num_layers);
  EXPECT_EQ(weight_bytes_read, expected) << "bias bytes alone: " << bias_params * dtype_bits(c.dtype) / 8;
}

}  // namespace
}  // namespace npusim::test
