#pragma once
// Turns the machine's counters into the plain RunResult that stats/ writes.
// Reads counters only; decides nothing.
#include <unordered_map>
#include <vector>

#include "arch/machine.h"
#include "mapper/machine_view.h"
#include "stats/energy/energy_model.h"
#include "stats/run_result.h"

namespace npusim {

// Every stat group of the machine whose counters reach the result.
std::vector<const StatGroup*> machine_stat_groups(const arch::Machine& machine);

// Amounts to add to counters for work that was not simulated (sampled
// fidelity's estimate of the skipped layers and steps), by counter.
using CounterExtrapolation = std::unordered_map<const Counter*, double>;

// Fills counters, bytes per tier, utilization and activity counts from the
// machine's stat groups, each counter plus its entry in `extra` if given;
// result.seconds and result.cycles must be set.
void collect_machine_counters(const arch::Machine& machine, const mapper::MachineView& view, DType vector_dtype,
                              stats::RunResult& result, const CounterExtrapolation* extra = nullptr);

// What the energy model needs to know about the machine's arrays and blocks.
stats::MachineEnergyInputs energy_inputs(const arch::MachineConfig& config);

}  // namespace npusim
