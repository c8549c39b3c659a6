#include "workloads/onnx/onnx_values.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include "common/error.h"
#include "workloads/onnx/onnx_int_eval.h"

namespace npusim::workloads::onnx_import {
namespace {

using Ints = std::vector<std::int64_t>;

// A bounded number of inference rounds: each round only adds shapes, and in
// practice two or three settle every exported transformer.
constexpr int kMaxRounds = 8;

const std::set<std::string>& broadcasting_ops() {
  static const std::set<std::string> ops = {"Add", "Sub", "Mul", "Div", "Pow", "Where", "Equal", "Greater",
                                            "GreaterOrEqual", "Less", "LessOrEqual", "And", "Or", "Max", "Min"};
  return ops;
}

const std::set<std::string>& same_shape_ops() {
  static const std::set<std::string> ops = {"Sqrt", "Reciprocal", "Neg", "Abs", "Exp", "Log", "Sigmoid", "Tanh",
                                            "Erf", "Relu", "Gelu", "Softplus", "Cos", "Sin", "Clip", "Cast",
                                            "CastLike", "Identity", "Dropout", "Softmax", "LogSoftmax", "Not",
                                            "LayerNormalization", "Trilu", "CumSum", "ScatterElements", "ScatterND"};
  return ops;
}

void bind_input_dims(onnx::GraphProto& graph, const std::map<std::string, std::uint64_t>& dims,
                     const std::string& path) {
  std::set<std::string> initializers;
  for (const auto& init : graph.initializer()) initializers.insert(init.name());
  for (auto& input : *graph.mutable_input()) {
    if (initializers.count(input.name())) continue;
    if (!input.type().has_tensor_type() || !input.type().tensor_type().has_shape()) {
      throw InputError(fmt::format("{}: graph input '{}' has no tensor shape", path, input.name()));
    }
    auto* shape = input.mutable_type()->mutable_tensor_type()->mutable_shape();
    for (int i = 0; i < shape->dim_size(); ++i) {
      auto* dim = shape->mutable_dim(i);
      if (dim->has_dim_value()) continue;
      auto it = dims.find(dim->dim_param());
      if (!dim->has_dim_param() || it == dims.end()) {
        throw InputError(fmt::format("{}: graph input '{}' dimension {} is symbolic ('{}'); give its value in the "
                                     "import options' dims (e.g. {}=8)",
                                     path, input.name(), i, dim->dim_param(),
                                     dim->dim_param().empty() ? "name" : dim->dim_param()));
      }
      dim->set_dim_value(static_cast<std::int64_t>(it->second));
    }
  }
}

void absorb(ValueTable& table, const onnx::ValueInfoProto& info) {
  if (!info.type().has_tensor_type()) return;
  const auto& tensor = info.type().tensor_type();
  ValueInfo& v = table[info.name()];
  if (tensor.elem_type() != 0) v.elem_type = tensor.elem_type();
  if (v.shape || !tensor.has_shape()) return;
  Ints dims;
  for (const auto& d : tensor.shape().dim()) {
    if (!d.has_dim_value()) return;
    dims.push_back(d.dim_value());
  }
  v.shape = std::move(dims);
}

std::optional<Ints> broadcast(const std::vector<const Ints*>& shapes) {
  std::size_t rank = 0;
  for (const Ints* s : shapes) rank = std::max(rank, s->size());
  Ints out(rank, 1);
  for (const Ints* s : shapes) {
    const std::size_t offset = rank - s->size();
    for (std::size_t i = 0; i < s->size(); ++i) {
      const std::int64_t d = (*s)[i];
      std::int64_t& o = out[offset + i];
      if (d == o || d == 1) continue;
      if (o != 1) return std::nullopt;
      o = d;
    }
  }
  return out;
}

// Output shapes ONNX inference could not find, from shapes and evaluated
// integer inputs. Returns one entry per output it can tell.
std::vector<std::optional<Ints>> fallback_shapes(const onnx::NodeProto& node, const ValueTable& table) {
  auto shape_of = [&](int i) -> const Ints* {
    if (i >= node.input_size() || node.input(i).empty()) return nullptr;
    auto it = table.find(node.input(i));
    return it != table.end() && it->second.shape ? &*it->second.shape : nullptr;
  };
  auto ints_of = [&](int i) -> const Ints* {
    if (i >= node.input_size() || node.input(i).empty()) return nullptr;
    auto it = table.find(node.input(i));
    return it != table.end() && it->second.ints ? &*it->second.ints : nullptr;
  };
  const std::string& op = node.op_type();
  const Ints* in = shape_of(0);
  if (op == "Expand" && in && ints_of(1)) return {broadcast({in, ints_of(1)})};
  if (op == "ConstantOfShape" && ints_of(0)) return {*ints_of(0)};
  if (op == "Reshape" && in && ints_of(1)) {
    Ints out = *ints_of(1);
    std::int64_t known = 1;
    int infer_at = -1;
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (out[i] == 0 && int_attribute(node, "allowzero", 0) == 0 && i < in->size()) out[i] = (*in)[i];
      if (out[i] == -1) infer_at = static_cast<int>(i);
      else known *= out[i];
    }
    std::int64_t total = 1;
    for (auto d : *in) total *= d;
    if (infer_at >= 0) {
      if (known == 0 || total % known != 0) return {};
      out[static_cast<std::size_t>(infer_at)] = total / known;
    }
    return {out};
  }
  if (op == "TopK" && in && ints_of(1) && ints_of(1)->size() == 1) {
    Ints out = *in;
    std::int64_t axis = int_attribute(node, "axis", -1);
    if (axis < 0) axis += static_cast<std::int64_t>(out.size());
    if (axis < 0 || axis >= static_cast<std::int64_t>(out.size())) return {};
    out[static_cast<std::size_t>(axis)] = (*ints_of(1))[0];
    return {out, out};
  }
  if (broadcasting_ops().count(op)) {
    std::vector<const Ints*> shapes;
    for (int i = 0; i < node.input_size(); ++i) {
      if (!shape_of(i)) return {};
      shapes.push_back(shape_of(i));
    }
    return {broadcast(shapes)};
  }
  if (same_shape_ops().count(op) && in) return {*in};
  return {};
}

void write_shape(onnx::GraphProto& graph, const std::string& name, const ValueInfo& v) {
  onnx::ValueInfoProto* target = nullptr;
  for (auto& info : *graph.mutable_value_info()) {
    if (info.name() == name) target = &info;
  }
  if (!target) {
    target = graph.add_value_info();
    target->set_name(name);
  }
  auto* tensor = target->mutable_type()->mutable_tensor_type();
  if (v.elem_type != 0) tensor->set_elem_type(v.elem_type);
  auto* shape = tensor->mutable_shape();
  shape->clear_dim();
  for (auto d : *v.shape) shape->add_dim()->set_dim_value(d);
}

}  // namespace

ValueTable resolve_values(onnx::ModelProto& model, const std::map<std::string, std::uint64_t>& dims,
                          const std::string& path) {
  auto& graph = *model.mutable_graph();
  bind_input_dims(graph, dims, path);
  ValueTable table;
  for (const auto& init : graph.initializer()) {
    ValueInfo& v = table[init.name()];
    v.elem_type = init.data_type();
    v.shape = Ints(init.dims().begin(), init.dims().end());
    v.ints = integer_contents(init);
  }
  for (int round = 0; round < kMaxRounds; ++round) {
    try {
      onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                         onnx::ShapeInferenceOptions(false, 0, true));
    } catch (const std::exception& e) {
      throw InputError(fmt::format("{}: ONNX shape inference failed: {}", path, e.what()));
    }
    for (const auto& info : graph.input()) absorb(table, info);
    for (const auto& info : graph.value_info()) absorb(table, info);
    for (const auto& info : graph.output()) absorb(table, info);
    std::vector<std::string> learnt;
    for (const auto& node : graph.node()) {
      if (node.output_size() > 0 && !node.output(0).empty()) {
        ValueInfo& out = table[node.output(0)];
        if (!out.ints) {
          out.ints = evaluate_integer_node(node, table);
        }
      }
      const auto shapes = fallback_shapes(node, table);
      for (std::size_t i = 0; i < shapes.size() && i < static_cast<std::size_t>(node.output_size()); ++i) {
        ValueInfo& out = table[node.output(static_cast<int>(i))];
        if (out.shape || !shapes[i]) continue;
        out.shape = shapes[i];
        learnt.push_back(node.output(static_cast<int>(i)));
      }
    }
    if (learnt.empty()) break;
    for (const auto& name : learnt) write_shape(graph, name, table.at(name));
  }
  return table;
}

}  // namespace npusim::workloads::onnx_import
