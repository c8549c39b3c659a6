// The graph IR: tensors, ops, edges, traversal, summaries and DOT.
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "workloads/graph_builder.h"
#include "workloads/summary.h"

namespace npusim::workloads {
namespace {

// x -> up (matmul) -> act -> down (matmul), weights fp16.
Graph tiny_mlp() {
  Graph g("tiny");
  GraphBuilder b(g, DType::fp16, DType::fp16, DType::fp16);
  const TensorId x = b.activation("x", {4, 8}, 0);
  const TensorId up = b.linear("layers.0.mlp.up_proj", 0, x, 4, 8, 16);
  const TensorId act = b.vector_op(OpKind::Activation, "layers.0.mlp.act_fn", 0, {up}, {4, 16});
  b.linear("layers.0.mlp.down_proj", 0, act, 4, 16, 8);
  return g;
}

TEST(Graph, OpsTensorsAndEdges) {
  const Graph g = tiny_mlp();
  EXPECT_EQ(g.num_ops(), 3u);
  EXPECT_EQ(g.num_edges(), 2u);  // up -> act -> down; weights have no producer
  const OpId up = *g.find_op("layers.0.mlp.up_proj");
  const OpId act = *g.find_op("layers.0.mlp.act_fn");
  const OpId down = *g.find_op("layers.0.mlp.down_proj");
  EXPECT_EQ(g.successors(up), std::vector<OpId>{act});
  EXPECT_EQ(g.predecessors(down), std::vector<OpId>{act});
  const auto order = g.topological_order();
  EXPECT_EQ(order, (std::vector<OpId>{up, act, down}));
  const Op& u = g.op(up);
  EXPECT_EQ(u.matmul->m, 4u);
  EXPECT_EQ(u.matmul->k, 8u);
  EXPECT_EQ(u.matmul->n, 16u);
  EXPECT_EQ(u.flops, 2u * 4 * 8 * 16);
  EXPECT_EQ(u.bytes_read.weight, 8u * 16 * 2);
  EXPECT_EQ(u.bytes_read.activation, 4u * 8 * 2);
  EXPECT_EQ(u.bytes_written.activation, 4u * 16 * 2);
  const Tensor& w = g.tensor(*u.weight);
  EXPECT_EQ(w.name, "layers.0.mlp.up_proj.weight");
  EXPECT_EQ(w.role, TensorRole::weight);
  // Every edge carries the tensor that flows along it.
  for (auto [it, end] = boost::edges(g.adjacency()); it != end; ++it) {
    const TensorId t = g.adjacency()[*it].tensor;
    EXPECT_EQ(g.producer(t), boost::source(*it, g.adjacency()));
  }
}

TEST(Graph, WeightsStartDenseAndCarryAnnotations) {
  Graph g = tiny_mlp();
  const TensorId w = *g.find_tensor("layers.0.mlp.down_proj.weight");
  EXPECT_EQ(g.tensor(w).weight_format.precision, DType::fp16);
  EXPECT_EQ(g.tensor(w).weight_format.sparsity, SparsityPattern::dense);
  EXPECT_EQ(g.tensor(w).weight_format.density, 1.0);
  WeightFormat format;
  format.precision = DType::int4;
  format.sparsity = SparsityPattern::n_m;
  format.density = 0.5;
  format.n = 2;
  format.m = 4;
  format.storage = StorageFormat::n_m_compressed;
  format.group_size = 128;
  g.weight_format(w) = format;
  EXPECT_EQ(g.tensor(w).weight_format.precision, DType::int4);
  EXPECT_EQ(g.tensor(w).weight_format.group_size, 128u);
}

TEST(Graph, RejectsMalformedConstruction) {
  Graph g = tiny_mlp();
  Op dup;
  dup.name = "layers.0.mlp.act_fn";
  dup.kind = OpKind::Activation;
  EXPECT_THROW(g.add_op(dup), std::logic_error);
  Op no_shape;
  no_shape.name = "mm";
  no_shape.kind = OpKind::MatMul;
  EXPECT_THROW(g.add_op(no_shape), std::logic_error);
  Op second_producer;
  second_producer.name = "again";
  second_producer.kind = OpKind::Activation;
  second_producer.outputs = {*g.find_tensor("layers.0.mlp.act_fn:out")};
  EXPECT_THROW(g.add_op(second_producer), std::logic_error);
  Tensor t;
  t.name = "x";
  EXPECT_THROW(g.add_tensor(t), std::logic_error);
}

TEST(Graph, KindNamesRoundTrip) {
  for (OpKind k : all_op_kinds()) EXPECT_EQ(op_kind_from_name(op_kind_name(k)), k);
  EXPECT_FALSE(op_kind_from_name("conv2d"));
}

TEST(Graph, SubByteTensorsRoundUp) {
  Tensor t;
  t.shape = {3, 3};
  t.dtype = DType::int4;
  EXPECT_EQ(t.bytes(), 5u);  // 36 bits
}

TEST(Graph, SummaryJsonHasStableFields) {
  const Graph g = tiny_mlp();
  const auto j = summary_json(g);
  EXPECT_EQ(j["parameters"], 8u * 16 + 16 * 8);
  EXPECT_EQ(j["active_parameters"], 8u * 16 + 16 * 8);
  EXPECT_EQ(j["flops"], 2u * (4 * 8 * 16 + 4 * 16 * 8));
  EXPECT_EQ(j["bytes_by_role"]["read"]["weight"], 2u * (8 * 16 + 16 * 8));
  EXPECT_EQ(j["bytes_by_role"]["read"]["kv_cache"], 0u);
  EXPECT_EQ(j["ops_by_kind"]["matmul"], 2u);
  EXPECT_EQ(j["ops_by_kind"]["activation"], 1u);
  EXPECT_EQ(j["vector_ops"], 4u * 4 * 16);
  EXPECT_EQ(j["context"]["phase"], "prefill");
}

TEST(Graph, ActiveParametersCountTopKOfRoutedExperts) {
  Graph g("moe");
  GraphBuilder b(g, DType::bf16, DType::bf16, DType::bf16);
  const TensorId x = b.activation("x", {2, 4}, 1);
  for (int e = 0; e < 4; ++e) b.linear("layers.1.mlp.experts." + std::to_string(e) + ".up_proj", 1, x, 2, 4, 8, false, e);
  b.linear("layers.1.mlp.shared_experts.up_proj", 1, x, 2, 4, 8);
  g.moe_layers.push_back(MoeLayerInfo{1, 4, 2});
  EXPECT_EQ(parameter_count(g), 5u * 32);
  EXPECT_EQ(active_parameter_count(g), 3u * 32);  // shared + 2 of 4 routed
}

TEST(Graph, DotNamesEveryOpAndTensorEdge) {
  const Graph g = tiny_mlp();
  std::ostringstream out;
  write_dot(g, out);
  const std::string dot = out.str();
  EXPECT_EQ(dot.rfind("digraph", 0), 0u) << dot;
  EXPECT_NE(dot.find("layers.0.mlp.up_proj\\nmatmul\\n1x[4x8x16]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("0->1 [label=\"layers.0.mlp.up_proj:out [4,16]\"]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("1->2"), std::string::npos) << dot;
}

}  // namespace
}  // namespace npusim::workloads
