#pragma once
// The one call the driver makes for energy: after the run's activity counts,
// seconds and tokens are filled, price them with a technology table.
#include "stats/energy/energy_model.h"
#include "stats/energy/tech_table.h"
#include "stats/run_result.h"

namespace npusim::stats {

// Fills result.energy_breakdown_j (every component of energy_components()),
// result.energy_j (the sum of exactly those doubles, in key order) and
// result.energy_per_token_j (when result.tokens > 0). Uses the energy model
// named by table.model. Throws InputError when the table cannot price some
// activity (a precision it has no entry for) and std::invalid_argument when
// the machine inputs lack an array capacity that has traffic.
void apply_energy(RunResult& result, const TechTable& table, const MachineEnergyInputs& machine);

}  // namespace npusim::stats
