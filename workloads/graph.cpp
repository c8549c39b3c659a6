#include "workloads/graph.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include <boost/graph/topological_sort.hpp>
#include <fmt/format.h>

namespace npusim::workloads {
namespace {

struct KindName {
  OpKind kind;
  const char* name;
};

// One table gives names both ways, so the YAML "graph" family, JSON summaries
// and DOT labels can never disagree.
constexpr KindName kKindNames[] = {
    {OpKind::MatMul, "matmul"},
    {OpKind::BatchMatMul, "batch_matmul"},
    {OpKind::AttentionScore, "attention_score"},
    {OpKind::AttentionContext, "attention_context"},
    {OpKind::Softmax, "softmax"},
    {OpKind::RMSNorm, "rmsnorm"},
    {OpKind::LayerNorm, "layernorm"},
    {OpKind::RoPE, "rope"},
    {OpKind::SwiGLU, "swiglu"},
    {OpKind::Activation, "activation"},
    {OpKind::ElementwiseAdd, "add"},
    {OpKind::ElementwiseMul, "mul"},
    {OpKind::Embedding, "embedding"},
    {OpKind::Router, "router"},
    {OpKind::TopK, "topk"},
    {OpKind::ExpertDispatch, "expert_dispatch"},
    {OpKind::ExpertCombine, "expert_combine"},
    {OpKind::KvCacheWrite, "kv_cache_write"},
    {OpKind::AllReduce, "all_reduce"},
    {OpKind::AllToAll, "all_to_all"},
    {OpKind::Reshape, "reshape"},
    {OpKind::Transpose, "transpose"},
};

}  // namespace

const char* op_kind_name(OpKind kind) {
  for (const auto& entry : kKindNames) {
    if (entry.kind == kind) return entry.name;
  }
  return "?";
}

const char* activation_function_name(ActivationFunction function) {
  switch (function) {
    case ActivationFunction::unspecified: return "unspecified";
    case ActivationFunction::relu: return "relu";
    case ActivationFunction::gelu: return "gelu";
    case ActivationFunction::silu: return "silu";
    case ActivationFunction::other: return "other";
  }
  return "?";
}

std::optional<ActivationFunction> activation_function_from_name(const std::string& name) {
  for (ActivationFunction f : {ActivationFunction::relu, ActivationFunction::gelu, ActivationFunction::silu}) {
    if (name == activation_function_name(f)) return f;
  }
  return std::nullopt;
}

std::optional<OpKind> op_kind_from_name(const std::string& name) {
  for (const auto& entry : kKindNames) {
    if (name == entry.name) return entry.kind;
  }
  return std::nullopt;
}

std::vector<OpKind> all_op_kinds() {
  std::vector<OpKind> out;
  for (const auto& entry : kKindNames) out.push_back(entry.kind);
  return out;
}

bool is_matmul_like(OpKind kind) {
  switch (kind) {
    case OpKind::MatMul:
    case OpKind::BatchMatMul:
    case OpKind::AttentionScore:
    case OpKind::AttentionContext:
    case OpKind::Router: return true;
    default: return false;
  }
}

const char* role_name(TensorRole role) {
  switch (role) {
    case TensorRole::weight: return "weight";
    case TensorRole::activation: return "activation";
    case TensorRole::kv_cache: return "kv_cache";
  }
  return "?";
}

const char* phase_name(Phase phase) { return phase == Phase::prefill ? "prefill" : "decode"; }

std::uint64_t Tensor::elements() const {
  std::uint64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

Bytes Tensor::bytes() const {
  // Rounded up per tensor: a 4-bit tensor of odd length still occupies whole bytes.
  const auto bits = elements() * static_cast<std::uint64_t>(dtype_bits(dtype));
  return (bits + 7) / 8;
}

Bytes& RoleBytes::operator[](TensorRole role) {
  switch (role) {
    case TensorRole::weight: return weight;
    case TensorRole::kv_cache: return kv_cache;
    case TensorRole::activation: break;
  }
  return activation;
}

Bytes RoleBytes::operator[](TensorRole role) const { return const_cast<RoleBytes&>(*this)[role]; }

RoleBytes& RoleBytes::operator+=(const RoleBytes& other) {
  weight += other.weight;
  activation += other.activation;
  kv_cache += other.kv_cache;
  return *this;
}

TensorId Graph::add_tensor(Tensor tensor) {
  if (tensor_by_name_.count(tensor.name)) {
    throw std::logic_error(fmt::format("graph {}: tensor '{}' added twice", name_, tensor.name));
  }
  tensor.id = static_cast<TensorId>(tensors_.size());
  tensor_by_name_.emplace(tensor.name, tensor.id);
  tensors_.push_back(std::move(tensor));
  producer_.emplace_back();
  return tensors_.back().id;
}

Graph::OpId Graph::add_op(Op op) {
  if (op_by_name_.count(op.name)) {
    throw std::logic_error(fmt::format("graph {}: op '{}' added twice", name_, op.name));
  }
  if (is_matmul_like(op.kind) != op.matmul.has_value()) {
    throw std::logic_error(fmt::format("graph {}: op '{}' of kind {} {} a matmul shape", name_, op.name,
                                       op_kind_name(op.kind), op.matmul ? "must not have" : "needs"));
  }
  for (TensorId t : op.inputs) {
    if (t >= tensors_.size()) throw std::logic_error(fmt::format("op '{}': unknown input tensor {}", op.name, t));
  }
  for (TensorId t : op.outputs) {
    if (t >= tensors_.size()) throw std::logic_error(fmt::format("op '{}': unknown output tensor {}", op.name, t));
    if (producer_[t]) {
      throw std::logic_error(fmt::format("op '{}': tensor '{}' already has a producer", op.name, tensors_[t].name));
    }
  }
  const std::string name = op.name;
  const std::vector<TensorId> inputs = op.inputs;
  const std::vector<TensorId> outputs = op.outputs;
  // add_vertex(g) then assignment, not add_vertex(property, g): the latter
  // goes through Boost's named-graph lookup, whose empty optional GCC's
  // optimised sanitizer build reports as maybe-uninitialised.
  const OpId id = boost::add_vertex(g_);
  g_[id] = std::move(op);
  for (TensorId t : inputs) {
    if (producer_[t]) boost::add_edge(*producer_[t], id, TensorEdge{t}, g_);
  }
  for (TensorId t : outputs) producer_[t] = id;
  op_by_name_.emplace(name, id);
  return id;
}

std::optional<Graph::OpId> Graph::find_op(const std::string& name) const {
  auto it = op_by_name_.find(name);
  if (it == op_by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<TensorId> Graph::find_tensor(const std::string& name) const {
  auto it = tensor_by_name_.find(name);
  if (it == tensor_by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<Graph::OpId> Graph::producer(TensorId id) const { return producer_.at(id); }

std::vector<Graph::OpId> Graph::topological_order() const {
  std::vector<OpId> reversed;
  reversed.reserve(num_ops());
  boost::topological_sort(g_, std::back_inserter(reversed));
  return {reversed.rbegin(), reversed.rend()};
}

std::vector<Graph::OpId> Graph::predecessors(OpId id) const {
  std::vector<OpId> out;
  for (auto [it, end] = boost::in_edges(id, g_); it != end; ++it) out.push_back(boost::source(*it, g_));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<Graph::OpId> Graph::successors(OpId id) const {
  std::vector<OpId> out;
  for (auto [it, end] = boost::out_edges(id, g_); it != end; ++it) out.push_back(boost::target(*it, g_));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace npusim::workloads
