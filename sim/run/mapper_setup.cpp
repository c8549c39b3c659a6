#include "sim/run/mapper_setup.h"

#include <cstdlib>

namespace npusim {
namespace {

// Core cycles from a GM read's issue to its first byte when the L2 holds it:
// the L2 lookup and the NoC hops there and back.
double gm_hit_latency_cycles(const HwConfig& hw) {
  double cycles = 2.0 * static_cast<double>(hw.machine.noc.hop_latency_cycles);
  if (hw.machine.l2) cycles += static_cast<double>(hw.machine.l2->latency_cycles);
  return cycles;
}

// The same plus a DRAM row miss (precharge, activate, CAS) when the line is
// not cached. Weights and KV stream from HBM once, so the miss is the case
// that matters for the reads the mapper plans.
double gm_latency_cycles(const HwConfig& hw) {
  const auto& core_clock = hw.machine.core.clock;
  double cycles = gm_hit_latency_cycles(hw);
  const auto& dram = hw.machine.hbm ? hw.machine.hbm : hw.machine.ddr;
  if (dram) {
    const auto& t = dram->device.timings;
    const double dram_cycles = static_cast<double>(t.tRP + t.tRCD + t.CL);
    cycles += dram_cycles * core_clock.hz() / dram->device.clock_hz;
  }
  return cycles;
}

}  // namespace

mapper::MachineView run_machine_view(const HwConfig& hw) {
  mapper::MachineView view = machine_view(hw);
  if (hw.machine.l2 && hw.machine.l2->impl == "cache") view.l2_capacity = hw.machine.l2->capacity;
  view.gm_latency_cycles = gm_latency_cycles(hw);
  view.gm_hit_latency_cycles = gm_hit_latency_cycles(hw);
  view.gm_chunk = hw.machine.core.transfer_chunk;
  return view;
}

mapper::MapperOptions run_mapper_options(const std::string& path) {
  if (path.empty()) return mapper::MapperOptions{};
  return mapper::load_mapper_options(path);
}

}  // namespace npusim
