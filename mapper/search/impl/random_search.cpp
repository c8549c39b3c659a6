// Random search: samples the mapspace without replacement in an order fixed
// by the seed, so a run is reproducible; the caller's budget stops it.
#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "mapper/search/search.h"

namespace npusim::mapper {
namespace {

class RandomSearch : public Search {
 public:
  RandomSearch(const GemmMapspace& space, std::uint64_t seed) : order_(space.size()) {
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    std::mt19937_64 rng(seed);
    std::shuffle(order_.begin(), order_.end(), rng);
  }
  std::optional<std::size_t> next() override {
    if (cursor_ >= order_.size()) return std::nullopt;
    return order_[cursor_++];
  }
  void report(double) override {}

 private:
  std::vector<std::size_t> order_;
  std::size_t cursor_ = 0;
};

const Registration<Search, const GemmMapspace&, const SearchParams&> kReg(
    "search", "random", "uniform samples without replacement, seeded; stops at the budget",
    [](const GemmMapspace& space, const SearchParams& p) { return std::make_unique<RandomSearch>(space, p.seed); });

}  // namespace
}  // namespace npusim::mapper
