#pragma once
// The ACT commands of one pseudo-channel, for the inter-bank activation
// limits: tRRD_S between any two ACTs, tRRD_L between two in one bank group,
// and at most four in any tFAW window.
//
// ACTs are kept as a sorted log rather than as "the latest four", so that an
// ACT may be placed before ACTs already placed for other banks when it
// respects those limits on both sides: a controller issues the ACT of a ready
// bank while an older request still waits for tRP of its own bank, instead of
// activating strictly in arrival order. The log is bounded; the oldest
// entries are dropped, and no ACT may then be placed within tFAW after the
// last one dropped, which keeps every limit checked against all ACTs that
// could matter.
#include <cstdint>
#include <vector>

#include "arch/memory/dram/dram_device.h"
#include "common/units.h"

namespace npusim::arch::dram {

class ActivateWindow {
 public:
  explicit ActivateWindow(const DramTimings& timings);

  // Earliest cycle >= from at which an ACT to `group` meets every limit.
  Cycles earliest(Cycles from, std::uint32_t group) const {
    const Cycles t = from > floor_ ? from : floor_;
    if (acts_.empty() || acts_.back().at + reach_ <= t) return t;  // the usual case: t is past them all
    return earliest_among_logged(t, group);
  }
  bool is_legal(Cycles at, std::uint32_t group) const { return earliest(at, group) == at; }
  void add(Cycles at, std::uint32_t group);

 private:
  struct Act {
    Cycles at;
    std::uint32_t group;
  };
  // Looks only at ACTs within tFAW of t, the only ones that can constrain it;
  // `lo` is at or before the first of them and is moved onto it. Returns t
  // when an ACT there is legal, else a later cycle to try.
  Cycles check(Cycles t, std::uint32_t group, std::size_t& lo) const;
  Cycles earliest_among_logged(Cycles t, std::uint32_t group) const;

  std::uint32_t rrd_s_;
  std::uint32_t rrd_l_;
  std::uint32_t faw_;
  std::uint32_t reach_;  // the widest of the three limits
  std::vector<Act> acts_;  // sorted by time
  Cycles floor_ = 0;
};

}  // namespace npusim::arch::dram
