#include "workloads/onnx/onnx_int_eval.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <string>

#include <onnx/defs/tensor_proto_util.h>

namespace npusim::workloads::onnx_import {
namespace {

using Ints = std::vector<std::int64_t>;

bool is_integer_type(std::int32_t t) {
  switch (t) {
    case onnx::TensorProto_DataType_INT64:
    case onnx::TensorProto_DataType_INT32:
    case onnx::TensorProto_DataType_INT16:
    case onnx::TensorProto_DataType_INT8:
    case onnx::TensorProto_DataType_UINT8:
    case onnx::TensorProto_DataType_BOOL: return true;
    default: return false;
  }
}

const Ints* input_ints(const onnx::NodeProto& node, int i, const ValueTable& values) {
  if (i >= node.input_size() || node.input(i).empty()) return nullptr;
  auto it = values.find(node.input(i));
  if (it == values.end() || !it->second.ints) return nullptr;
  return &*it->second.ints;
}

// Numpy broadcasting restricted to what shape arithmetic uses: equal sizes
// or a single element against many.
std::optional<Ints> elementwise(const Ints& a, const Ints& b, const std::function<std::int64_t(std::int64_t, std::int64_t)>& f) {
  if (a.size() != b.size() && a.size() != 1 && b.size() != 1) return std::nullopt;
  const std::size_t n = std::max(a.size(), b.size());
  Ints out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = f(a[a.size() == 1 ? 0 : i], b[b.size() == 1 ? 0 : i]);
  return out;
}

std::optional<Ints> binary(const std::string& op, const Ints& a, const Ints& b) {
  if (op == "Add") return elementwise(a, b, std::plus<>());
  if (op == "Sub") return elementwise(a, b, std::minus<>());
  if (op == "Mul") return elementwise(a, b, std::multiplies<>());
  if (op == "Div") {
    if (std::find(b.begin(), b.end(), 0) != b.end()) return std::nullopt;
    return elementwise(a, b, std::divides<>());
  }
  if (op == "Equal") return elementwise(a, b, [](auto x, auto y) { return std::int64_t{x == y}; });
  if (op == "Less") return elementwise(a, b, [](auto x, auto y) { return std::int64_t{x < y}; });
  if (op == "Greater") return elementwise(a, b, [](auto x, auto y) { return std::int64_t{x > y}; });
  if (op == "Max") return elementwise(a, b, [](auto x, auto y) { return std::max(x, y); });
  if (op == "Min") return elementwise(a, b, [](auto x, auto y) { return std::min(x, y); });
  if (op == "And") return elementwise(a, b, [](auto x, auto y) { return std::int64_t{x && y}; });
  if (op == "Or") return elementwise(a, b, [](auto x, auto y) { return std::int64_t{x || y}; });
  return std::nullopt;
}

std::int64_t clamp_index(std::int64_t i, std::int64_t n) {
  if (i < 0) i += n;
  return std::clamp<std::int64_t>(i, 0, n);
}

std::optional<Ints> slice_1d(const onnx::NodeProto& node, const Ints& data, const ValueTable& values) {
  const Ints* starts = input_ints(node, 1, values);
  const Ints* ends = input_ints(node, 2, values);
  if (!starts || !ends || starts->size() != 1 || ends->size() != 1) return std::nullopt;
  const Ints* steps = input_ints(node, 4, values);
  const std::int64_t step = steps && steps->size() == 1 ? (*steps)[0] : 1;
  if (step != 1) return std::nullopt;
  const auto n = static_cast<std::int64_t>(data.size());
  const std::int64_t begin = clamp_index((*starts)[0], n);
  const std::int64_t end = clamp_index(std::min<std::int64_t>((*ends)[0], n), n);
  if (end <= begin) return Ints{};
  return Ints(data.begin() + begin, data.begin() + end);
}

std::optional<Ints> shape_of(const onnx::NodeProto& node, const ValueTable& values) {
  auto it = values.find(node.input(0));
  if (it == values.end() || !it->second.shape) return std::nullopt;
  const Ints& shape = *it->second.shape;
  const auto rank = static_cast<std::int64_t>(shape.size());
  const std::int64_t begin = clamp_index(int_attribute(node, "start", 0), rank);
  const std::int64_t end = clamp_index(int_attribute(node, "end", rank), rank);
  if (end <= begin) return Ints{};
  return Ints(shape.begin() + begin, shape.begin() + end);
}

}  // namespace

std::int64_t int_attribute(const onnx::NodeProto& node, const char* name, std::int64_t fallback) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name && a.type() == onnx::AttributeProto_AttributeType_INT) return a.i();
  }
  return fallback;
}

std::optional<std::vector<std::int64_t>> ints_attribute(const onnx::NodeProto& node, const char* name) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name && a.type() == onnx::AttributeProto_AttributeType_INTS) {
      return Ints(a.ints().begin(), a.ints().end());
    }
  }
  return std::nullopt;
}

std::optional<std::vector<std::int64_t>> integer_contents(const onnx::TensorProto& tensor) {
  const std::int64_t elements =
      std::accumulate(tensor.dims().begin(), tensor.dims().end(), std::int64_t{1}, std::multiplies<>());
  if (elements > static_cast<std::int64_t>(kMaxEvaluatedElements)) return std::nullopt;
  // External data lives outside the protobuf; shape arithmetic never uses it.
  if (tensor.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) return std::nullopt;
  if (tensor.data_type() == onnx::TensorProto_DataType_INT64) {
    const auto data = onnx::ParseData<std::int64_t>(&tensor);
    return Ints(data.begin(), data.end());
  }
  if (tensor.data_type() == onnx::TensorProto_DataType_INT32) {
    const auto data = onnx::ParseData<std::int32_t>(&tensor);
    return Ints(data.begin(), data.end());
  }
  return std::nullopt;
}

std::optional<std::vector<std::int64_t>> evaluate_integer_node(const onnx::NodeProto& node, const ValueTable& values) {
  const std::string& op = node.op_type();
  if (op == "Constant") {
    for (const auto& a : node.attribute()) {
      if (a.name() == "value" && a.has_t()) return integer_contents(a.t());
      if (a.name() == "value_int") return Ints{a.i()};
      if (a.name() == "value_ints") return Ints(a.ints().begin(), a.ints().end());
    }
    return std::nullopt;
  }
  if (op == "Shape") return shape_of(node, values);
  if (op == "Cast") {
    const Ints* in = input_ints(node, 0, values);
    if (!in || !is_integer_type(static_cast<std::int32_t>(int_attribute(node, "to", 0)))) return std::nullopt;
    return *in;
  }
  if (node.input_size() == 0) return std::nullopt;
  const Ints* a = input_ints(node, 0, values);
  if (!a) return std::nullopt;
  if (op == "Identity" || op == "Unsqueeze" || op == "Squeeze" || op == "Reshape" || op == "Flatten") return *a;
  if (op == "Neg") {
    Ints out(*a);
    for (auto& v : out) v = -v;
    return out;
  }
  if (op == "Not") {
    Ints out(*a);
    for (auto& v : out) v = !v;
    return out;
  }
  if (op == "Gather") {
    const Ints* idx = input_ints(node, 1, values);
    if (!idx || int_attribute(node, "axis", 0) != 0) return std::nullopt;
    Ints out;
    const auto n = static_cast<std::int64_t>(a->size());
    for (auto i : *idx) {
      if (i < -n || i >= n) return std::nullopt;
      out.push_back((*a)[static_cast<std::size_t>(i < 0 ? i + n : i)]);
    }
    return out;
  }
  if (op == "Concat") {
    Ints out;
    for (int i = 0; i < node.input_size(); ++i) {
      const Ints* part = input_ints(node, i, values);
      if (!part) return std::nullopt;
      out.insert(out.end(), part->begin(), part->end());
    }
    return out;
  }
  if (op == "Slice") return slice_1d(node, *a, values);
  if (op == "ConstantOfShape") {
    std::int64_t n = 1;
    for (auto d : *a) n *= d;
    if (n < 0 || n > static_cast<std::int64_t>(kMaxEvaluatedElements)) return std::nullopt;
    std::int64_t fill = 0;
    for (const auto& attr : node.attribute()) {
      if (attr.name() == "value" && attr.has_t()) {
        auto v = integer_contents(attr.t());
        if (!v || v->size() != 1) return std::nullopt;
        fill = (*v)[0];
      }
    }
    return Ints(static_cast<std::size_t>(n), fill);
  }
  if (op == "Range") {
    const Ints* limit = input_ints(node, 1, values);
    const Ints* delta = input_ints(node, 2, values);
    if (!limit || !delta || a->size() != 1 || limit->size() != 1 || delta->size() != 1 || (*delta)[0] == 0) {
      return std::nullopt;
    }
    Ints out;
    for (std::int64_t v = (*a)[0]; (*delta)[0] > 0 ? v < (*limit)[0] : v > (*limit)[0]; v += (*delta)[0]) {
      if (out.size() >= kMaxEvaluatedElements) return std::nullopt;
      out.push_back(v);
    }
    return out;
  }
  if (op == "Where") {
    const Ints* x = input_ints(node, 1, values);
    const Ints* y = input_ints(node, 2, values);
    if (!x || !y) return std::nullopt;
    auto picked_x = elementwise(*a, *x, [](auto c, auto v) { return c ? v : 0; });
    auto picked_y = elementwise(*a, *y, [](auto c, auto v) { return c ? 0 : v; });
    if (!picked_x || !picked_y) return std::nullopt;
    return elementwise(*picked_x, *picked_y, std::plus<>());
  }
  const Ints* b = input_ints(node, 1, values);
  if (!b) return std::nullopt;
  return binary(op, *a, *b);
}

}  // namespace npusim::workloads::onnx_import
