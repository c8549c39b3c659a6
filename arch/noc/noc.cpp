#include "arch/noc/noc.h"

#include <algorithm>

#include <fmt/format.h>

#include "arch/noc/scoped_extension.h"
#include "arch/noc/sim_time.h"
#include "common/error.h"

namespace npusim::arch {

Noc::Noc(sc_core::sc_module_name name, const NocConfig& config)
    : sc_core::sc_module(name), network_(config, basename()) {
  for (int i = 0; i < config.cores; ++i) {
    cores_.push_back(std::make_unique<CoreSocket>(fmt::format("core_{}", i).c_str()));
    cores_.back()->register_b_transport(this, &Noc::b_transport, i);
  }
  for (const auto& port : config.targets) {
    ports_.push_back(std::make_unique<PortSocket>(fmt::format("to_{}", port.name).c_str()));
    port_requests_.push_back(
        &network_.stats().add_counter(port.name + ".requests", "transactions routed to this port", "1"));
  }
  route_.reserve(64);
}

Noc::CoreSocket& Noc::core_socket(int core) {
  if (core < 0 || core >= static_cast<int>(cores_.size())) {
    throw SimulationError(fmt::format("{}: no core socket {} (the network has {} cores)", name(), core, cores_.size()));
  }
  return *cores_[static_cast<std::size_t>(core)];
}

Noc::PortSocket& Noc::target_socket(const std::string& port) {
  const auto& targets = network_.config().targets;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (targets[i].name == port) return *ports_[i];
  }
  throw SimulationError(fmt::format("{}: no target port '{}' is configured", name(), port));
}

void Noc::b_transport(int core, tlm::tlm_generic_payload& payload, sc_core::sc_time& delay) {
  const std::uint64_t address = payload.get_address();
  const Tier tier = tier_of(address);
  const int port = network_.config().port_for(tier);
  if (port < 0) {
    throw SimulationError(fmt::format("{}: core {} accessed address {:#x} in tier {}, which no port of the network "
                                      "routes (noc.targets.*.tiers)",
                                      name(), core, address, tier_name(tier)));
  }
  *port_requests_[static_cast<std::size_t>(port)] += 1;

  // Honour an annotated start time, though transport.h has initiators send 0.
  const Tick stamp = now_tick();
  const Tick now = stamp + to_tick(delay);
  const Bytes bytes = payload.get_data_length();
  const bool write = payload.get_command() == tlm::TLM_WRITE_COMMAND;

  source_.core = core;
  const ScopedExtension<RequestSource> tag(payload, source_);

  route_.clear();
  Tick done = 0;
  // A stream queue or barrier may block in its b_transport until its data
  // or arrivals come: time then moves on during the call, and the answer
  // leaves the target `below` after the call returned, not after it was
  // made. Booking it at the call's time would put it in the links'
  // calendars in the past, where it fills the gap up to the present and
  // stalls every later transfer. (Memory never blocks: returned == stamp.)
  Tick returned = stamp;
  if (write) {
    network_.topology().route_to_target(core, port, route_);
    const Tick header = network_.header_latency(route_);
    const Tick delivered = network_.transfer(route_, bytes, now, now, now);
    sc_core::sc_time below = delay;
    (*ports_[static_cast<std::size_t>(port)])->b_transport(payload, below);
    returned = now_tick();
    done = std::max(delivered, returned + to_tick(below) + header);
  } else {
    network_.topology().route_to_target(core, port, route_);
    const Tick header = network_.header_latency(route_);
    sc_core::sc_time below = delay;
    (*ports_[static_cast<std::size_t>(port)])->b_transport(payload, below);
    returned = now_tick();
    const Tick issued = std::max(now, returned);
    route_.clear();
    network_.topology().route_to_core(port, core, route_);
    done = network_.transfer(route_, bytes, issued, issued + header, returned + to_tick(below) + header);
  }

  delay = to_sc_time(done - returned);
}

}  // namespace npusim::arch
