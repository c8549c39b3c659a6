#include "arch/memory/dram/busy_timeline.h"

#include <algorithm>
#include <stdexcept>

namespace npusim::arch::dram {
// Intervals [0, below) hold the answer; a short walk back, then a binary search.
std::size_t BusyTimeline::search_after(Cycles t, std::size_t below) const {
  std::size_t i = below;
  for (int step = 0; step < 6; ++step) {
    if (i == 0 || busy_[i - 1].end <= t) return i;
    --i;
  }
  auto it = std::upper_bound(busy_.begin(), busy_.begin() + static_cast<std::ptrdiff_t>(i), t,
                             [](Cycles v, const Interval& iv) { return v < iv.end; });
  return static_cast<std::size_t>(it - busy_.begin());
}

Cycles BusyTimeline::blocker_end(Cycles begin, Cycles end) const {
  if (begin < floor_) return std::max(end, floor_);
  const std::size_t i = after(begin);
  if (i < busy_.size() && busy_[i].begin < end) return busy_[i].end;
  return end;
}

Cycles BusyTimeline::fill_end(Cycles from, Cycles amount) const {
  Cycles t = std::max(from, floor_);
  for (std::size_t i = after(t); i < busy_.size(); ++i) {
    if (busy_[i].begin > t) {
      const Cycles gap = busy_[i].begin - t;
      if (gap >= amount) return t + amount;
      amount -= gap;
    }
    t = std::max(t, busy_[i].end);
  }
  return t + amount;
}

Cycles BusyTimeline::fill(Cycles from, Cycles amount, std::vector<Interval>* pieces) {
  Cycles t = std::max(from, floor_);
  if (amount > 0 && (busy_.empty() || busy_.back().end <= t)) {  // the usual case: past everything placed
    if (!busy_.empty() && busy_.back().end == t) {
      busy_.back().end = t + amount;
    } else {
      busy_.push_back(Interval{t, t + amount});
    }
    if (pieces) pieces->push_back(Interval{t, t + amount});
    prune();
    return t + amount;
  }
  // Collect first: reserving while walking would shift the indices.
  Interval taken[kMaxIntervals + 1];
  std::size_t count = 0;
  for (std::size_t i = after(t); i < busy_.size() && amount > 0; ++i) {
    if (busy_[i].begin > t) {
      const Cycles use = std::min(amount, busy_[i].begin - t);
      taken[count++] = {t, t + use};
      amount -= use;
    }
    t = std::max(t, busy_[i].end);
  }
  if (amount > 0) taken[count++] = {t, t + amount};
  for (std::size_t k = 0; k < count; ++k) {
    insert(taken[k].begin, taken[k].end);
    if (pieces) pieces->push_back(taken[k]);
  }
  prune();
  return taken[count - 1].end;
}

void BusyTimeline::reserve(Cycles begin, Cycles end) {
  insert(begin, end);
  prune();
}

void BusyTimeline::insert(Cycles begin, Cycles end) {
  if (end <= begin) return;
  if (begin < floor_) throw std::logic_error("reserving time before the timeline's horizon");
  const std::size_t i = after(begin);
  if (i < busy_.size() && busy_[i].begin < end) throw std::logic_error("reserving busy time");
  const bool join_prev = i > 0 && busy_[i - 1].end == begin;
  const bool join_next = i < busy_.size() && busy_[i].begin == end;
  if (join_prev && join_next) {
    busy_[i - 1].end = busy_[i].end;
    busy_.erase(busy_.begin() + static_cast<std::ptrdiff_t>(i));
  } else if (join_prev) {
    busy_[i - 1].end = end;
  } else if (join_next) {
    busy_[i].begin = begin;
  } else {
    busy_.insert(busy_.begin() + static_cast<std::ptrdiff_t>(i), Interval{begin, end});
  }
}

void BusyTimeline::prune() {
  if (busy_.size() <= kMaxIntervals) return;
  const std::size_t drop = kMaxIntervals / 2;
  floor_ = std::max(floor_, busy_[drop - 1].end);
  busy_.erase(busy_.begin(), busy_.begin() + static_cast<std::ptrdiff_t>(drop));
}

}  // namespace npusim::arch::dram
