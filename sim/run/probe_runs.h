#pragma once
// Runs that confirm the mapper's cost model in simulation (mapper option
// search.confirm_top), on a probe machine apart from the workload's, so the
// run's own counters and time stay the workload's.
#include "arch/machine.h"
#include "mapper/dataflow/dataflow_mapper.h"
#include "mapper/machine_view.h"

namespace npusim {

// Fills the probe's L2 with clean lines of a region at the top of main
// memory, so the next candidate starts from a cold L2 with nothing dirty
// to write back, as the workload's first job would, and does not inherit
// the weights the previous candidate read.
void evict_probe_l2(arch::Machine& probe, const mapper::MachineView& view);

// Appends to `program`'s cube cores, dealt round-robin, MTE2 loads of
// `chunk` bytes covering [region, region + bytes): clean lines that push
// whatever the L2 held out of it.
void append_l2_fill(arch::Program& program, std::uint64_t region, Bytes bytes, Bytes chunk);

// Simulated seconds of one dataflow candidate from a cold L2.
double simulate_dataflow_candidate(arch::Machine& probe, const mapper::MachineView& view,
                                   const mapper::DataflowMapping& candidate);

}  // namespace npusim
