#include "workloads/onnx/onnx_file.h"

#include <fstream>

#include <fmt/format.h>

#include "common/error.h"

namespace npusim::workloads::onnx_import {

onnx::ModelProto read_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open ONNX model", path));
  onnx::ModelProto model;
  // Protobuf happily parses many byte strings as a message of unknown
  // fields, so a successful parse alone does not prove this is a model.
  if (!model.ParseFromIstream(&in)) {
    throw InputError(fmt::format("{}: not a valid ONNX model (the protobuf is truncated or corrupt)", path));
  }
  if (model.ir_version() <= 0 || !model.has_graph() || model.graph().node_size() == 0) {
    throw InputError(fmt::format("{}: not a valid ONNX model (expected an ir_version and a graph with nodes)", path));
  }
  bool default_domain = false;
  for (const auto& opset : model.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx") default_domain = true;
  }
  if (!default_domain) {
    throw InputError(fmt::format("{}: not a valid ONNX model (no opset_import for the default ai.onnx domain)", path));
  }
  return model;
}

void fail_at_node(const std::string& path, const onnx::NodeProto& node, const std::string& what) {
  throw InputError(fmt::format("{}: node '{}' (op_type '{}') {}", path,
                               node.name().empty() ? "(unnamed)" : node.name(), node.op_type(), what));
}

std::string node_label(const onnx::NodeProto& node, int index) {
  return node.name().empty() ? fmt::format("#{}", index) : node.name();
}

}  // namespace npusim::workloads::onnx_import
