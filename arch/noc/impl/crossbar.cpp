// Crossbar: every core has its own port link into a non-blocking fabric and
// every memory-side target has its own port link out of it, so transfers
// contend only where they share a core port or a target port.
#include <memory>

#include "arch/noc/topology.h"

namespace npusim::arch {
namespace {

class Crossbar final : public Topology {
 public:
  explicit Crossbar(const NocConfig& c) : cores_(c.cores) {
    for (int i = 0; i < c.cores; ++i) {
      links_.push_back({"core" + std::to_string(i) + ".up", c.core_write_bytes_per_cycle});
      links_.push_back({"core" + std::to_string(i) + ".down", c.core_read_bytes_per_cycle});
    }
    for (const auto& p : c.targets) {
      links_.push_back({p.name + ".in", p.bytes_per_cycle});
      links_.push_back({p.name + ".out", p.bytes_per_cycle});
    }
  }

  const std::vector<LinkSpec>& links() const override { return links_; }

  void route_to_target(int core, int port, std::vector<int>& out) const override {
    out.push_back(2 * core);
    out.push_back(2 * cores_ + 2 * port);
  }
  void route_to_core(int port, int core, std::vector<int>& out) const override {
    out.push_back(2 * cores_ + 2 * port + 1);
    out.push_back(2 * core + 1);
  }

 private:
  int cores_;
  std::vector<LinkSpec> links_;
};

const TopologyRegistration reg("noc", "crossbar",
                               "per-core and per-target port links into a non-blocking fabric",
                               [](const NocConfig& c) { return std::make_unique<Crossbar>(c); });

}  // namespace
}  // namespace npusim::arch
