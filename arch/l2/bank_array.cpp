#include "arch/l2/bank_array.h"

#include <algorithm>
#include <cmath>

namespace npusim::arch {

BankArray::BankArray(int banks, Bytes granule, double bytes_per_cycle_per_bank, const Clock& clock)
    : granule_(granule),
      ps_per_granule_(static_cast<double>(granule) * clock.period_ps() / bytes_per_cycle_per_bank),
      banks_(static_cast<std::size_t>(banks)) {}

Tick BankArray::occupancy(std::uint64_t granules) const {
  return static_cast<Tick>(std::ceil(static_cast<double>(granules) * ps_per_granule_ - 1e-6));
}

Tick BankArray::book(Tick now, Tick arrival, std::uint64_t address, Bytes bytes, Counter& conflict_stall) {
  if (bytes == 0) return arrival;
  const std::uint64_t n = banks_.size();
  const std::uint64_t first = address / granule_;
  const std::uint64_t count = (address + bytes - 1) / granule_ - first + 1;
  // Banks first, first+1, ... (mod n) hold one more granule than the rest.
  const std::uint64_t each = count / n, extra = count % n;
  const std::uint64_t touched = each ? n : extra;
  Tick done = arrival, idle_done = arrival;
  for (std::uint64_t j = 0; j < touched; ++j) {
    const Tick length = occupancy(each + (j < extra ? 1 : 0));
    LinkTimeline& bank = banks_[(first + j) % n];
    done = std::max(done, bank.book(now, arrival, arrival, length).end);
    idle_done = std::max(idle_done, arrival + length);
  }
  conflict_stall += done - idle_done;
  return done;
}

}  // namespace npusim::arch
