#include "workloads/model_family.h"

#include <fmt/format.h>

#include "common/error.h"

namespace npusim::workloads {

std::unique_ptr<ModelFamily> make_family(const std::string& name, const std::string& where) {
  const auto& registry = ModelFamilyRegistry::instance();
  if (!registry.contains(name)) {
    std::string names;
    for (const auto& n : registry.names()) names += (names.empty() ? "" : " | ") + n;
    throw InputError(fmt::format("{}: expected one of {}, got \"{}\"", where, names, name));
  }
  return registry.create(name);
}

}  // namespace npusim::workloads
