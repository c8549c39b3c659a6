#include "sim/run/probe_runs.h"

#include <fmt/format.h>

#include "arch/address_map.h"
#include "common/error.h"

namespace npusim {

void evict_probe_l2(arch::Machine& probe, const mapper::MachineView& view) {
  if (view.l2_capacity == 0) return;
  const Bytes chunk = std::max<Bytes>(1, view.gm_chunk);
  // A quarter past the capacity: an LRU-like cache keeps none of what came before.
  const Bytes bytes = view.l2_capacity + view.l2_capacity / 4;
  const bool hbm = view.hbm_capacity > 0;
  const Bytes capacity = hbm ? view.hbm_capacity : view.ddr_capacity;
  if (capacity < bytes) return;  // nothing to evict with: the main memory is no larger than the L2
  const std::uint64_t region = arch::tier_base(hbm ? arch::Tier::hbm : arch::Tier::ddr) + (capacity - bytes) / chunk * chunk;
  arch::Program program;
  program.cube_cores.resize(static_cast<std::size_t>(view.cube_cores));
  program.vector_cores.resize(static_cast<std::size_t>(view.vector_cores));
  append_l2_fill(program, region, bytes, chunk);
  probe.run(program);
}

void append_l2_fill(arch::Program& program, std::uint64_t region, Bytes bytes, Bytes chunk) {
  const auto cores = static_cast<std::uint64_t>(program.cube_cores.size());
  for (std::uint64_t i = 0; i * chunk < bytes; ++i) {
    arch::Instruction load;
    load.op = arch::Opcode::load;
    load.pipe = arch::Pipe::mte2;
    load.src = arch::Buffer::gm;
    load.dst = arch::Buffer::l1;
    load.bytes = chunk;
    load.gm_address = region + i * chunk;
    load.dtype = DType::fp16;
    program.cube_cores[i % cores].instructions.push_back(load);
  }
}

double simulate_dataflow_candidate(arch::Machine& probe, const mapper::MachineView& view,
                                   const mapper::DataflowMapping& candidate) {
  if (!probe.streams()) throw InputError("confirming dataflow candidates needs stream queues on the probe machine");
  evict_probe_l2(probe, view);
  probe.streams()->configure(candidate.queues);
  const arch::JobTiming timing = probe.run(candidate.program);
  if (probe.streams()->live_entries() != 0) {
    throw SimulationError(fmt::format("a dataflow candidate left {} stream entries unread", probe.streams()->live_entries()));
  }
  return ticks_to_seconds(timing.end - timing.start);
}

}  // namespace npusim
