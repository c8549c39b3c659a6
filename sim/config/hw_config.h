#pragma once
// A whole machine, resolved from one configs/hw/*.yaml file. The driver
// reads YAML here and hands typed configs to arch/, which never sees YAML.
#include <optional>
#include <string>

#include "arch/machine_config.h"
#include "common/config_node.h"
#include "mapper/machine_view.h"

namespace npusim {

struct HwConfig {
  std::string name;
  std::string description;
  std::string file;
  arch::MachineConfig machine;
  std::string tech_file;  // technology table for energy, resolved relative to `file`
};

HwConfig load_hw_config(const std::string& path);
HwConfig resolve_hw_config(const ConfigNode& root);

// The numbers the mapper plans with, derived from the resolved config.
mapper::MachineView machine_view(const HwConfig& hw);

// A human-readable dump of every resolved value with its unit, for
// `npusim validate`.
std::string describe_hw_config(const HwConfig& hw);

}  // namespace npusim
