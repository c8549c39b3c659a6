#pragma once
// Busy intervals of one shared resource of a pseudo-channel (its data bus,
// the column path of one bank group), kept so that a request placed later
// may use a gap left before requests placed earlier.
//
// Why: every transaction is placed when it arrives and its completion is
// returned to the initiator at once, so nothing already placed may move.
// A real FR-FCFS controller, though, lets a younger request whose bank is
// ready go while an older one waits for tRP/tRCD of its own bank. Placing the
// younger request in the gap the older one left is that same decision taken
// in closed form: the older request keeps its slots, the younger one uses
// slots that would otherwise idle.
//
// Intervals are disjoint, sorted and merged when they touch. To keep one
// scheduling step cheap the list is bounded: the oldest intervals are
// dropped, and everything before the end of the last one dropped counts as
// busy (a request may not go back further than the controller's queue would
// let it).
#include <cstddef>
#include <vector>

#include "common/units.h"

namespace npusim::arch::dram {

class BusyTimeline {
 public:
  struct Interval {
    Cycles begin;
    Cycles end;
  };

  BusyTimeline() { busy_.reserve(kMaxIntervals + 2); }

  // Earliest t >= from that is not inside a busy interval.
  Cycles first_free(Cycles from) const {
    Cycles t = from > floor_ ? from : floor_;
    const std::size_t i = after(t);
    if (i < busy_.size() && busy_[i].begin <= t) t = busy_[i].end;  // merged, so the next one starts later
    return t;
  }
  // Whether [begin, end) overlaps no busy interval.
  bool is_free(Cycles begin, Cycles end) const {
    if (begin < floor_) return false;
    const std::size_t i = after(begin);
    return i == busy_.size() || busy_[i].begin >= end;
  }
  // End of the first busy interval that overlaps [begin, end) (`end` if none).
  Cycles blocker_end(Cycles begin, Cycles end) const;
  // Where `amount` free cycles at or after `from`, taken earliest first (over
  // several gaps if need be), would end.
  Cycles fill_end(Cycles from, Cycles amount) const;
  // Takes them; appends the pieces taken to `pieces` when it is not null.
  Cycles fill(Cycles from, Cycles amount, std::vector<Interval>* pieces = nullptr);
  // Marks [begin, end) busy; it must be free.
  void reserve(Cycles begin, Cycles end);

  Cycles end() const { return busy_.empty() ? floor_ : busy_.back().end; }
  std::size_t size() const { return busy_.size(); }

 private:
  // Enough history for a 64-entry queue's worth of gaps; pruning in halves
  // keeps the erase cost amortised.
  static constexpr std::size_t kMaxIntervals = 64;

  // First interval whose end is after t. Queries are almost always about the
  // last interval or two, so those are checked inline before the search.
  std::size_t after(Cycles t) const {
    const std::size_t n = busy_.size();
    if (n == 0 || busy_[n - 1].end <= t) return n;
    if (n == 1 || busy_[n - 2].end <= t) return n - 1;
    return search_after(t, n - 2);
  }
  std::size_t search_after(Cycles t, std::size_t below) const;
  void insert(Cycles begin, Cycles end);  // no pruning: indices stay valid
  void prune();

  std::vector<Interval> busy_;
  Cycles floor_ = 0;  // all of [0, floor_) counts as busy
};

}  // namespace npusim::arch::dram
