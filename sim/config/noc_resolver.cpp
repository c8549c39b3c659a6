#include "sim/config/block_resolvers.h"

#include <algorithm>

#include <fmt/format.h>

#include "sim/config/rate.h"
#include "arch/noc/topology.h"

namespace npusim::arch {

const ParamTable kNocParams(
    "noc", "On-chip network between the cores and the memory-side targets",
    {
        {"impl", "crossbar", "", "topology, by registered name (crossbar | mesh)"},
        {"clock", "1.8 GHz", "Hz", "network clock; every *_cycles and B/cycle value counts these cycles"},
        {"link_bandwidth", "64 B/cycle", "B/cycle", "each router-to-router link, each direction (mesh)"},
        {"core_read_bandwidth", "80 B/cycle", "B/cycle", "each core's port, data toward the core"},
        {"core_write_bandwidth", "80 B/cycle", "B/cycle", "each core's port, data from the core"},
        {"hop_latency_cycles", "2", "cycles", "latency of crossing one link (port links included)"},
        {"packet_size", "256 B", "B", "store-and-forward unit; sets the pipeline fill across hops"},
        {"mesh_cols", "1", "", "mesh width in routers (mesh); core i sits at router i mod (cols*rows)"},
        {"mesh_rows", "1", "", "mesh height in routers (mesh)"},
        {"targets", "", "", "map of memory-side ports (l2 | hbm | ddr | sram) to their settings"},
    });
static const ParamTableRegistration kNocReg(kNocParams);

const ParamTable kNocTargetParams(
    "noc.targets.<port>", "One memory-side port of the network",
    {
        {"tiers", "", "", "address tiers routed to this port, a list of sram | hbm | ddr"},
        {"bandwidth", "", "B/cycle", "port bandwidth, each direction"},
        {"node", "0", "",
         "router the port attaches to, row-major (mesh); a list attaches it at several routers, its bandwidth "
         "split evenly, each core using the nearest"},
    });
static const ParamTableRegistration kNocTargetReg(kNocTargetParams);

namespace {

Tier parse_tier(const ConfigNode& n) {
  const std::string t = n.as_choice({"sram", "hbm", "ddr"});
  if (t == "sram") return Tier::sram;
  if (t == "ddr") return Tier::ddr;
  return Tier::hbm;
}

NocTargetPort resolve_port(const ConfigNode& key_node, const std::string& name, const NocConfig& c) {
  key_node.expect_map();
  ParamReader r(key_node, kNocTargetParams);
  NocTargetPort p;
  p.name = name;
  const ConfigNode tiers = r["tiers"];
  if (!tiers.is_sequence() || tiers.size() == 0) tiers.fail("a non-empty list of tiers (sram, hbm, ddr)");
  for (const auto& t : tiers.elements()) p.tiers.push_back(parse_tier(t));
  p.bytes_per_cycle = bytes_per_cycle(r["bandwidth"], c.clock);
  const ConfigNode node = r["node"];
  const std::vector<ConfigNode> attach = node.is_sequence() ? node.elements() : std::vector<ConfigNode>{node};
  if (attach.empty()) node.fail("a router index or a non-empty list of them");
  p.nodes.clear();
  for (const auto& n : attach) {
    const auto v = n.as_count();
    if (v >= static_cast<std::uint64_t>(c.nodes())) {
      n.fail(fmt::format("a router index below mesh_cols*mesh_rows = {}", c.nodes()));
    }
    if (std::find(p.nodes.begin(), p.nodes.end(), static_cast<int>(v)) != p.nodes.end()) {
      n.fail("a router not already listed for this port");
    }
    p.nodes.push_back(static_cast<int>(v));
  }
  return p;
}

}  // namespace

NocConfig resolve_noc_config(const ConfigNode& section, int cores) {
  section.expect_map();
  ParamReader r(section, kNocParams);
  NocConfig c;
  c.impl = r["impl"].as_choice(TopologyRegistry::instance().names());
  c.clock = Clock(r["clock"].as_frequency_hz());
  if (cores < 1) section.fail_message(fmt::format("the network needs at least one core, got {}", cores));
  c.cores = cores;
  c.link_bytes_per_cycle = bytes_per_cycle(r["link_bandwidth"], c.clock);
  c.core_read_bytes_per_cycle = bytes_per_cycle(r["core_read_bandwidth"], c.clock);
  c.core_write_bytes_per_cycle = bytes_per_cycle(r["core_write_bandwidth"], c.clock);
  c.hop_latency_cycles = r["hop_latency_cycles"].as_count();
  c.packet_bytes = r["packet_size"].as_bytes();
  if (c.packet_bytes == 0) r["packet_size"].fail("a positive size");
  c.mesh_cols = static_cast<int>(r["mesh_cols"].as_positive_int());
  c.mesh_rows = static_cast<int>(r["mesh_rows"].as_positive_int());

  const ConfigNode targets = r["targets"];
  targets.expect_map();
  targets.expect_keys({"l2", "hbm", "ddr", "sram"});
  for (const auto& name : targets.keys()) {
    const ConfigNode port_node = targets[name];
    c.targets.push_back(resolve_port(port_node, name, c));
    const int index = static_cast<int>(c.targets.size()) - 1;
    for (Tier t : c.targets.back().tiers) {
      int& slot = c.port_of_tier[static_cast<int>(t)];
      if (slot >= 0) {
        port_node["tiers"].fail_message(fmt::format("tier '{}' is already routed to port '{}'", tier_name(t),
                                                    c.targets[slot].name));
      }
      slot = index;
    }
  }
  if (c.targets.empty()) targets.fail("at least one port (l2, hbm, ddr, sram)");
  return c;
}

}  // namespace npusim::arch
