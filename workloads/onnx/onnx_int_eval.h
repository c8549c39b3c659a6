#pragma once
// Evaluates the integer tensors of shape arithmetic (Shape -> Gather ->
// Unsqueeze -> Concat -> Reshape, Equal/Where around Expand, TopK's k) so
// that shapes computed at run time by the exported graph are known here.
// Only small integer tensors whose inputs are all known are evaluated;
// values are flattened in row-major order.
#include <cstdint>
#include <optional>
#include <vector>

#include <onnx/onnx_pb.h>

#include "workloads/onnx/onnx_values.h"

namespace npusim::workloads::onnx_import {

// Contents of a Constant's value or of an initializer, when it is an
// integer tensor of at most kMaxEvaluatedElements elements.
std::optional<std::vector<std::int64_t>> integer_contents(const onnx::TensorProto& tensor);

// Contents of output 0 of `node`, or nullopt when it is not an integer
// tensor or an input is unknown.
std::optional<std::vector<std::int64_t>> evaluate_integer_node(const onnx::NodeProto& node, const ValueTable& values);

inline constexpr std::size_t kMaxEvaluatedElements = 1 << 16;

// Reads an int attribute, `fallback` when absent.
std::int64_t int_attribute(const onnx::NodeProto& node, const char* name, std::int64_t fallback);
std::optional<std::vector<std::int64_t>> ints_attribute(const onnx::NodeProto& node, const char* name);

}  // namespace npusim::workloads::onnx_import
