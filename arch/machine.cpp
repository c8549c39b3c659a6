#include "arch/machine.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"

namespace npusim::arch {

Machine::Machine(const sc_core::sc_module_name& name, const MachineConfig& config)
    : sc_module(name), config_(config) {
  const auto& core = config_.core;
  const int per_group = static_cast<int>(core.cores_per_group());
  for (std::uint32_t g = 0; g < core.cube_cores; ++g) {
    groups_.push_back(std::make_unique<CrossCoreFlags>(per_group, core.event_ids));
    for (int j = 0; j < per_group; ++j) {
      const int global = static_cast<int>(g) * per_group + j;
      const bool split = core.style == CoreStyle::split;
      const CoreRole role = !split ? CoreRole::coupled : (j == 0 ? CoreRole::cube : CoreRole::vector);
      const std::string core_name =
          !split ? fmt::format("core{}", g) : (j == 0 ? fmt::format("aic{}", g) : fmt::format("aiv{}", g * (per_group - 1) + (j - 1)));
      cores_.push_back(std::make_unique<AiCore>(core_name.c_str(), core, role, global, j, *groups_.back()));
    }
  }

  noc_ = std::make_unique<Noc>("noc", config_.noc);
  for (std::size_t i = 0; i < cores_.size(); ++i) cores_[i]->gm_socket.bind(noc_->core_socket(static_cast<int>(i)));

  if (config_.hbm) hbm_ = std::make_unique<dram::DramModule>("hbm", *config_.hbm, Tier::hbm);
  if (config_.ddr) ddr_ = std::make_unique<dram::DramModule>("ddr", *config_.ddr, Tier::ddr);
  if (config_.l2) {
    l2_ = std::make_unique<L2>("l2", *config_.l2);
    if (config_.l2->impl == "cache") {
      // A cache fills from main memory: HBM where the chip has it, else DDR.
      auto* backing = hbm_ ? hbm_.get() : ddr_.get();
      if (!backing) throw InputError("an L2 cache needs an HBM or DDR tier behind it");
      l2_->to_memory.bind(backing->socket);
    }
  }
  // Stream queues share the on-chip SRAM's timing (they are carved out of it);
  // without an L2/SRAM the defaults of StreamTiming stand.
  StreamTiming stream_timing;
  if (config_.l2) {
    stream_timing.clock = config_.l2->clock;
    stream_timing.bytes_per_cycle = config_.l2->bank_bytes_per_cycle * std::max(1, config_.l2->banks);
    stream_timing.latency_cycles = config_.l2->latency_cycles;
  }
  const int stream_port = config_.noc.port_for(tier_of(kStreamBase));
  for (std::size_t i = 0; i < config_.noc.targets.size(); ++i) {
    const auto& port = config_.noc.targets[i];
    auto& noc_side = noc_->target_socket(port.name);
    if (static_cast<int>(i) == stream_port) {
      stream_router_ = std::make_unique<StreamRouter>("stream_router");
      streams_ = std::make_unique<StreamQueues>("streams", stream_timing);
      noc_side.bind(stream_router_->in);
      stream_router_->to_streams.bind(streams_->socket);
    }
    auto bind = [&](auto& target) {
      if (stream_router_ && static_cast<int>(i) == stream_port) {
        stream_router_->to_memory.bind(target);
      } else {
        noc_side.bind(target);
      }
    };
    if ((port.name == "l2" || port.name == "sram") && l2_) {
      bind(l2_->in);
    } else if (port.name == "hbm" && hbm_) {
      bind(hbm_->socket);
    } else if (port.name == "ddr" && ddr_) {
      bind(ddr_->socket);
    } else {
      throw InputError(fmt::format("noc target port '{}' has no block to connect to", port.name));
    }
  }
}

void Machine::set_trace(TraceSink* sink) {
  for (auto& core : cores_) core->set_trace(sink);
  if (hbm_) hbm_->set_trace(sink);
  if (ddr_) ddr_->set_trace(sink);
}

Tick Machine::now() const { return static_cast<Tick>(sc_core::sc_time_stamp().value()); }

JobTiming Machine::run(const Program& program) {
  const auto& core = config_.core;
  const std::size_t per_group = core.cores_per_group();
  const std::size_t vector_per_group = per_group - 1;
  if (program.cube_cores.size() > core.cube_cores) {
    throw SimulationError(fmt::format("program has {} cube-core streams but the machine has {} cube cores",
                                      program.cube_cores.size(), core.cube_cores));
  }
  if (program.vector_cores.size() > core.cube_cores * vector_per_group) {
    throw SimulationError(fmt::format("program has {} vector-core streams but the machine has {} vector cores",
                                      program.vector_cores.size(), core.cube_cores * vector_per_group));
  }
  JobTiming timing;
  timing.start = now();
  for (std::size_t g = 0; g < core.cube_cores; ++g) {
    cores_[g * per_group]->load(g < program.cube_cores.size() ? program.cube_cores[g] : empty_, &program.op_names);
    for (std::size_t j = 0; j < vector_per_group; ++j) {
      const std::size_t v = g * vector_per_group + j;
      cores_[g * per_group + 1 + j]->load(v < program.vector_cores.size() ? program.vector_cores[v] : empty_,
                                          &program.op_names);
    }
  }
  sc_core::sc_start();
  std::vector<const AiCore*> view;
  for (const auto& c : cores_) view.push_back(c.get());
  throw_if_unfinished(view);
  timing.end = timing.start;
  for (const auto& c : cores_) {
    if (c->program_size() > 0) timing.end = std::max(timing.end, c->job_finish_tick());
  }
  timing.cycles = core.clock.to_cycles_ceil(timing.end - timing.start);
  return timing;
}

}  // namespace npusim::arch
