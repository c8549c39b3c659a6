// Exhaustive search with pruning: walks the mapspace in order, skipping a
// candidate whose lower bound (gemm_lower_bound_seconds) cannot beat or tie
// the best cost reported so far (a tie may still rank first, see
// ranks_before), and one that does not fit the buffers.
#include <limits>

#include "mapper/gemm/gemm_cost.h"
#include "mapper/search/search.h"

namespace npusim::mapper {
namespace {

class ExhaustiveSearch : public Search {
 public:
  explicit ExhaustiveSearch(const GemmMapspace& space) : space_(space) {}

  std::optional<std::size_t> next() override {
    while (cursor_ < space_.size()) {
      const std::size_t i = cursor_++;
      const GemmTiling t = space_.at(i);
      if (gemm_tiling_error(space_.problem(), t, space_.machine())) continue;
      if (gemm_lower_bound_seconds(space_.problem(), t, space_.machine()) > best_) {
        ++pruned_;
        continue;
      }
      return i;
    }
    return std::nullopt;
  }
  void report(double cost) override {
    if (cost < best_) best_ = cost;
  }
  std::size_t pruned() const override { return pruned_; }

 private:
  const GemmMapspace& space_;
  std::size_t cursor_ = 0;
  std::size_t pruned_ = 0;
  double best_ = std::numeric_limits<double>::infinity();
};

const Registration<Search, const GemmMapspace&, const SearchParams&> kReg(
    "search", "exhaustive", "every fitting tiling in order, pruned by a lower bound on its time",
    [](const GemmMapspace& space, const SearchParams&) { return std::make_unique<ExhaustiveSearch>(space); });

}  // namespace
}  // namespace npusim::mapper
