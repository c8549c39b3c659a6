#pragma once
// Phase two of configuration for each block of the machine: a YAML section
// (ConfigNode) in, an immutable typed config out. These live with the driver
// because arch/ never reads YAML (ARCHITECTURE.md); each block's config struct
// stays in its arch/ header.
#include <string>
#include <vector>

#include "arch/core/core_config.h"
#include "arch/l2/l2_config.h"
#include "arch/memory/dram/dram_config.h"
#include "arch/noc/noc_config.h"
#include "common/config_node.h"
#include "common/params.h"

namespace npusim::arch {

extern const ParamTable kNocParams;
extern const ParamTable kNocTargetParams;
extern const ParamTable kL2Params;

// Unknown keys, bad units and impossible values are InputErrors naming
// file, line and YAML path.
CoreConfig resolve_core_config(const ConfigNode& core_section);

// `cores` comes from the core configuration: one initiator port per core.
NocConfig resolve_noc_config(const ConfigNode& section, int cores);
L2Config resolve_l2_config(const ConfigNode& section);

namespace dram {
DramConfig resolve_dram_config(const ConfigNode& node);
}  // namespace dram

}  // namespace npusim::arch
