#pragma once
// Extension point: how the network's links are laid out and which links a
// transfer crosses. Implementations live in impl/ and register by name; the
// `noc.impl` key picks one. Timing is not here: the Network books any route
// on the links a topology declares.
#include <memory>
#include <string>
#include <vector>

#include "arch/noc/noc_config.h"
#include "common/registry.h"

namespace npusim::arch {

struct LinkSpec {
  std::string name;  // stat prefix, e.g. "core3.up", "r0c1>r0c2"
  double bytes_per_cycle = 0;
};

class Topology {
 public:
  virtual ~Topology() = default;
  virtual const std::vector<LinkSpec>& links() const = 0;
  // Links crossed, in order, by data from `core` to target port `port`.
  virtual void route_to_target(int core, int port, std::vector<int>& links) const = 0;
  // Links crossed, in order, by data from target port `port` to `core`.
  virtual void route_to_core(int port, int core, std::vector<int>& links) const = 0;
};

using TopologyRegistry = Registry<Topology, const NocConfig&>;
using TopologyRegistration = Registration<Topology, const NocConfig&>;

}  // namespace npusim::arch
