#pragma once
// Each configurable parameter is declared once, next to the resolver that
// reads it, with its default, unit and one line of documentation. The same
// declaration drives validation (unknown keys are rejected), defaults, and
// `npusim list`.
#include <string>
#include <vector>

#include "common/config_node.h"

namespace npusim {

struct ParamSpec {
  std::string key;
  std::string default_value;  // empty: the key is required
  std::string unit;           // "" for dimensionless or enumerations
  std::string doc;
};

class ParamTable {
 public:
  ParamTable(std::string section, std::string doc, std::vector<ParamSpec> params);

  const std::string& section() const { return section_; }
  const std::string& doc() const { return doc_; }
  const std::vector<ParamSpec>& params() const { return params_; }
  std::vector<std::string> keys() const;
  const ParamSpec& spec(const std::string& key) const;

 private:
  std::string section_;
  std::string doc_;
  std::vector<ParamSpec> params_;
};

// A map node checked against a table. Missing optional keys read as their
// declared default, parsed by the same converters as a written value.
class ParamReader {
 public:
  ParamReader(const ConfigNode& node, const ParamTable& table);
  ConfigNode operator[](const std::string& key) const;
  bool given(const std::string& key) const { return node_.has(key); }
  const ConfigNode& node() const { return node_; }

 private:
  ConfigNode node_;
  const ParamTable& table_;
};

// Every table that registered itself, for `npusim list`.
class ParamCatalog {
 public:
  static ParamCatalog& instance();
  void add(const ParamTable* table) { tables_.push_back(table); }
  const std::vector<const ParamTable*>& tables() const { return tables_; }

 private:
  std::vector<const ParamTable*> tables_;
};

// Declares a table at namespace scope and registers it with the catalog.
struct ParamTableRegistration {
  explicit ParamTableRegistration(const ParamTable& table) { ParamCatalog::instance().add(&table); }
};

}  // namespace npusim
