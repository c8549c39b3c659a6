#pragma once
// The `l2` section, resolved: built by resolve_l2_config (sim/config/l2_resolver.cpp);
// nothing in arch/ sees YAML.
#include <string>

#include "arch/address_map.h"
#include "common/units.h"

namespace npusim::arch {

struct L2Config {
  std::string impl;
  Clock clock;
  Bytes capacity = 0;
  Bytes line_bytes = 0;   // fill/write-back unit of the cache; bank interleave of both
  Bytes block_bytes = 0;  // bytes tracked by one cache tag (see impl/sector_tags.h)
  int ways = 0;
  int banks = 0;
  double bank_bytes_per_cycle = 0;
  Cycles latency_cycles = 0;
  // Dirty evictions gathered before they go below as one batch, as a memory
  // controller's write queue drains; 0 sends each eviction at once.
  Bytes writeback_buffer = 0;
  Tier tier = Tier::sram;  // the address tier a scratchpad holds, from its base
  // "<file>:<line>: l2.capacity", so an implementation that needs more of the
  // capacity (a whole number of sets) can say where it came from.
  std::string capacity_where;
};



}  // namespace npusim::arch
