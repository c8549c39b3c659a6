#pragma once
// Reading an ONNX file into a ModelProto, and the one error format every
// later stage uses, so a user always sees the file, the node and its op type.
#include <string>

#include <onnx/onnx_pb.h>

namespace npusim::workloads::onnx_import {

// Parses `path` and checks it is a model at all (a graph with nodes and an
// opset). Throws InputError naming the file for a missing, truncated or
// garbage file.
onnx::ModelProto read_model_file(const std::string& path);

// "<file>: node '<name>' (op_type '<type>') <what>", `what` a verb phrase
// ("is not supported", "has ...").
[[noreturn]] void fail_at_node(const std::string& path, const onnx::NodeProto& node, const std::string& what);

// The node's name, or "#<index>" when the exporter left it empty.
std::string node_label(const onnx::NodeProto& node, int index);

}  // namespace npusim::workloads::onnx_import
