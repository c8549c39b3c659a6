#include "workloads/onnx/onnx_kv_cache.h"

#include <regex>

namespace npusim::workloads::onnx_import {

std::optional<PastKvName> parse_past_kv_name(const std::string& input_name) {
  static const std::regex pattern(R"(^past_key_values\.(\d+)\.(key|value)$)");
  std::smatch match;
  if (!std::regex_match(input_name, match, pattern)) return std::nullopt;
  return PastKvName{std::stoi(match[1].str()), match[2].str() == "key"};
}

}  // namespace npusim::workloads::onnx_import
