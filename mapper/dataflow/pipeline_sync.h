#pragma once
// What the layer pipelines (layer_pipeline.h, chunked_prefill.h) share:
// which stage runs an op, a stage's share of the machine, and the flag
// transfers that order ops across cores through barrier counters
// (arch/address_map.h).
#include <cstdint>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "mapper/dataflow/dataflow_mapper.h"
#include "mapper/machine_view.h"
#include "workloads/graph.h"

namespace npusim::mapper::pipeline {

// The decoder layers of the graph (highest layer index + 1).
int layer_count(const workloads::Graph& g);

// The stage of each op: decoder layers in equal runs, ops outside any layer
// with the first stage before the layers and with the last after them.
std::vector<std::size_t> stage_of_ops(const workloads::Graph& g, int layers, std::size_t stages);

// The layer whose job an op goes with when a step is cut: its own, or for
// an op outside the layers the first (before them) or the last (after).
std::vector<int> layer_of_ops(const workloads::Graph& g, int layers);

// Consecutive layers in the fewest jobs of near-equal instructions, each at
// most `cap` (every layer alone is within it).
std::vector<LayerSegment> cut_into_segments(const std::vector<std::uint64_t>& layer_instructions, std::uint64_t cap);

// The machine one of `stages` equal stages sees.
MachineView stage_view(const MachineView& m, std::size_t stages);

// Arrivals one op's barrier counts: every AIC and AIV of a stage, two per
// coupled core.
std::uint32_t arrivals_per_op(const MachineView& m, std::size_t stages);

// Before an op: the core's first load waits for `barrier`'s arrivals.
void wait_at(std::vector<arch::Instruction>& code, bool cube_core, std::uint64_t barrier, std::uint32_t tag);

// After an op: the core arrives from each pipe that writes to GM. A pipe
// runs its queue in order, so the arrival lands after every store the op
// made on it (AIC: FixPipe, AIV: MTE3, a coupled core: both).
void arrive_at(std::vector<arch::Instruction>& code, bool split, bool cube_core, std::uint64_t barrier,
               std::uint32_t tag);

// The cost model's time for one op's barrier: an arrival and an answer.
double barrier_seconds(const MachineView& m);

// Empty when every op's activations fit the on-chip share dataflow may use
// (half the SRAM, or of the L2 without one); else why not, naming the op.
std::string activations_off_chip(const workloads::Graph& g, const MachineView& m);

}  // namespace npusim::mapper::pipeline
