#pragma once
// What the run driver hands the mapper: the machine view (with the L2 size
// the mapper may carve stream queues from) and the mapper options, read from
// the file given with `npusim run --mapper` (configs/mapper/*.yaml; schema in
// mapper/mapper_config.cpp).
#include <string>

#include "mapper/machine_view.h"
#include "mapper/mapper_options.h"
#include "sim/config/hw_config.h"

namespace npusim {

mapper::MachineView run_machine_view(const HwConfig& hw);
// Defaults when `path` is empty (no --mapper flag).
mapper::MapperOptions run_mapper_options(const std::string& path);

}  // namespace npusim
