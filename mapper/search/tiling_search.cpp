#include "mapper/search/tiling_search.h"

#include <algorithm>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "mapper/search/search.h"

namespace npusim::mapper {

GemmChoice search_gemm_tiling(const GemmProblem& p, const MachineView& machine, const SearchOptions& o,
                              const GemmConfirmer& confirm) {
  if (o.budget == 0) throw InputError("search.budget must be at least 1 evaluation");
  const GemmMapspace space(p, machine, o.split_k_max);
  const auto search = make_search(o.algorithm, space, SearchParams{o.seed});
  const std::size_t keep = static_cast<std::size_t>(std::max(1, o.confirm_top));
  std::vector<std::pair<GemmCost, GemmTiling>> top;  // best first, at most `keep`
  std::size_t evaluated = 0;
  while (evaluated < o.budget) {
    const auto index = search->next();
    if (!index) break;
    const GemmTiling t = space.at(*index);
    if (gemm_tiling_error(p, t, machine)) {
      search->report(std::numeric_limits<double>::infinity());
      continue;
    }
    ++evaluated;
    const GemmCost c = estimate_gemm(p, t, machine);
    search->report(c.seconds);
    auto at = std::find_if(top.begin(), top.end(), [&](const auto& e) { return ranks_before(c, e.first); });
    if (at != top.end() || top.size() < keep) {
      top.insert(at, {c, t});
      if (top.size() > keep) top.pop_back();
    }
  }
  if (top.empty()) {
    throw InputError(fmt::format("no tiling of a {}x{}x{} {} matmul fits the buffers (L1 {} B, L0A {} B, L0B {} B, "
                                 "L0C {} B) within a search budget of {}",
                                 p.m, p.k, p.n, dtype_name(p.a_dtype), machine.l1, machine.l0a, machine.l0b,
                                 machine.l0c, o.budget));
  }
  GemmChoice choice;
  choice.tiling = top.front().second;
  choice.cost = top.front().first;
  choice.candidates_evaluated = evaluated;
  choice.candidates_pruned = search->pruned();
  if (o.confirm_top > 0 && confirm) {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& [cost, tiling] : top) {
      const double simulated = confirm(p, tiling);
      ++choice.confirmed;
      if (simulated < best) {
        best = simulated;
        choice.tiling = tiling;
        choice.cost = cost;
        choice.confirmed_seconds = simulated;
      }
    }
  }
  return choice;
}

GemmChoice choose_gemm_tiling(const GemmProblem& p, const MachineView& machine) {
  return search_gemm_tiling(p, machine, SearchOptions{});
}

}  // namespace npusim::mapper
