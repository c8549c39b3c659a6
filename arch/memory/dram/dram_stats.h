#pragma once
// Counters of one DRAM tier, shared by all of its pseudo-channel calculators.
// The calculators bump plain integers; the StatGroup carries names and units.
#include <cstdint>
#include <string>

#include "common/stat_group.h"

namespace npusim::arch::dram {

class DramStats {
  // First member: every Counter reference below points into it.
  StatGroup group_;

 public:
  explicit DramStats(const std::string& name);

  StatGroup& group() { return group_; }
  const StatGroup& group() const { return group_; }

  // Data-bus busy cycles over (elapsed cycles x pseudo-channels).
  double bus_utilization() const;

  Counter& transactions;
  Counter& row_accesses;
  Counter& reads;
  Counter& writes;
  Counter& bytes_read;
  Counter& bytes_written;
  Counter& activates;
  Counter& precharges;
  Counter& row_hits;
  Counter& row_misses;
  Counter& row_conflicts;
  Counter& refreshes;
  Counter& refresh_cycles;
  Counter& data_bus_busy_cycles;
  Counter& elapsed_cycles;
  Counter& pseudo_channels;
};

}  // namespace npusim::arch::dram
