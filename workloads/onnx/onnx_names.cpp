#include "workloads/onnx/onnx_names.h"

#include <regex>
#include <vector>

namespace npusim::workloads::onnx_import {
namespace {

int index_after(const std::string& dotted, const std::regex& pattern) {
  std::smatch match;
  if (!std::regex_search(dotted, match, pattern)) return -1;
  return std::stoi(match[1].str());
}

}  // namespace

int layer_of(const std::string& dotted) {
  static const std::regex pattern(R"((?:^|\.)(?:layers|layer|h|blocks)\.(\d+)(?:\.|$))");
  return index_after(dotted, pattern);
}

int expert_of(const std::string& dotted) {
  static const std::regex pattern(R"((?:^|\.)experts\.(\d+)(?:\.|$))");
  return index_after(dotted, pattern);
}

ScopedName parse_node_name(const std::string& onnx_name) {
  ScopedName out;
  const auto last_slash = onnx_name.rfind('/');
  if (onnx_name.empty() || onnx_name.front() != '/' || last_slash == 0) {
    out.leaf = onnx_name.empty() || onnx_name.front() != '/' ? onnx_name : onnx_name.substr(1);
    return out;
  }
  out.leaf = onnx_name.substr(last_slash + 1);
  std::string scope = onnx_name.substr(1, last_slash - 1);
  for (char& c : scope) {
    if (c == '/') c = '.';
  }
  const std::string wrapper = "model.";
  if (scope.compare(0, wrapper.size(), wrapper) == 0) scope = scope.substr(wrapper.size());
  else if (scope == "model") scope.clear();
  out.scope = scope;
  out.layer = layer_of(scope);
  out.expert = expert_of(scope);
  return out;
}

}  // namespace npusim::workloads::onnx_import
