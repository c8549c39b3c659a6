#pragma once
// Turns the machine's counters into the plain RunResult that stats/ writes.
// Reads counters only; decides nothing.
#include "arch/machine.h"
#include "mapper/machine_view.h"
#include "stats/energy/energy_model.h"
#include "stats/run_result.h"

namespace npusim {

// Fills counters, bytes per tier, utilization and activity counts from the
// machine's stat groups; result.seconds and result.cycles must be set.
void collect_machine_counters(const arch::Machine& machine, const mapper::MachineView& view, DType vector_dtype,
                              stats::RunResult& result);

// What the energy model needs to know about the machine's arrays and blocks.
stats::MachineEnergyInputs energy_inputs(const arch::MachineConfig& config);

}  // namespace npusim
