// "event-table": dynamic energy is event count x per-event energy from the
// technology table; static energy is block count x leakage power x run time.
#include <fmt/format.h>

#include "common/error.h"
#include "stats/energy/energy_model.h"

namespace npusim::stats {
namespace {

class EventTableEnergy : public EnergyModel {
 public:
  explicit EventTableEnergy(const TechTable& table) : t_(table) {}

  std::map<std::string, double> breakdown(const ActivityCounts& a, double seconds,
                                          const MachineEnergyInputs& m) const override {
    std::map<std::string, double> e;
    for (const auto& name : energy_components()) e[name] = 0;

    for (const auto& kv : a.macs_by_dtype) e["cube"] += kv.second * per_event(t_.mac_j, kv.first, "mac_energy");
    for (const auto& kv : a.vector_ops_by_dtype) {
      e["vector"] += kv.second * per_event(t_.vector_op_j, vector_class(kv.first), "vector_op_energy");
    }
    for (const auto& kv : a.buffer_bytes) e["buffers"] += kv.second * sram_energy(m, kv.first, kv.second);
    e["l2"] = a.l2_bytes * sram_energy(m, "l2", a.l2_bytes);
    e["noc"] = a.noc_bytes * t_.noc_j_per_byte;
    // The pJ/bit figures are averages over a stream that include row
    // activations [E4], so activates are not priced a second time.
    for (const auto& kv : a.dram_bytes) {
      if (kv.first == "sram") {
        e["sram"] += kv.second * sram_energy(m, "sram", kv.second);
      } else {
        e[kv.first] += kv.second * dram_energy(kv.first);
      }
    }
    const auto& p = t_.static_power;
    const double watts = m.cube_cores * p.cube_core_w + m.vector_cores * p.vector_core_w +
                         static_cast<double>(m.onchip_sram_bytes) / static_cast<double>(MiB) * p.sram_per_mib_w +
                         m.hbm_stacks * p.hbm_stack_w + m.ddr_channels * p.ddr_channel_w +
                         m.noc_routers * p.noc_router_w;
    e["static"] = watts * seconds;
    return e;
  }

 private:
  // The vector unit computes fp8 and 4-bit data after widening to fp16, and
  // block-scaled int8 as int8 [E].
  static std::string vector_class(const std::string& dtype) {
    const std::string c = precision_class(dtype);
    if (c == "fp8") return "fp16";
    if (c == "int4") return "int8";
    return c;
  }

  double per_event(const std::map<std::string, double>& table, const std::string& dtype,
                   const char* section) const {
    auto it = table.find(precision_class(dtype));
    if (it == table.end()) {
      std::string known;
      for (const auto& kv : table) known += (known.empty() ? "" : ", ") + kv.first;
      throw InputError(fmt::format("{}: {} has no entry for precision '{}' (it prices: {})", t_.source, section,
                                   dtype, known));
    }
    return it->second;
  }

  double sram_energy(const MachineEnergyInputs& m, const std::string& array, double bytes) const {
    auto it = m.sram_capacity.find(array);
    if (it == m.sram_capacity.end()) {
      if (bytes == 0) return 0;
      throw std::invalid_argument(
          fmt::format("energy model: traffic on SRAM array '{}' but no capacity given in MachineEnergyInputs", array));
    }
    return t_.sram_j_per_byte(it->second);
  }

  double dram_energy(const std::string& tier) const {
    auto it = t_.dram_j_per_byte.find(tier);
    if (it == t_.dram_j_per_byte.end()) {
      throw std::invalid_argument(fmt::format("energy model: unknown memory tier '{}' (hbm, ddr, sram)", tier));
    }
    return it->second;
  }

  const TechTable t_;  // a copy: the model may outlive the caller's table
};

const Registration<EnergyModel, const TechTable&> kRegistration(
    "energy_model", "event-table",
    "event counts x per-event energies from the technology table, plus static power x run time",
    [](const TechTable& t) { return std::make_unique<EventTableEnergy>(t); });

}  // namespace
}  // namespace npusim::stats
