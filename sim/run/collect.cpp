#include "sim/run/collect.h"

#include <cmath>
#include <functional>

namespace npusim {
namespace {

// A counter's value as the result reports it: simulated plus extrapolated.
class CounterReader {
 public:
  explicit CounterReader(const CounterExtrapolation* extra) : extra_(extra) {}
  double operator()(const Counter& c) const {
    double v = static_cast<double>(c.value);
    if (extra_) {
      const auto it = extra_->find(&c);
      if (it != extra_->end()) v += it->second;
    }
    return v;
  }
  double operator()(const StatGroup& group, const std::string& name) const {
    const Counter* c = group.find(name);
    return c ? (*this)(*c) : 0.0;
  }

 private:
  const CounterExtrapolation* extra_;
};

void walk(const StatGroup& group, const std::string& prefix, const CounterReader& read, stats::RunResult& result) {
  const std::string base = prefix.empty() ? group.name() : prefix + "." + group.name();
  for (const auto& c : group.counters()) {
    result.counters[base + "." + c.name] = {read(c), c.unit, c.description};
  }
  for (const auto* child : group.children()) walk(*child, base, read, result);
}

double sum_suffix(const StatGroup& group, const std::string& suffix, const CounterReader& read) {
  double total = 0;
  for (const auto& c : group.counters()) {
    if (c.name.size() >= suffix.size() && c.name.compare(c.name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      total += read(c);
    }
  }
  return total;
}

}  // namespace

std::vector<const StatGroup*> machine_stat_groups(const arch::Machine& machine) {
  std::vector<const StatGroup*> groups;
  for (const auto& core : machine.cores()) groups.push_back(&core->counters().group);
  groups.push_back(&machine.noc().stats());
  if (const auto* streams = machine.streams()) groups.push_back(&streams->stats());
  if (const auto* l2 = machine.l2()) groups.push_back(&l2->stats());
  if (const auto* hbm = machine.hbm()) groups.push_back(&hbm->stats());
  if (const auto* ddr = machine.ddr()) groups.push_back(&ddr->stats());
  return groups;
}

void collect_machine_counters(const arch::Machine& machine, const mapper::MachineView& view, DType vector_dtype,
                              stats::RunResult& r, const CounterExtrapolation* extra) {
  const CounterReader read(extra);
  using arch::Pipe;
  const double cycles = static_cast<double>(r.cycles);
  double cube_busy = 0, vector_busy = 0;
  int cube_units = 0, vector_units = 0;
  auto& act = r.activity;
  for (const auto& core : machine.cores()) {
    const auto& s = core->counters();
    walk(s.group, "", read, r);
    if (const Counter* busy = s.busy_cycles[static_cast<int>(Pipe::cube)]) {
      cube_busy += read(*busy);
      ++cube_units;
    }
    if (const Counter* busy = s.busy_cycles[static_cast<int>(Pipe::vector)]) {
      vector_busy += read(*busy);
      ++vector_units;
    }
    for (const auto& [dtype, counter] : s.macs) act.macs_by_dtype[dtype_name(dtype)] += read(*counter);
    // The vector counter carries no precision; element work runs at the
    // workload's activation precision.
    if (s.vector_element_ops) act.vector_ops_by_dtype[dtype_name(vector_dtype)] += read(*s.vector_element_ops);
    auto add = [&](const char* key, const Counter* c) {
      if (c) act.buffer_bytes[key] += read(*c);
    };
    add("l1", s.l1_bytes_in);
    add("l1", s.l1_to_l0_bytes);  // read back out of L1
    // L0A and L0B have one capacity, so one key prices both writes.
    add("l0a", s.l1_to_l0_bytes);
    add("l0c", s.l0c_bytes_out);
    add("ub", s.ub_bytes_in);
  }
  r.utilization["cube"] = cube_units && cycles > 0 ? cube_busy / (cube_units * cycles) : 0;
  r.utilization["vector"] = vector_units && cycles > 0 ? vector_busy / (vector_units * cycles) : 0;

  walk(machine.noc().stats(), "", read, r);
  if (const auto* streams = machine.streams()) walk(streams->stats(), "", read, r);
  act.noc_bytes = sum_suffix(machine.noc().stats(), ".bytes", read);

  if (const auto* l2 = machine.l2()) {
    walk(l2->stats(), "", read, r);
    const double bytes_read = read(l2->stats(), "bytes_read");
    const double written = read(l2->stats(), "bytes_written");
    const bool scratchpad = machine.config().l2->impl == "scratchpad";
    auto& tier = r.bytes[scratchpad ? "sram" : "l2"];
    tier.read += static_cast<std::uint64_t>(bytes_read);
    tier.written += static_cast<std::uint64_t>(written);
    if (scratchpad) {
      act.dram_bytes["sram"] += bytes_read + written;
    } else {
      act.l2_bytes += bytes_read + written;
    }
    if (scratchpad && view.sram_Bps > 0 && r.seconds > 0) {
      r.utilization["sram_bandwidth"] = (bytes_read + written) / r.seconds / view.sram_Bps;
    }
  }
  auto dram = [&](const arch::dram::DramModule* module, const char* name, double peak) {
    if (!module) return;
    walk(module->stats(), "", read, r);
    const auto& g = module->stats();
    auto& tier = r.bytes[name];
    tier.read += static_cast<std::uint64_t>(std::llround(read(g, "bytes_read")));
    tier.written += static_cast<std::uint64_t>(std::llround(read(g, "bytes_written")));
    act.dram_bytes[name] += static_cast<double>(tier.read + tier.written);
    act.dram_activates[name] += read(g, "activates");
    if (peak > 0 && r.seconds > 0) {
      r.utilization[std::string(name) + "_bandwidth"] = static_cast<double>(tier.read + tier.written) / r.seconds / peak;
    }
  };
  dram(machine.hbm(), "hbm", view.hbm_Bps);
  dram(machine.ddr(), "ddr", view.ddr_Bps);
}

stats::MachineEnergyInputs energy_inputs(const arch::MachineConfig& config) {
  using arch::Buffer;
  stats::MachineEnergyInputs in;
  const auto& core = config.core;
  in.sram_capacity["l1"] = core.capacity(Buffer::l1);
  in.sram_capacity["l0a"] = core.capacity(Buffer::l0a);
  in.sram_capacity["l0b"] = core.capacity(Buffer::l0b);
  in.sram_capacity["l0c"] = core.capacity(Buffer::l0c);
  in.sram_capacity["ub"] = core.capacity(Buffer::ub);
  in.cube_cores = core.cube_cores;
  const bool split = core.style == arch::CoreStyle::split;
  in.vector_cores = split ? static_cast<double>(core.cube_cores * core.vector_cores_per_cube) : core.cube_cores;
  Bytes per_core = 0;
  for (Bytes b : core.buffer_bytes) per_core += b;
  in.onchip_sram_bytes = per_core * core.cube_cores;
  if (config.l2) {
    const Bytes bank = config.l2->capacity / static_cast<Bytes>(std::max(1, config.l2->banks));
    in.sram_capacity[config.l2->impl == "scratchpad" ? "sram" : "l2"] = bank;
    in.onchip_sram_bytes += config.l2->capacity;
  }
  if (config.hbm) {
    // A stack has 8 channels in HBM2/HBM2E and 16 in HBM3 (JEDEC JESD235, JESD238).
    const bool hbm3 = config.hbm->preset.find("HBM3") != std::string::npos ||
                      config.hbm->preset.find("hbm3") != std::string::npos;
    in.hbm_stacks = static_cast<double>(config.hbm->channels) / (hbm3 ? 16.0 : 8.0);
  }
  if (config.ddr) in.ddr_channels = config.ddr->channels;
  in.noc_routers = config.noc.nodes();
  return in;
}

}  // namespace npusim
