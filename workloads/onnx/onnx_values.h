#pragma once
// Static shapes (and the contents of small integer tensors) of every value
// in an ONNX graph.
//
// ONNX's own shape inference with data propagation does most of the work,
// but it gives up where a shape is computed through ops it cannot
// propagate (Where/Equal feeding an Expand, a Reshape feeding TopK's k, as
// torch's exporter writes them). So the integer tensors of shape arithmetic
// are evaluated here, the ops whose output shapes depend on them get their
// shapes from those values, and inference runs again until nothing changes.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <onnx/onnx_pb.h>

namespace npusim::workloads::onnx_import {

struct ValueInfo {
  std::int32_t elem_type = 0;  // onnx::TensorProto_DataType; 0 = unknown
  std::optional<std::vector<std::int64_t>> shape;  // set when every dim is static
  std::optional<std::vector<std::int64_t>> ints;   // contents of a small integer tensor
};

using ValueTable = std::unordered_map<std::string, ValueInfo>;

// Binds the graph inputs' symbolic dims from `dims` (by dim_param name),
// then infers. Adds what it learnt to the model's value_info. Throws
// InputError naming `path` for a symbolic input dim without a value.
ValueTable resolve_values(onnx::ModelProto& model, const std::map<std::string, std::uint64_t>& dims,
                          const std::string& path);

}  // namespace npusim::workloads::onnx_import
