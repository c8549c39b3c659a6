#pragma once
// The unit of DRAM scheduling: a run of column commands to one row of one
// bank in one pseudo-channel. A transaction becomes one RowRequest per row it
// touches, however many bursts that row receives.
#include <cstdint>

#include "common/units.h"

namespace npusim::arch::dram {

struct RowRequest {
  std::uint32_t bank = 0;    // bank_group * banks_per_group + bank within the group
  std::uint32_t row = 0;
  std::uint32_t bursts = 0;  // column commands, all to this row
  bool is_write = false;
  Cycles arrival = 0;        // when the controller received it
  std::uint64_t sequence = 0;  // arrival order, for oldest-first among equal arrivals
};

// What the bank needed before the first column command of the run.
enum class RowOutcome { hit, miss, conflict };  // open row / closed bank / other row open

struct RowResult {
  RowOutcome outcome = RowOutcome::hit;
  Cycles precharge = 0;       // PRE issue (conflict only)
  Cycles activate = 0;        // ACT issue (miss and conflict)
  Cycles first_column = 0;    // first RD/WR command
  Cycles last_column = 0;     // last RD/WR command
  Cycles data_done = 0;       // last data beat delivered (end of its bus slot)
};

}  // namespace npusim::arch::dram
