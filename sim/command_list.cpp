// `npusim list`: every registered implementation and every declared
// parameter, straight from the registries, so it cannot drift from the code.
#include <algorithm>
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "common/params.h"
#include "common/registry.h"
#include "sim/commands.h"

namespace npusim {

int command_list() {
  std::map<std::string, std::vector<const ComponentEntry*>> by_kind;
  for (const auto& entry : ComponentCatalog::instance().entries()) by_kind[entry.kind].push_back(&entry);
  std::cout << "Components (choose by name in YAML):\n";
  for (auto& [kind, entries] : by_kind) {
    std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->name < b->name; });
    std::cout << fmt::format("  {}\n", kind);
    for (const auto* e : entries) std::cout << fmt::format("    {:<22} {}\n", e->name, e->doc);
  }

  std::vector<const ParamTable*> tables = ParamCatalog::instance().tables();
  std::sort(tables.begin(), tables.end(), [](auto* a, auto* b) { return a->section() < b->section(); });
  std::cout << "\nParameters (section.key  default  [unit]  doc):\n";
  for (const auto* table : tables) {
    std::cout << fmt::format("  {}: {}\n", table->section(), table->doc());
    for (const auto& p : table->params()) {
      const std::string def = p.default_value.empty() ? "(required)" : p.default_value;
      const std::string unit = p.unit.empty() ? "" : "[" + p.unit + "]";
      std::cout << fmt::format("    {:<28} {:<16} {:<10} {}\n", p.key, def, unit, p.doc);
    }
  }
  return 0;
}

}  // namespace npusim
