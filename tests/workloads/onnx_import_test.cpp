// Import of ONNX models built in-test: op kinds, shapes, FLOPs, bytes and
// parameters checked against hand-computed values.
#include <gtest/gtest.h>

#include <memory>

#include "common/error.h"
#include "support/test_paths.h"
#include "workloads/onnx/onnx_import.h"
#include "workloads/onnx_test_models.h"

namespace npusim::workloads {
namespace {

using test::OnnxModelBuilder;

const Op& op_named(const Graph& g, const std::string& name) {
  auto id = g.find_op(name);
  if (!id) throw std::runtime_error("no op named " + name);
  return g.op(*id);
}

std::uint64_t weight_elements(const Graph& g) {
  std::uint64_t n = 0;
  for (const auto& t : g.tensors()) {
    if (t.role == TensorRole::weight) n += t.elements();
  }
  return n;
}

// x[2,8,64] -> up_proj (torch layout: Transpose of a [128,64] weight, then
// MatMul, then a bias Add) -> Softmax, all inside /model/layers.0/mlp.
OnnxModelBuilder linear_softmax() {
  OnnxModelBuilder b;
  b.input("x", {2, 8, 64});
  b.weight("model.layers.0.mlp.up_proj.weight", {128, 64});
  b.weight("model.layers.0.mlp.up_proj.bias", {128});
  b.node("Transpose", "/model/layers.0/mlp/up_proj/Transpose", {"model.layers.0.mlp.up_proj.weight"}, {"wt"});
  b.node("MatMul", "/model/layers.0/mlp/up_proj/MatMul", {"x", "wt"}, {"mm"});
  b.node("Add", "/model/layers.0/mlp/up_proj/Add", {"mm", "model.layers.0.mlp.up_proj.bias"}, {"biased"});
  OnnxModelBuilder::int_attr(b.node("Softmax", "/model/layers.0/mlp/Softmax", {"biased"}, {"y"}), "axis", -1);
  b.output("y", {2, 8, 128});
  return b;
}

TEST(OnnxImport, LinearBiasSoftmaxKindsShapesFlopsAndBytes) {
  const auto path = linear_softmax().save(test::scratch_dir() + "/model.onnx");
  const OnnxImport imported = import_onnx_model(path);
  const Graph& g = imported.graph;

  // The Transpose of the weight is a layout, not an op.
  EXPECT_EQ(g.num_ops(), 3u);
  const Op& mm = op_named(g, "layers.0.mlp.up_proj");
  EXPECT_EQ(mm.kind, OpKind::MatMul);
  EXPECT_EQ(mm.layer, 0);
  ASSERT_TRUE(mm.matmul);
  EXPECT_EQ(mm.matmul->batch, 1u);
  EXPECT_EQ(mm.matmul->m, 16u);
  EXPECT_EQ(mm.matmul->k, 64u);
  EXPECT_EQ(mm.matmul->n, 128u);
  EXPECT_EQ(mm.flops, 2u * 16 * 64 * 128);
  ASSERT_TRUE(mm.weight);
  EXPECT_EQ(g.tensor(*mm.weight).name, "model.layers.0.mlp.up_proj.weight");
  EXPECT_EQ(mm.bytes_read.weight, 128u * 64 * 4);
  EXPECT_EQ(mm.bytes_read.activation, 2u * 8 * 64 * 4);
  EXPECT_EQ(mm.bytes_written.activation, 16u * 128 * 4);

  const Op& add = op_named(g, "layers.0.mlp.up_proj/Add");
  EXPECT_EQ(add.kind, OpKind::ElementwiseAdd);
  EXPECT_EQ(add.flops, 0u);
  EXPECT_EQ(add.vector_ops, 16u * 128);
  EXPECT_EQ(add.bytes_read.weight, 128u * 4);
  EXPECT_EQ(add.bytes_read.activation, 16u * 128 * 4);

  const Op& softmax = op_named(g, "layers.0.mlp/Softmax");
  EXPECT_EQ(softmax.kind, OpKind::Softmax);
  EXPECT_EQ(softmax.vector_ops, 5u * 16 * 128);
  EXPECT_EQ(g.predecessors(*g.find_op("layers.0.mlp/Softmax")).size(), 1u);

  EXPECT_EQ(weight_elements(g), 128u * 64 + 128);
  EXPECT_EQ(g.context.batch, 2u);
  EXPECT_EQ(g.context.new_tokens, 8u);
  EXPECT_EQ(imported.op_of_node.at("/model/layers.0/mlp/up_proj/MatMul"), "layers.0.mlp.up_proj");
}

TEST(OnnxImport, DtypeOverridesScaleBytesNotFlops) {
  const auto path = linear_softmax().save(test::scratch_dir() + "/model.onnx");
  OnnxImportOptions options;
  options.weight_dtype = DType::int8;
  options.activation_dtype = DType::bf16;
  const Graph g = import_onnx(path, options);
  const Op& mm = op_named(g, "layers.0.mlp.up_proj");
  EXPECT_EQ(mm.flops, 2u * 16 * 64 * 128);
  EXPECT_EQ(mm.bytes_read.weight, 128u * 64);
  EXPECT_EQ(mm.bytes_read.activation, 2u * 8 * 64 * 2);
  EXPECT_EQ(g.tensor(*mm.weight).weight_format.precision, DType::int8);
}

TEST(OnnxImport, GemmTransposesAndBatchedMatmul) {
  OnnxModelBuilder b;
  b.input("a", {4, 32});
  b.input("q", {2, 4, 8, 16});
  b.input("kt", {2, 4, 16, 8});
  b.weight("proj.weight", {16, 32});
  b.weight("proj.bias", {16});
  auto* gemm = b.node("Gemm", "/proj/Gemm", {"a", "proj.weight", "proj.bias"}, {"g"});
  OnnxModelBuilder::int_attr(gemm, "transB", 1);
  b.node("MatMul", "/attn/MatMul", {"q", "kt"}, {"s"});
  b.output("g", {4, 16});
  b.output("s", {2, 4, 8, 8});
  const Graph g = import_onnx(b.save(test::scratch_dir() + "/model.onnx"));

  const Op& proj = op_named(g, "proj");
  EXPECT_EQ(proj.kind, OpKind::MatMul);
  EXPECT_EQ(proj.matmul->m, 4u);
  EXPECT_EQ(proj.matmul->k, 32u);
  EXPECT_EQ(proj.matmul->n, 16u);
  EXPECT_EQ(proj.bytes_read.weight, (16u * 32 + 16) * 4);

  const Op& scores = op_named(g, "attn");
  EXPECT_EQ(scores.kind, OpKind::BatchMatMul);
  EXPECT_EQ(scores.matmul->batch, 8u);
  EXPECT_EQ(scores.matmul->m, 8u);
  EXPECT_EQ(scores.matmul->k, 16u);
  EXPECT_EQ(scores.matmul->n, 8u);
  EXPECT_EQ(scores.flops, 2u * 8 * 8 * 16 * 8);
  EXPECT_FALSE(scores.weight);
}

// Shapes computed at run time the way torch exports them: Shape -> Gather
// -> Unsqueeze -> Concat -> Reshape, and an Expand whose target comes from
// Equal/Where (which ONNX's own inference cannot follow).
TEST(OnnxImport, ShapeArithmeticFoldsAwayAndResolvesShapes) {
  OnnxModelBuilder b;
  b.input("x", {2, 8, 64});
  b.node("Shape", "/s/Shape", {"x"}, {"shape"});
  b.int_constant("/s/Constant", "zero", {0});
  b.node("Gather", "/s/Gather", {"shape", "zero"}, {"batch"});
  b.int_constant("/s/Constant_1", "rest", {8, 4, 16});
  b.node("Concat", "/s/Concat", {"batch", "rest"}, {"target"})->add_attribute()->CopyFrom([] {
    onnx::AttributeProto a;
    a.set_name("axis");
    a.set_type(onnx::AttributeProto_AttributeType_INT);
    a.set_i(0);
    return a;
  }());
  b.node("Reshape", "/s/Reshape", {"x", "target"}, {"heads"});
  b.int_constant("/s/Constant_2", "want", {2, 8, 4, 16});
  b.int_constant("/s/Constant_3", "minus1", {-1, -1, -1, -1});
  b.node("Equal", "/s/Equal", {"want", "minus1"}, {"is_any"});
  b.int_constant("/s/Constant_4", "ones", {1, 1, 1, 1});
  b.node("Where", "/s/Where", {"is_any", "ones", "want"}, {"expand_to"});
  b.node("Expand", "/s/Expand", {"heads", "expand_to"}, {"y"});
  b.node("Sigmoid", "/s/Sigmoid", {"y"}, {"z"});
  const Graph g = import_onnx(b.save(test::scratch_dir() + "/model.onnx"));

  EXPECT_EQ(g.num_ops(), 3u);  // Reshape, Expand (views) and Sigmoid; no shape arithmetic
  const Op& sig = op_named(g, "s/Sigmoid");
  EXPECT_EQ(sig.kind, OpKind::Activation);
  EXPECT_EQ(g.tensor(sig.outputs.front()).shape, (std::vector<std::uint64_t>{2, 8, 4, 16}));
  EXPECT_EQ(sig.vector_ops, 4u * 2 * 8 * 64);
  const Op& reshape = op_named(g, "s/Reshape");
  EXPECT_EQ(reshape.kind, OpKind::Reshape);
  EXPECT_EQ(reshape.bytes_read.total(), 0u);
}

TEST(OnnxImport, IdentityOfWeightIsAParameterOfItsOwn) {
  OnnxModelBuilder b;
  b.input("x", {4, 16});
  b.weight("model.layers.0.input_layernorm.weight", {16});
  b.node("Identity", "Identity_0", {"model.layers.0.input_layernorm.weight"}, {"model.layers.1.input_layernorm.weight"});
  b.node("Mul", "/model/layers.0/input_layernorm/Mul", {"x", "model.layers.0.input_layernorm.weight"}, {"a"});
  b.node("Mul", "/model/layers.1/input_layernorm/Mul", {"a", "model.layers.1.input_layernorm.weight"}, {"y"});
  const Graph g = import_onnx(b.save(test::scratch_dir() + "/model.onnx"));
  EXPECT_EQ(weight_elements(g), 32u);
  const auto second = g.find_tensor("model.layers.1.input_layernorm.weight");
  ASSERT_TRUE(second);
  EXPECT_EQ(g.tensor(*second).layer, 1);
  EXPECT_EQ(op_named(g, "layers.1.input_layernorm/Mul").layer, 1);
}

// One MoE layer as trace_model.py exports it: a gate, TopK(k=2) over 4
// experts, and every expert's SwiGLU-less MLP run on all 8 tokens.
OnnxModelBuilder moe_layer() {
  OnnxModelBuilder b;
  b.input("x", {1, 8, 16});
  b.weight("model.layers.0.mlp.gate.weight", {4, 16});
  b.node("Transpose", "/model/layers.0/mlp/gate/Transpose", {"model.layers.0.mlp.gate.weight"}, {"gate_t"});
  b.node("MatMul", "/model/layers.0/mlp/gate/MatMul", {"x", "gate_t"}, {"logits"});
  OnnxModelBuilder::int_attr(b.node("Softmax", "/model/layers.0/mlp/Softmax", {"logits"}, {"probs"}), "axis", -1);
  b.int_constant("/model/layers.0/mlp/Constant", "k", {2});
  b.node("TopK", "/model/layers.0/mlp/TopK", {"probs", "k"}, {"top_w", "top_i"});
  std::string acc = "x";
  for (int e = 0; e < 4; ++e) {
    const std::string p = "model.layers.0.mlp.experts." + std::to_string(e);
    const std::string s = "/model/layers.0/mlp/experts." + std::to_string(e);
    const std::string v = "e" + std::to_string(e);
    b.weight(p + ".up_proj.weight", {32, 16});
    b.weight(p + ".down_proj.weight", {16, 32});
    b.node("Transpose", s + "/up_proj/Transpose", {p + ".up_proj.weight"}, {v + "_upt"});
    b.node("MatMul", s + "/up_proj/MatMul", {"x", v + "_upt"}, {v + "_up"});
    b.node("Sigmoid", s + "/act_fn/Sigmoid", {v + "_up"}, {v + "_act"});
    b.node("Transpose", s + "/down_proj/Transpose", {p + ".down_proj.weight"}, {v + "_downt"});
    b.node("MatMul", s + "/down_proj/MatMul", {v + "_act", v + "_downt"}, {v + "_out"});
    b.node("Add", "/model/layers.0/mlp/Add_" + std::to_string(e), {acc, v + "_out"}, {v + "_sum"});
    acc = v + "_sum";
  }
  return b;
}

TEST(OnnxImport, MoeExpertsTakeTheirMFromTheRoutingTrace) {
  const auto path = moe_layer().save(test::scratch_dir() + "/model.onnx");
  OnnxImportOptions options;
  options.routing = std::make_shared<RoutingTrace>(RoutingTrace::parse(
      R"({"format": "npusim-routing-v1", "layers": [{"layer": 0, "steps": [[5, 0, 7, 4]]}]})", "routing.json"));
  const Graph g = import_onnx(path, options);

  ASSERT_EQ(g.moe_layers.size(), 1u);
  EXPECT_EQ(g.moe_layers[0].layer, 0);
  EXPECT_EQ(g.moe_layers[0].experts, 4u);
  EXPECT_EQ(g.moe_layers[0].top_k, 2u);
  EXPECT_EQ(op_named(g, "layers.0.mlp.gate").kind, OpKind::Router);

  const std::uint64_t expected_m[] = {5, 0, 7, 4};
  std::uint64_t routed_rows = 0;
  for (int e = 0; e < 4; ++e) {
    const Op& up = op_named(g, "layers.0.mlp.experts." + std::to_string(e) + ".up_proj");
    EXPECT_EQ(up.expert, e);
    EXPECT_EQ(up.matmul->m, expected_m[e]);
    EXPECT_EQ(up.flops, 2 * expected_m[e] * 16 * 32);
    EXPECT_EQ(up.bytes_read.weight, expected_m[e] == 0 ? 0u : 32u * 16 * 4);
    EXPECT_EQ(up.bytes_read.activation, expected_m[e] * 16 * 4);
    const Op& act = op_named(g, "layers.0.mlp.experts." + std::to_string(e) + ".act_fn/Sigmoid");
    EXPECT_EQ(act.vector_ops, 4 * expected_m[e] * 32);
    routed_rows += up.matmul->m;
  }
  EXPECT_EQ(routed_rows, 8u * 2);  // tokens x top_k
}

TEST(OnnxImport, MoeWithoutRoutingKeepsTheExportedM) {
  const Graph g = import_onnx(moe_layer().save(test::scratch_dir() + "/model.onnx"));
  EXPECT_EQ(op_named(g, "layers.0.mlp.experts.1.up_proj").matmul->m, 8u);
  EXPECT_EQ(g.moe_layers.at(0).top_k, 2u);
}

TEST(OnnxImport, MoeRoutingThatBreaksConservationIsAnInputError) {
  const auto path = moe_layer().save(test::scratch_dir() + "/model.onnx");
  OnnxImportOptions options;
  options.routing = std::make_shared<RoutingTrace>(RoutingTrace::parse(
      R"({"format": "npusim-routing-v1", "layers": [{"layer": 0, "steps": [[5, 0, 7, 3]]}]})", "routing.json"));
  try {
    import_onnx(path, options);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("tokens x top_k = 8 x 2 = 16, got 15"), std::string::npos) << e.what();
  }
}

TEST(OnnxImport, SymbolicInputDimsTakeTheirValuesFromOptions) {
  OnnxModelBuilder b;
  b.input("x", {1, -1, 16});  // -1: dim_param "seq"
  b.weight("w", {16, 8});
  b.node("MatMul", "/proj/MatMul", {"x", "w"}, {"y"});
  const auto path = b.save(test::scratch_dir() + "/model.onnx");
  try {
    import_onnx(path);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("graph input 'x' dimension 1 is symbolic ('seq')"), std::string::npos)
        << e.what();
  }
  OnnxImportOptions options;
  options.dims["seq"] = 32;
  EXPECT_EQ(op_named(import_onnx(path, options), "proj").matmul->m, 32u);
}

}  // namespace
}  // namespace npusim::workloads
