#pragma once
// Everything the Machine elaborates, as resolved typed configs.
#include <optional>

#include "arch/core/core_config.h"
#include "arch/l2/l2_config.h"
#include "arch/memory/dram/dram_config.h"
#include "arch/noc/noc_config.h"

namespace npusim::arch {

struct MachineConfig {
  CoreConfig core;
  NocConfig noc;
  std::optional<L2Config> l2;  // a cache in front of HBM, or an SRAM scratchpad tier
  std::optional<dram::DramConfig> hbm;
  std::optional<dram::DramConfig> ddr;
};

}  // namespace npusim::arch
