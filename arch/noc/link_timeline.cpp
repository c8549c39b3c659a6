#include "arch/noc/link_timeline.h"

#include <algorithm>

namespace npusim::arch {

void LinkTimeline::forget_before(Tick now) {
  while (first_ < windows_.size() && windows_[first_].end <= now) ++first_;
  if (first_ >= kMaxWindows && first_ * 2 >= windows_.size()) {
    windows_.erase(windows_.begin(), windows_.begin() + static_cast<std::ptrdiff_t>(first_));
    first_ = 0;
  }
}

LinkTimeline::Window LinkTimeline::book(Tick now, Tick earliest_start, Tick earliest_end, Tick length) {
  forget_before(now);
  Tick start = std::max(earliest_start, earliest_end > length ? earliest_end - length : Tick{0});
  if (length == 0) return {start, start};

  const auto live = windows_.begin() + static_cast<std::ptrdiff_t>(first_);
  auto it = std::upper_bound(live, windows_.end(), start,
                             [](Tick t, const Window& w) { return t < w.end; });
  for (; it != windows_.end() && it->start < start + length; ++it) start = std::max(start, it->end);
  const Window booked{start, start + length};

  const bool joins_prev = it != live && std::prev(it)->end == booked.start;
  const bool joins_next = it != windows_.end() && it->start == booked.end;
  if (joins_prev && joins_next) {
    std::prev(it)->end = it->end;
    windows_.erase(it);
  } else if (joins_prev) {
    std::prev(it)->end = booked.end;
  } else if (joins_next) {
    it->start = booked.start;
  } else {
    windows_.insert(it, booked);
  }

  if (windows() > kMaxWindows) {
    windows_[first_ + 1].start = windows_[first_].start;
    ++first_;
  }
  return booked;
}

}  // namespace npusim::arch
