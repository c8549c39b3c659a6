#pragma once
// Extension point: how activity counts and run time become joules. An
// implementation registers itself by name in its own .cpp under impl/; the
// technology table's `model:` key picks it.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/registry.h"
#include "common/units.h"
#include "stats/energy/tech_table.h"
#include "stats/run_result.h"

namespace npusim::stats {

// What the energy model needs to know about the machine, from the resolved
// hardware config: array sizes (access energy depends on them) and how many
// of each leaking block exist.
struct MachineEnergyInputs {
  // Capacity of the array that serves one access, by the names used in
  // ActivityCounts: "l0a", "l0b", "l0c", "l1", "ub" (one core's buffer),
  // "l2" (one L2 bank) and "sram" (one bank of the on-chip SRAM tier).
  // Every buffer or tier with traffic must have an entry.
  std::map<std::string, Bytes> sram_capacity;

  // Static power inputs.
  double cube_cores = 0;
  double vector_cores = 0;
  Bytes onchip_sram_bytes = 0;  // all on-chip SRAM: per-core buffers x cores + L2 + SRAM tier
  double hbm_stacks = 0;
  double ddr_channels = 0;
  double noc_routers = 0;
};

// Components of the breakdown, always all present (zero when idle) so that
// plots and reports see the same keys for every run.
const std::vector<std::string>& energy_components();

class EnergyModel {
 public:
  virtual ~EnergyModel() = default;
  // Joules per component (keys: energy_components()). `seconds` is the run's
  // simulated time, over which static power is integrated.
  virtual std::map<std::string, double> breakdown(const ActivityCounts& activity, double seconds,
                                                  const MachineEnergyInputs& machine) const = 0;
};

using EnergyModelRegistry = Registry<EnergyModel, const TechTable&>;

}  // namespace npusim::stats
