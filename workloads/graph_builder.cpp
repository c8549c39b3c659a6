#include "workloads/graph_builder.h"

namespace npusim::workloads {

double vector_ops_per_element(OpKind kind) {
  switch (kind) {
    case OpKind::RMSNorm: return 4;
    case OpKind::LayerNorm: return 7;
    case OpKind::Softmax: return 5;
    case OpKind::RoPE: return 3;
    case OpKind::SwiGLU: return 5;
    case OpKind::Activation: return 4;
    case OpKind::ElementwiseAdd:
    case OpKind::ElementwiseMul: return 1;
    case OpKind::TopK:
    case OpKind::ExpertCombine: return 2;
    default: return 0;
  }
}

TensorId GraphBuilder::weight(const std::string& name, std::vector<std::uint64_t> shape, int layer, int expert) {
  Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.dtype = weight_dtype_;
  t.role = TensorRole::weight;
  t.layer = layer;
  t.expert = expert;
  t.weight_format.precision = weight_dtype_;
  return g_.add_tensor(std::move(t));
}

TensorId GraphBuilder::activation(const std::string& name, std::vector<std::uint64_t> shape, int layer,
                                  std::optional<DType> dtype) {
  Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.dtype = dtype.value_or(activation_dtype_);
  t.role = TensorRole::activation;
  t.layer = layer;
  return g_.add_tensor(std::move(t));
}

TensorId GraphBuilder::kv_cache(const std::string& name, std::vector<std::uint64_t> shape, int layer) {
  Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.dtype = kv_dtype_;
  t.role = TensorRole::kv_cache;
  t.layer = layer;
  t.kv_format.precision = kv_dtype_;
  return g_.add_tensor(std::move(t));
}

void GraphBuilder::fill_bytes(Op& op) const {
  if (op.matmul && op.matmul->m == 0) return;  // idle expert: nothing moves
  for (TensorId id : op.inputs) op.bytes_read[g_.tensor(id).role] += g_.tensor(id).bytes();
  for (TensorId id : op.outputs) op.bytes_written[g_.tensor(id).role] += g_.tensor(id).bytes();
}

Graph::OpId GraphBuilder::add(Op op) {
  if (op.matmul) op.flops = 2 * op.matmul->macs();
  if (op.vector_ops == 0 && !op.inputs.empty()) {
    const double per = vector_ops_per_element(op.kind);
    op.vector_ops = static_cast<std::uint64_t>(per * static_cast<double>(g_.tensor(op.inputs.front()).elements()));
  }
  fill_bytes(op);
  return g_.add_op(std::move(op));
}

Graph::OpId GraphBuilder::add_with_bytes(Op op) {
  if (op.matmul) op.flops = 2 * op.matmul->macs();
  return g_.add_op(std::move(op));
}

TensorId GraphBuilder::linear(const std::string& name, int layer, TensorId x, std::uint64_t m, std::uint64_t k,
                              std::uint64_t n, bool bias, int expert, OpKind kind) {
  Op op;
  op.name = name;
  op.kind = kind;
  op.layer = layer;
  op.expert = expert;
  op.matmul = MatmulShape{1, m, k, n};
  const TensorId w = weight(name + ".weight", {k, n}, layer, expert);
  op.weight = w;
  op.inputs = {x, w};
  if (bias) op.inputs.push_back(weight(name + ".bias", {n}, layer, expert));
  const TensorId y = activation(name + ":out", {m, n}, layer);
  op.outputs = {y};
  add(std::move(op));
  return y;
}

TensorId GraphBuilder::vector_op(OpKind kind, const std::string& name, int layer, std::vector<TensorId> inputs,
                                 std::vector<std::uint64_t> out_shape, int expert) {
  Op op;
  op.name = name;
  op.kind = kind;
  op.layer = layer;
  op.expert = expert;
  op.inputs = std::move(inputs);
  const TensorId y = activation(name + ":out", std::move(out_shape), layer);
  op.outputs = {y};
  add(std::move(op));
  return y;
}

TensorId GraphBuilder::norm(OpKind kind, const std::string& name, int layer, TensorId x, std::uint64_t rows,
                            std::uint64_t width) {
  const std::uint64_t params = kind == OpKind::LayerNorm ? 2 * width : width;
  Op op;
  op.name = name;
  op.kind = kind;
  op.layer = layer;
  op.inputs = {x, weight(name + ".weight", {params}, layer)};
  const TensorId y = activation(name + ":out", {rows, width}, layer);
  op.outputs = {y};
  add(std::move(op));
  return y;
}

}  // namespace npusim::workloads
