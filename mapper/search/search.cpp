#include "mapper/search/search.h"

#include <fmt/format.h>

#include "common/error.h"

namespace npusim::mapper {

std::unique_ptr<Search> make_search(const std::string& name, const GemmMapspace& space, const SearchParams& params) {
  const auto& registry = SearchRegistry::instance();
  if (!registry.contains(name)) {
    std::string known;
    for (const auto& n : registry.names()) known += (known.empty() ? "" : ", ") + n;
    throw InputError(fmt::format("search algorithm '{}' is not registered (known: {})", name, known));
  }
  return registry.create(name, space, params);
}

}  // namespace npusim::mapper
