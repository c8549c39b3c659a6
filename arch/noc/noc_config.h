#pragma once
// The `noc` section, resolved: built by resolve_noc_config (sim/config/noc_resolver.cpp);
// nothing in arch/ sees YAML.
#include <array>
#include <string>
#include <vector>

#include "arch/address_map.h"
#include "common/units.h"

namespace npusim::arch {

// A memory-side port of the network and the address tiers routed to it.
struct NocTargetPort {
  std::string name;  // l2 | hbm | ddr | sram; also names the initiator socket "to_<name>"
  std::vector<Tier> tiers;
  double bytes_per_cycle = 0;  // each direction, summed over the attach points
  // Mesh routers the port attaches to. A memory whose PHYs line several chip
  // edges attaches at several routers; the port's bandwidth is split evenly
  // over them and each core uses its nearest one.
  std::vector<int> nodes{0};
};

struct NocConfig {
  std::string impl;
  Clock clock;
  int cores = 0;
  double link_bytes_per_cycle = 0;        // router-to-router links (mesh)
  double core_read_bytes_per_cycle = 0;   // data toward a core
  double core_write_bytes_per_cycle = 0;  // data from a core
  Cycles hop_latency_cycles = 0;
  Bytes packet_bytes = 0;
  int mesh_cols = 1;
  int mesh_rows = 1;
  std::vector<NocTargetPort> targets;
  std::array<int, 3> port_of_tier{{-1, -1, -1}};  // index into targets, by Tier

  int port_for(Tier tier) const { return port_of_tier[static_cast<int>(tier)]; }
  int nodes() const { return mesh_cols * mesh_rows; }
  int core_node(int core) const { return core % nodes(); }
};



}  // namespace npusim::arch
