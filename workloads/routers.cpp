// Synthetic routers: expected-value routing with seeded expert ranks (see
// routing.h for the model and the conservation law they keep).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include <fmt/format.h>

#include "common/error.h"
#include "workloads/routing.h"

namespace npusim::workloads {
namespace {

// Splits `total` over weights with every share capped at `cap`, rounding by
// largest remainder. Requires total <= cap x weights.size(). Capped shares
// are fixed first and their excess spread over the rest, so the result stays
// as close to the weights as the cap allows.
std::vector<std::uint64_t> allocate(const std::vector<double>& weights, std::uint64_t total, std::uint64_t cap) {
  const std::size_t n = weights.size();
  std::vector<double> share(n, 0.0);
  std::vector<bool> capped(n, false);
  double remaining = static_cast<double>(total);
  for (;;) {
    double weight_sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!capped[i]) weight_sum += weights[i];
    }
    bool changed = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (capped[i]) continue;
      share[i] = weight_sum > 0 ? remaining * weights[i] / weight_sum : 0.0;
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!capped[i] && share[i] > static_cast<double>(cap)) {
        capped[i] = true;
        share[i] = static_cast<double>(cap);
        remaining -= static_cast<double>(cap);
        changed = true;
      }
    }
    if (!changed) break;
  }
  std::vector<std::uint64_t> out(n);
  std::uint64_t assigned = 0;
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = std::min<std::uint64_t>(cap, static_cast<std::uint64_t>(std::floor(share[i])));
    assigned += out[i];
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Stable on ties: the caller already placed experts in seeded rank order.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return share[a] - std::floor(share[a]) > share[b] - std::floor(share[b]);
  });
  for (std::size_t pass = 0; assigned < total; ++pass) {
    for (std::size_t i : order) {
      if (assigned == total) break;
      // The first pass honours largest remainders; later passes only mop up
      // floating-point slack, never exceeding the cap.
      if (out[i] < cap && (pass > 0 || share[i] > static_cast<double>(out[i]))) {
        ++out[i];
        ++assigned;
      }
    }
  }
  return out;
}

// A seeded permutation per (seed, layer, step). mt19937_64's output sequence
// is fixed by the standard, and the shuffle is written out here because
// std::shuffle's use of the engine is implementation-defined.
std::vector<std::size_t> seeded_ranks(std::uint64_t seed, std::uint64_t layer, std::uint64_t step, std::uint64_t group,
                                      std::size_t n) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(layer), static_cast<std::uint32_t>(step),
                    static_cast<std::uint32_t>(group)};
  std::mt19937_64 engine(seq);
  std::vector<std::size_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  for (std::size_t i = n; i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(engine() % i);
    std::swap(perm[i - 1], perm[j]);
  }
  return perm;
}

// Turns per-rank weights into per-expert counts for every group.
class WeightedRouter : public Router {
 public:
  explicit WeightedRouter(const RouterParams& params) : params_(params) {}

  std::vector<std::uint64_t> route(std::uint64_t layer, std::uint64_t step, std::uint64_t tokens,
                                   const MoeConfig& moe) const override {
    const std::size_t per_group = moe.experts_per_group();
    const std::vector<double> rank_weights = weights(per_group);
    std::vector<std::uint64_t> counts(moe.num_experts, 0);
    for (std::uint64_t g = 0; g < moe.num_groups; ++g) {
      const auto perm = seeded_ranks(params_.seed, layer, step, g, per_group);
      // Expert perm[r] takes rank r; allocate in rank order so ties break by rank.
      const auto by_rank = allocate(rank_weights, tokens * moe.top_k_per_group(), tokens);
      for (std::size_t r = 0; r < per_group; ++r) counts[g * per_group + perm[r]] = by_rank[r];
    }
    return counts;
  }

 protected:
  virtual std::vector<double> weights(std::size_t experts) const = 0;
  RouterParams params_;
};

class UniformRouter : public WeightedRouter {
 public:
  using WeightedRouter::WeightedRouter;

 protected:
  std::vector<double> weights(std::size_t experts) const override { return std::vector<double>(experts, 1.0); }
};

class ZipfRouter : public WeightedRouter {
 public:
  explicit ZipfRouter(const RouterParams& params) : WeightedRouter(params) {
    if (!(params.zipf_s >= 0)) throw InputError(fmt::format("router.zipf_s: expected >= 0, got {}", params.zipf_s));
  }

 protected:
  std::vector<double> weights(std::size_t experts) const override {
    std::vector<double> w(experts);
    for (std::size_t r = 0; r < experts; ++r) w[r] = 1.0 / std::pow(static_cast<double>(r + 1), params_.zipf_s);
    return w;
  }
};

class HotRouter : public WeightedRouter {
 public:
  explicit HotRouter(const RouterParams& params) : WeightedRouter(params) {
    if (!(params.hot_fraction > 0 && params.hot_fraction <= 1)) {
      throw InputError(fmt::format("router.hot_fraction: expected a fraction in (0, 1], got {}", params.hot_fraction));
    }
    if (!(params.hot_share >= 0 && params.hot_share <= 1)) {
      throw InputError(fmt::format("router.hot_share: expected a fraction in [0, 1], got {}", params.hot_share));
    }
  }

 protected:
  std::vector<double> weights(std::size_t experts) const override {
    const auto hot = std::clamp<std::size_t>(
        static_cast<std::size_t>(std::llround(params_.hot_fraction * static_cast<double>(experts))), 1, experts);
    const std::size_t cold = experts - hot;
    std::vector<double> w(experts);
    for (std::size_t r = 0; r < experts; ++r) {
      if (r < hot) {
        w[r] = cold == 0 ? 1.0 : params_.hot_share / static_cast<double>(hot);
      } else {
        w[r] = (1.0 - params_.hot_share) / static_cast<double>(cold);
      }
    }
    return w;
  }
};

const Registration<Router, const RouterParams&> kUniform(
    "router", "uniform", "every expert equally likely; counts differ by at most one within a group",
    [](const RouterParams& p) { return std::make_unique<UniformRouter>(p); });
const Registration<Router, const RouterParams&> kZipf(
    "router", "zipf", "the r-th most popular expert of a group has weight 1/r^zipf_s",
    [](const RouterParams& p) { return std::make_unique<ZipfRouter>(p); });
const Registration<Router, const RouterParams&> kHot(
    "router", "hot", "hot_fraction of the experts carries hot_share of the traffic",
    [](const RouterParams& p) { return std::make_unique<HotRouter>(p); });

}  // namespace
}  // namespace npusim::workloads
