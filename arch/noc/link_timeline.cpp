#include "arch/noc/link_timeline.h"

#include <algorithm>

namespace npusim::arch {

void LinkTimeline::forget_before(Tick now) {
  std::size_t gone = 0;
  while (gone < windows_.size() && windows_[gone].end <= now) ++gone;
  if (gone) windows_.erase(windows_.begin(), windows_.begin() + static_cast<std::ptrdiff_t>(gone));
}

LinkTimeline::Window LinkTimeline::book(Tick now, Tick earliest_start, Tick earliest_end, Tick length) {
  forget_before(now);
  Tick start = std::max(earliest_start, earliest_end > length ? earliest_end - length : Tick{0});
  if (length == 0) return {start, start};

  auto it = std::upper_bound(windows_.begin(), windows_.end(), start,
                             [](Tick t, const Window& w) { return t < w.end; });
  for (; it != windows_.end() && it->start < start + length; ++it) start = std::max(start, it->end);
  const Window booked{start, start + length};

  const bool joins_prev = it != windows_.begin() && std::prev(it)->end == booked.start;
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

  if (windows_.size() > kMaxWindows) {
    windows_[1].start = windows_[0].start;
    windows_.erase(windows_.begin());
  }
  return booked;
}

}  // namespace npusim::arch
