#pragma once
// Counters of one core, owned by the core and incremented on the hot path as
// plain integers. They accumulate over jobs; the Machine reads or resets
// them between jobs.
#include <array>
#include <map>
#include <string>

#include "arch/core/core_config.h"
#include "arch/core/core_role.h"
#include "arch/isa.h"
#include "common/stat_group.h"

namespace npusim::arch {

struct CoreStats {
  CoreStats(const std::string& core_name, CoreRole role, const CoreConfig& config);

  StatGroup group;
  std::array<Counter*, kPipeCount> instructions{};  // null for pipes this core lacks
  std::array<Counter*, kPipeCount> busy_cycles{};
  std::map<DType, Counter*> macs;                   // one per configured cube precision
  Counter* vector_element_ops = nullptr;
  Counter* gm_bytes_read = nullptr;
  Counter* gm_bytes_written = nullptr;
  Counter* gm_atomic_bytes = nullptr;  // of those written, bytes added into GM (read first)
  Counter* l1_bytes_in = nullptr;
  Counter* l1_to_l0_bytes = nullptr;
  Counter* l0c_bytes_out = nullptr;
  Counter* ub_bytes_in = nullptr;
  Counter* flag_waits = nullptr;
  Counter* cross_flag_waits = nullptr;
  Counter* process_activations = nullptr;
};

}  // namespace npusim::arch
