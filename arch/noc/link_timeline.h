#pragma once
// The reservation calendar of one serial resource (a NoC link, an L2 bank).
//
// Loosely-timed initiators book a whole transfer when they issue it, and a
// read's data may be booked to cross a link late (when the memory returns
// it). A single next-free time would make an early, short transfer queue
// behind such a late booking; the calendar keeps the busy windows so it can
// use the gap. Windows that ended before `now` are dropped, and past
// kMaxWindows the earliest gap is filled (conservative: it can only delay a
// later booking), so a booking costs a few comparisons, never an event.
#include <cstddef>
#include <vector>

#include "common/units.h"

namespace npusim::arch {

class LinkTimeline {
 public:
  struct Window {
    Tick start = 0;
    Tick end = 0;
  };
  static constexpr std::size_t kMaxWindows = 32;

  // Books the earliest free window of `length` that starts no earlier than
  // `earliest_start` and ends no earlier than `earliest_end`.
  Window book(Tick now, Tick earliest_start, Tick earliest_end, Tick length);

  // The end of the last booking, or 0 when nothing is booked.
  Tick last_end() const { return windows_.size() == first_ ? 0 : windows_.back().end; }
  std::size_t windows() const { return windows_.size() - first_; }

 private:
  void forget_before(Tick now);

  // Sorted, disjoint, never touching. The live windows start at first_:
  // forgetting only advances it, and the dead prefix is erased in one go once
  // it is as long as the live part, so a booking moves no memory as a rule.
  std::vector<Window> windows_;
  std::size_t first_ = 0;
};

}  // namespace npusim::arch
