#include "stats/energy/tech_table.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/error.h"
#include "common/params.h"
#include "common/registry.h"
#include "stats/energy/energy_model.h"

namespace npusim::stats {
namespace {

const ParamTable kTechParams(
    "tech", "Technology table: per-event energies and static power of one process node",
    {
        {"node_nm", "", "nm", "process node the values describe"},
        {"model", "event-table", "", "energy model implementation (npusim list shows the names)"},
        {"mac_energy", "", "", "energy of one multiply-accumulate per precision (fp32, fp16, bf16, fp8, int8, int4)"},
        {"vector_op_energy", "", "", "energy of one vector element operation per precision (fp32, fp16, bf16, int32, int8)"},
        {"sram", "", "", "SRAM access-energy anchors: list of {capacity, energy_per_64bit}"},
        {"noc_energy_per_byte", "", "J", "on-chip network energy per byte moved core <-> L2/memory"},
        {"dram_energy_per_bit", "", "", "off-chip memory energy per bit transferred: {hbm, ddr}"},
        {"static_power", "", "", "leakage and background power per block"},
    });
const ParamTableRegistration kTechReg(kTechParams);

const ParamTable kSramPointParams("tech.sram[]", "One SRAM access-energy anchor",
                                  {
                                      {"capacity", "", "B", "array capacity"},
                                      {"energy_per_64bit", "", "J", "energy of one 64-bit read or write"},
                                  });
const ParamTableRegistration kSramReg(kSramPointParams);

const ParamTable kDramParams("tech.dram_energy_per_bit", "Off-chip memory energy per bit",
                             {
                                 {"hbm", "", "J", "HBM energy per bit read or written"},
                                 {"ddr", "", "J", "DDR energy per bit read or written"},
                             });
const ParamTableRegistration kDramReg(kDramParams);

const ParamTable kStaticParams("tech.static_power", "Static (leakage and background) power per block",
                               {
                                   {"cube_core", "", "W", "one cube core (AIC)"},
                                   {"vector_core", "", "W", "one vector core (AIV)"},
                                   {"sram_per_mib", "", "W", "on-chip SRAM, per MiB of capacity"},
                                   {"hbm_stack", "", "W", "background power of one HBM stack"},
                                   {"ddr_channel", "", "W", "background power of one DDR channel"},
                                   {"noc_router", "", "W", "one on-chip network router"},
                               });
const ParamTableRegistration kStaticReg(kStaticParams);

// Tables keyed by precision: every listed precision is required, nothing else allowed.
std::map<std::string, double> read_precision_map(const ConfigNode& node, const std::vector<std::string>& keys) {
  node.expect_keys(keys);
  std::map<std::string, double> out;
  for (const auto& key : keys) out[key] = node[key].as_energy_j();
  return out;
}

std::vector<SramPoint> read_sram(const ConfigNode& node) {
  std::vector<SramPoint> out;
  const auto elements = node.elements();
  if (elements.size() < 2) node.fail("a list of at least two {capacity, energy_per_64bit} anchors");
  for (const auto& element : elements) {
    const ParamReader r(element, kSramPointParams);
    const Bytes capacity = r["capacity"].as_bytes();
    if (capacity == 0) r["capacity"].fail("a positive size");
    const double e64 = r["energy_per_64bit"].as_energy_j();
    if (e64 <= 0) r["energy_per_64bit"].fail("a positive energy");
    if (!out.empty() && capacity <= out.back().capacity) {
      r["capacity"].fail(fmt::format("a capacity above the previous anchor's {} B (anchors ascend)", out.back().capacity));
    }
    out.push_back({capacity, e64 / 8.0});
  }
  return out;
}

}  // namespace

const std::vector<std::string>& mac_precisions() {
  static const std::vector<std::string> v = {"fp32", "fp16", "bf16", "fp8", "int8", "int4"};
  return v;
}

const std::vector<std::string>& vector_precisions() {
  static const std::vector<std::string> v = {"fp32", "fp16", "bf16", "int32", "int8"};
  return v;
}

std::string precision_class(const std::string& dtype_name) {
  // Block-scaled formats run on the cube at their element width; the scale
  // multiply is amortised over the block and not priced separately [E].
  static const std::map<std::string, std::string> classes = {
      {"fp8_e4m3", "fp8"}, {"fp8_e5m2", "fp8"}, {"mxint8", "int8"}, {"mxfp4", "int4"}};
  auto it = classes.find(dtype_name);
  return it == classes.end() ? dtype_name : it->second;
}

double TechTable::sram_j_per_byte(Bytes capacity) const {
  if (sram.size() < 2) throw std::logic_error("TechTable::sram needs at least two anchors");
  if (capacity == 0) return 0;
  // Pick the segment that contains the capacity, or the end segment nearest to it.
  std::size_t hi = 1;
  while (hi + 1 < sram.size() && sram[hi].capacity < capacity) ++hi;
  const SramPoint& a = sram[hi - 1];
  const SramPoint& b = sram[hi];
  const double slope = std::log(b.energy_per_byte_j / a.energy_per_byte_j) /
                       std::log(static_cast<double>(b.capacity) / static_cast<double>(a.capacity));
  return a.energy_per_byte_j * std::pow(static_cast<double>(capacity) / static_cast<double>(a.capacity), slope);
}

TechTable resolve_tech_table(const ConfigNode& root) {
  const ParamReader r(root, kTechParams);
  TechTable t;
  t.source = root.file();
  t.node_nm = r["node_nm"].as_positive_double();
  t.model = r["model"].as_choice(Registry<EnergyModel, const TechTable&>::instance().names());
  t.mac_j = read_precision_map(r["mac_energy"], mac_precisions());
  t.vector_op_j = read_precision_map(r["vector_op_energy"], vector_precisions());
  t.sram = read_sram(r["sram"]);
  t.noc_j_per_byte = r["noc_energy_per_byte"].as_energy_j();

  const ParamReader dram(r["dram_energy_per_bit"], kDramParams);
  for (const std::string tier : {"hbm", "ddr"}) t.dram_j_per_byte[tier] = dram[tier].as_energy_j() * 8.0;

  const ParamReader sp(r["static_power"], kStaticParams);
  t.static_power.cube_core_w = sp["cube_core"].as_power_w();
  t.static_power.vector_core_w = sp["vector_core"].as_power_w();
  t.static_power.sram_per_mib_w = sp["sram_per_mib"].as_power_w();
  t.static_power.hbm_stack_w = sp["hbm_stack"].as_power_w();
  t.static_power.ddr_channel_w = sp["ddr_channel"].as_power_w();
  t.static_power.noc_router_w = sp["noc_router"].as_power_w();
  return t;
}

TechTable load_tech_table(const std::string& path) { return resolve_tech_table(ConfigNode::load_file(path)); }

}  // namespace npusim::stats
