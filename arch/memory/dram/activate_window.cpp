#include "arch/memory/dram/activate_window.h"

#include <algorithm>

namespace npusim::arch::dram {
namespace {

// Covers well over a 64-entry queue's worth of activations at the tFAW rate;
// dropping in halves keeps the erase cost amortised.
constexpr std::size_t kMaxActs = 32;

}  // namespace

ActivateWindow::ActivateWindow(const DramTimings& t)
    : rrd_s_(t.tRRD_S), rrd_l_(t.tRRD_L), faw_(t.tFAW), reach_(std::max({t.tFAW, t.tRRD_S, t.tRRD_L})) {
  acts_.reserve(kMaxActs + 1);
}

Cycles ActivateWindow::check(Cycles t, std::uint32_t group, std::size_t& lo) const {
  if (acts_.back().at + reach_ <= t) return t;  // t is past them all
  // The ACTs within reach of t on either side. `lo` only moves forward, as t
  // does in earliest_among_logged().
  while (acts_[lo].at + reach_ <= t) ++lo;
  std::size_t hi = lo;
  while (hi < acts_.size() && acts_[hi].at < t + reach_) ++hi;
  // Existing ACTs already obey tFAW, so at most four lie on each side of t.
  Cycles window[10];
  std::size_t size = 0;
  std::size_t position = 0;  // index of t in `window`
  for (std::size_t i = lo; i < hi; ++i) {
    const Act& a = acts_[i];
    const Cycles rrd = a.group == group ? rrd_l_ : rrd_s_;
    if (a.at + rrd > t && t + rrd > a.at) return a.at + rrd;
    if (size < 9) window[size++] = a.at;
    if (a.at < t) position = size;
  }
  // Insert t and check every run of five consecutive ACTs that contains it.
  for (std::size_t i = size; i > position; --i) window[i] = window[i - 1];
  window[position] = t;
  ++size;
  const std::size_t first = position >= 4 ? position - 4 : 0;
  for (std::size_t k = first; k <= position && k + 4 < size; ++k) {
    if (window[k + 4] - window[k] >= faw_) continue;
    // Too many ACTs around t: move past the oldest of them, or, when t
    // leads the run, past the run's last ACT.
    return k < position ? window[k] + faw_ : window[k + 4];
  }
  return t;
}

Cycles ActivateWindow::earliest_among_logged(Cycles t, std::uint32_t group) const {
  // The first ACT within reach of t; the log's last one is (the caller checked).
  std::size_t lo = static_cast<std::size_t>(
      std::lower_bound(acts_.begin(), acts_.end(), t, [this](const Act& a, Cycles v) { return a.at + reach_ <= v; }) -
      acts_.begin());
  // Each move is strictly later and lands on a value derived from a logged
  // ACT, so this ends after at most a few steps per nearby ACT.
  for (;;) {
    const Cycles next = check(t, group, lo);
    if (next == t) return t;
    t = next;
  }
}

void ActivateWindow::add(Cycles at, std::uint32_t group) {
  std::size_t i = acts_.size();
  while (i > 0 && acts_[i - 1].at > at) --i;
  acts_.insert(acts_.begin() + static_cast<std::ptrdiff_t>(i), Act{at, group});
  if (acts_.size() > kMaxActs) {
    const std::size_t drop = kMaxActs / 2;
    floor_ = std::max(floor_, acts_[drop - 1].at + faw_);
    acts_.erase(acts_.begin(), acts_.begin() + static_cast<std::ptrdiff_t>(drop));
  }
}

}  // namespace npusim::arch::dram
