#include "stats/energy/apply_energy.h"

namespace npusim::stats {

const std::vector<std::string>& energy_components() {
  static const std::vector<std::string> v = {"cube", "vector", "buffers", "l2", "noc",
                                             "hbm",  "ddr",    "sram",    "static"};
  return v;
}

void apply_energy(RunResult& result, const TechTable& table, const MachineEnergyInputs& machine) {
  const auto model = EnergyModelRegistry::instance().create(table.model, table);
  std::map<std::string, double> parts = model->breakdown(result.activity, result.seconds, machine);
  // The total is the sum of the stored parts in map order, so summing the
  // published breakdown the same way reproduces it bit for bit.
  double total = 0;
  for (const auto& kv : parts) total += kv.second;
  result.energy_breakdown_j = std::move(parts);
  result.energy_j = total;
  if (result.tokens && *result.tokens > 0) {
    result.energy_per_token_j = total / *result.tokens;
  } else {
    result.energy_per_token_j.reset();
  }
}

}  // namespace npusim::stats
