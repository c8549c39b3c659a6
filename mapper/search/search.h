#pragma once
// A search over a mapspace, in Timeloop's shape: next() proposes a
// candidate, report() returns its cost. Implementations register by name
// (impl/) and are chosen with `search.algorithm` in the mapper config; the
// caller (tiling_search.h) owns the budget, so no search can run unbounded.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/registry.h"
#include "mapper/search/gemm_mapspace.h"

namespace npusim::mapper {

struct SearchParams {
  std::uint64_t seed = 1;  // for randomised searches
};

class Search {
 public:
  virtual ~Search() = default;
  // The next candidate's index in the mapspace, or nullopt when the search
  // has nothing more to propose.
  virtual std::optional<std::size_t> next() = 0;
  // Cost (seconds) of the candidate last proposed; +infinity if it does not fit.
  virtual void report(double cost) = 0;
  // Candidates skipped without evaluation (bounds, symmetry).
  virtual std::size_t pruned() const { return 0; }
};

using SearchRegistry = Registry<Search, const GemmMapspace&, const SearchParams&>;

std::unique_ptr<Search> make_search(const std::string& name, const GemmMapspace& space, const SearchParams& params);

}  // namespace npusim::mapper
