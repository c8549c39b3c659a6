// What the lowering gets for a matmul once a plan is applied: operand
// precisions, stored bytes of B, cube sparsity, and the vector work that
// expands what the cube cannot read (mapper/compression/gemm_operands.h).
#include <gtest/gtest.h>

#include "mapper/compression/apply_plan.h"
#include "mapper/compression/gemm_operands.h"
#include "mapper/compression/plan.h"
#include "mapper/kernel_mapper.h"
#include "sim/config/hw_config.h"
#include "support/test_paths.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

using arch::VectorOpKind;
using mapper::GemmProblem;

struct Annotated {
  std::vector<workloads::Graph> graphs;
  mapper::MachineView view;
  const workloads::Graph& graph() const { return graphs.front(); }
  workloads::OpId op(const std::string& name) const { return *graph().find_op(name); }
  GemmProblem problem(const std::string& name) const {
    return mapper::gemm_problem_for(graph(), op(name), mapper::place_tensors(graph(), view));
  }
};

Annotated annotate(const std::string& plan_yaml, bool sparse_cube = false, std::uint64_t seq = 64) {
  HwConfig hw = load_hw_config(source_path("configs/hw/ascend-910b2.yaml"));
  hw.machine.core.sparse.supported = sparse_cube;
  workloads::WorkloadParams p;
  p.phase = workloads::Phase::decode;
  p.seq = seq;
  Annotated a{build_workload_from_file(source_path("configs/models/llama-2-7b.yaml"), p).graphs, machine_view(hw)};
  const auto plan = mapper::resolve_compression_plan(ConfigNode::load_string(plan_yaml, "plan.yaml"));
  mapper::apply_compression_plan(plan, a.graphs, mapper::compression_target(hw.machine.core));
  return a;
}

double pass(const mapper::VectorProblem& v, VectorOpKind kind) {
  for (const auto& p : v.passes) {
    if (p.kind == kind) return p.per_element;
  }
  return 0;
}

TEST(Operands, W4A8WidensInt4OnTheVectorUnit) {
  const auto a = annotate("name: p\nrules:\n  - match: '*'\n    weights: int4\n    activations: int8\n    group_size: 128\n");
  const GemmProblem p = a.problem("layers.3.mlp.down_proj");
  EXPECT_EQ(p.a_dtype, DType::int8);
  EXPECT_EQ(p.b_dtype, DType::int8);
  EXPECT_DOUBLE_EQ(p.b_stored_bits, 4.125);
  EXPECT_EQ(mapper::accumulator_dtype(p.a_dtype), DType::int32) << "int8 accumulates in int32";
  const auto work = mapper::operand_work(a.graph(), a.op("layers.3.mlp.down_proj"), p);
  ASSERT_EQ(work.alongside.size(), 1u) << "int4 under an int8 cube: one dequantize pass; g = 128 < K but "
                                          "the scales ride in that pass";
  EXPECT_EQ(work.alongside[0].elements, 11008u * 4096u);
  EXPECT_DOUBLE_EQ(pass(work.alongside[0], VectorOpKind::dequantize), 1.0);
  EXPECT_DOUBLE_EQ(work.alongside[0].in_bytes_per_element, 0.0) << "it works on the GEMM's own panels";
}

TEST(Operands, W8A8PerChannelNeedsNoVectorWorkAndGroupsRescale) {
  const auto a = annotate("name: p\nrules:\n  - match: '*'\n    weights: int8\n    activations: int8\n");
  const GemmProblem p = a.problem("layers.3.mlp.up_proj");
  EXPECT_EQ(p.a_dtype, DType::int8);
  EXPECT_DOUBLE_EQ(p.b_stored_bits, 8 + 16.0 / 4096);
  EXPECT_TRUE(mapper::operand_work(a.graph(), a.op("layers.3.mlp.up_proj"), p).empty())
      << "per-channel scales are applied by FixPipe";

  const auto g = annotate("name: p\nrules:\n  - match: '*'\n    weights: int8\n    activations: int8\n    group_size: 128\n");
  const GemmProblem q = g.problem("layers.3.mlp.up_proj");
  const auto work = mapper::operand_work(g.graph(), g.op("layers.3.mlp.up_proj"), q);
  ASSERT_EQ(work.alongside.size(), 1u);
  EXPECT_EQ(work.alongside[0].elements, q.m * q.n);
  EXPECT_DOUBLE_EQ(pass(work.alongside[0], VectorOpKind::mul), 4096.0 / 128) << "one rescale per K group";
}

TEST(Operands, NmReachesOnlyASparseCube) {
  const std::string plan = "name: p\nrules:\n  - match: '*'\n    sparsity: '2:4'\n";
  const auto sparse = annotate(plan, true);
  const GemmProblem s = sparse.problem("layers.0.self_attn.q_proj");
  EXPECT_EQ(s.sparsity, arch::CubeSparsity::sparse_2_4);
  EXPECT_DOUBLE_EQ(s.b_stored_bits, 9.0);
  EXPECT_TRUE(mapper::operand_work(sparse.graph(), sparse.op("layers.0.self_attn.q_proj"), s).empty());

  const auto dense = annotate(plan, false);
  const GemmProblem d = dense.problem("layers.0.self_attn.q_proj");
  EXPECT_EQ(d.sparsity, arch::CubeSparsity::dense);
  EXPECT_DOUBLE_EQ(d.b_stored_bits, 9.0) << "moved compressed, expanded on chip";
  const auto work = mapper::operand_work(dense.graph(), dense.op("layers.0.self_attn.q_proj"), d);
  ASSERT_EQ(work.alongside.size(), 1u);
  EXPECT_DOUBLE_EQ(pass(work.alongside[0], VectorOpKind::decompress), 1.0);
}

TEST(Operands, UnstructuredDecompressesOnTheVectorUnitOrAnEngine) {
  const auto v = annotate("name: p\nrules:\n  - match: '*'\n    sparsity: unstructured\n    density: 0.5\n");
  const GemmProblem p = v.problem("layers.0.mlp.gate_proj");
  EXPECT_DOUBLE_EQ(p.b_stored_bits, 9.0);
  EXPECT_EQ(p.sparsity, arch::CubeSparsity::dense) << "no zero-skipping: the cube runs every MAC";
  EXPECT_DOUBLE_EQ(pass(mapper::operand_work(v.graph(), v.op("layers.0.mlp.gate_proj"), p).alongside.at(0),
                        VectorOpKind::decompress),
                   1.0);
  // An engine of 256 elements/cycle is 4x the 910B2 vector decompress rate (64): a quarter of a pass.
  const auto e = annotate("name: p\ndecompression: {unit: engine, engine_elements_per_cycle: 256}\nrules:\n"
                          "  - match: '*'\n    sparsity: unstructured\n    density: 0.5\n");
  const GemmProblem q = e.problem("layers.0.mlp.gate_proj");
  EXPECT_DOUBLE_EQ(pass(mapper::operand_work(e.graph(), e.op("layers.0.mlp.gate_proj"), q).alongside.at(0),
                        VectorOpKind::decompress),
                   0.25);
}

TEST(Operands, AttentionReadsTheQuantizedCacheAndDequantizesIt) {
  const auto a = annotate("name: p\nkv_cache:\n  precision: int8\n  scales: per-token\n", false, 1024);
  const GemmProblem p = a.problem("layers.0.self_attn.qk_matmul");
  // 1024 cached keys at 8 + 16/128 bits, one fresh key at fp16; head-major runs are whole heads.
  const double cached_bytes = std::ceil(1024 * (128 + 2) / 32.0) * 32, fresh_bytes = 128 * 2;
  EXPECT_DOUBLE_EQ(p.b_stored_bits, (cached_bytes + fresh_bytes) * 8 / (1025.0 * 128));
  EXPECT_EQ(p.b_dtype, DType::fp16);
  const auto work = mapper::operand_work(a.graph(), a.op("layers.0.self_attn.qk_matmul"), p);
  ASSERT_EQ(work.alongside.size(), 1u);
  EXPECT_EQ(work.alongside[0].elements, 32u * 1024 * 128) << "batch 1 x 32 KV heads x cached tokens x head_dim";
  const GemmProblem pv = a.problem("layers.0.self_attn.pv_matmul");
  EXPECT_DOUBLE_EQ(pv.b_stored_bits, p.b_stored_bits) << "V is stored like K";

  // The cache write quantizes and writes the stored size.
  const auto extras = mapper::vector_op_extras(a.graph(), a.op("layers.0.self_attn.kv_cache_write"));
  ASSERT_EQ(extras.passes.size(), 1u);
  EXPECT_EQ(extras.passes[0].kind, VectorOpKind::quantize);
  EXPECT_DOUBLE_EQ(extras.out_bytes_scale, (128 + 2) / 256.0);
}

TEST(Operands, PivotTokensStayFullPrecision) {
  const std::string plan = "name: p\nkv_cache:\n  precision: int4\n  scales: per-group\n  group_size: 32\n";
  const auto plain = annotate(plan, false, 256);
  const auto pivot = annotate(plan + "  full_precision_tokens: 4\n", false, 256);
  const GemmProblem a = plain.problem("layers.0.self_attn.qk_matmul");
  const GemmProblem b = pivot.problem("layers.0.self_attn.qk_matmul");
  EXPECT_GT(b.b_stored_bits, a.b_stored_bits);
  const auto wa = mapper::operand_work(plain.graph(), plain.op("layers.0.self_attn.qk_matmul"), a);
  const auto wb = mapper::operand_work(pivot.graph(), pivot.op("layers.0.self_attn.qk_matmul"), b);
  EXPECT_EQ(wa.alongside.at(0).elements - wb.alongside.at(0).elements, 32u * 4 * 128) << "pivots are not dequantized";
}

TEST(Operands, ActivationQuantizationLandsOnTheProducer) {
  const auto a = annotate("name: p\nrules:\n  - match: '*'\n    weights: int8\n    activations: int8\n");
  // input_layernorm feeds q/k/v (all A8): it quantizes its output, fused.
  const auto norm = mapper::vector_op_extras(a.graph(), a.op("layers.0.input_layernorm"));
  ASSERT_EQ(norm.passes.size(), 1u);
  EXPECT_EQ(norm.passes[0].kind, VectorOpKind::quantize);
  EXPECT_DOUBLE_EQ(norm.out_bytes_scale, 0.5);
  // pv_matmul feeds o_proj: FixPipe writes int8.
  EXPECT_EQ(mapper::fixpipe_output_dtype(a.graph(), a.op("layers.0.self_attn.pv_matmul")), DType::int8);
  // down_proj feeds a residual add, which stays fp16.
  EXPECT_FALSE(mapper::fixpipe_output_dtype(a.graph(), a.op("layers.0.mlp.down_proj")).has_value());
}

TEST(Operands, PrecisionTheCubeLacksIsComputedAtFp16) {
  const auto a = annotate("name: p\nrules:\n  - match: '*'\n    weights: fp8_e4m3\n    activations: fp8_e4m3\n    group_size: channel\n");
  const GemmProblem p = a.problem("layers.0.mlp.up_proj");
  EXPECT_EQ(p.a_dtype, DType::fp16);
  EXPECT_EQ(p.b_dtype, DType::fp16);
  EXPECT_DOUBLE_EQ(p.b_stored_bits, 8 + 16.0 / 4096);
  const auto work = mapper::operand_work(a.graph(), a.op("layers.0.mlp.up_proj"), p);
  ASSERT_EQ(work.alongside.size(), 2u) << "weights and activations both converted";
}

// Decode kernels that skip the weight rows of zero activations (TEAL): a
// GEMV keeps the fraction d of K, a GEMM over r rows of A keeps the channels
// nonzero in any row, 1 - (1 - d)^r under independent zeros.
TEST(Operands, ActivationSparsitySkipsZeroRowsOfBWhereFewRowsShareThem) {
  const auto a = annotate("name: p\nrules:\n  - match: '*'\n    weights: fp16\n    activation_density: 0.25\n");
  const GemmProblem p = a.problem("layers.3.mlp.down_proj");
  EXPECT_EQ(p.m, 1u);
  EXPECT_EQ(p.k, 11008u / 4) << "a decode GEMV loads a quarter of the rows of B";
  EXPECT_EQ(p.n, 4096u);
  EXPECT_DOUBLE_EQ(p.b_stored_bits, 16.0) << "the rows it loads are stored dense";
  const auto work = mapper::operand_work(a.graph(), a.op("layers.3.mlp.down_proj"), p);
  ASSERT_EQ(work.alongside.size(), 1u);
  EXPECT_EQ(work.alongside[0].elements, 11008u) << "the threshold pass sees every channel of A";
  EXPECT_DOUBLE_EQ(pass(work.alongside[0], VectorOpKind::compare), 1.0);
  EXPECT_DOUBLE_EQ(pass(work.alongside[0], VectorOpKind::gather_mask), 1.0);

  const auto& format = a.graph().tensor(*a.graph().op(a.op("layers.3.mlp.down_proj")).weight).weight_format;
  EXPECT_DOUBLE_EQ(mapper::active_input_channels(format, 2), 1 - 0.75 * 0.75);
  EXPECT_GT(mapper::active_input_channels(format, 256), 1 - 1e-12) << "a prefill keeps every channel";

  const auto dense = annotate("name: p\nrules:\n  - match: '*'\n    weights: fp16\n");
  const GemmProblem q = dense.problem("layers.3.mlp.down_proj");
  EXPECT_EQ(q.k, 11008u);
  EXPECT_TRUE(mapper::operand_work(dense.graph(), dense.op("layers.3.mlp.down_proj"), q).empty());
}

TEST(Operands, StructuredPruningShrinksTheGemm) {
  const auto a = annotate("name: p\nrules:\n  - match: '*.self_attn.{q,k,v}_proj'\n    kept_out_channels: 0.75\n"
                          "  - match: '*.self_attn.o_proj'\n    kept_in_channels: 0.75\n");
  EXPECT_EQ(a.problem("layers.0.self_attn.q_proj").n, 3072u);
  EXPECT_EQ(a.problem("layers.0.self_attn.o_proj").k, 3072u);
  EXPECT_EQ(a.problem("layers.0.self_attn.qk_matmul").batch, 24u) << "o_proj's kept inputs are the kept heads";
}

}  // namespace
}  // namespace npusim::test
