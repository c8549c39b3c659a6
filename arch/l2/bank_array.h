#pragma once
// The banks of an on-chip SRAM, interleaved by `granule` bytes: a request
// occupies each bank it touches for (granules in that bank) x granule /
// bank bandwidth, all banks in parallel. A long sequential request therefore
// runs at the total bandwidth, while requests that land on the same banks
// queue behind each other (bank conflicts). Per-bank work is counted
// arithmetically, never per granule, so a request costs O(banks touched).
#include <cstdint>
#include <vector>

#include "arch/noc/link_timeline.h"
#include "common/stat_group.h"
#include "common/units.h"

namespace npusim::arch {

class BankArray {
 public:
  BankArray(int banks, Bytes granule, double bytes_per_cycle_per_bank, const Clock& clock);

  // Books the banks holding [address, address + bytes) for a request arriving
  // at `arrival`; returns when the last bank finishes. Adds to `conflict_stall`
  // how much later that is than on idle banks.
  Tick book(Tick now, Tick arrival, std::uint64_t address, Bytes bytes, Counter& conflict_stall);

 private:
  Tick occupancy(std::uint64_t granules) const;

  Bytes granule_;
  double ps_per_granule_;
  std::vector<LinkTimeline> banks_;
};

}  // namespace npusim::arch
