#include "common/params.h"

#include <fmt/format.h>

#include "common/error.h"

namespace npusim {

ParamTable::ParamTable(std::string section, std::string doc, std::vector<ParamSpec> params)
    : section_(std::move(section)), doc_(std::move(doc)), params_(std::move(params)) {}

std::vector<std::string> ParamTable::keys() const {
  std::vector<std::string> out;
  for (const auto& p : params_) out.push_back(p.key);
  return out;
}

const ParamSpec& ParamTable::spec(const std::string& key) const {
  for (const auto& p : params_) {
    if (p.key == key) return p;
  }
  throw std::logic_error(fmt::format("parameter '{}' is not declared in table '{}'", key, section_));
}

ParamReader::ParamReader(const ConfigNode& node, const ParamTable& table) : node_(node), table_(table) {
  node_.expect_keys(table_.keys());
}

ConfigNode ParamReader::operator[](const std::string& key) const {
  const ParamSpec& spec = table_.spec(key);
  if (auto value = node_.find(key)) return *value;
  if (spec.default_value.empty()) node_.fail_message(fmt::format("missing required key '{}' ({})", key, spec.doc));
  auto fallback = ConfigNode::load_string(spec.default_value, fmt::format("default of {}.{}", table_.section(), key));
  return fallback;
}

ParamCatalog& ParamCatalog::instance() {
  static ParamCatalog catalog;
  return catalog;
}

}  // namespace npusim
