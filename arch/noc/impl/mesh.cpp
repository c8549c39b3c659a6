// 2D mesh with dimension-ordered (XY) routing: a transfer first travels along
// its row to the destination column, then along that column, which is
// deadlock-free without virtual channels and makes every route a fixed list
// of links. Each router has one directed link to each neighbour; cores and
// memory-side ports attach to routers through their own inject/eject links.
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "arch/noc/topology.h"

namespace npusim::arch {
namespace {

enum Direction { kEast, kWest, kSouth, kNorth, kDirections };

class Mesh final : public Topology {
 public:
  explicit Mesh(const NocConfig& c) : cols_(c.mesh_cols), rows_(c.mesh_rows), cores_(c.cores) {
    mesh_link_.assign(static_cast<std::size_t>(c.nodes()) * kDirections, -1);
    for (int n = 0; n < c.nodes(); ++n) {
      const int r = n / cols_, col = n % cols_;
      const int neighbour[kDirections] = {col + 1 < cols_ ? n + 1 : -1, col > 0 ? n - 1 : -1,
                                          r + 1 < rows_ ? n + cols_ : -1, r > 0 ? n - cols_ : -1};
      for (int d = 0; d < kDirections; ++d) {
        if (neighbour[d] < 0) continue;
        mesh_link_[static_cast<std::size_t>(n) * kDirections + d] = static_cast<int>(links_.size());
        links_.push_back({fmt::format("{}>{}", router_name(n), router_name(neighbour[d])), c.link_bytes_per_cycle});
      }
    }
    for (int i = 0; i < c.cores; ++i) {
      core_node_.push_back(c.core_node(i));
      links_.push_back({fmt::format("core{}.inject", i), c.core_write_bytes_per_cycle});
      links_.push_back({fmt::format("core{}.eject", i), c.core_read_bytes_per_cycle});
    }
    port_base_ = static_cast<int>(links_.size());
    for (const auto& p : c.targets) {
      std::vector<Attach> attach;
      const double share = p.bytes_per_cycle / static_cast<double>(p.nodes.size());
      for (int node : p.nodes) {
        const std::string at = p.nodes.size() == 1 ? "" : "@" + router_name(node);
        attach.push_back({node, static_cast<int>(links_.size())});
        links_.push_back({p.name + at + ".in", share});
        links_.push_back({p.name + at + ".out", share});
      }
      port_attach_.push_back(std::move(attach));
    }
  }

  const std::vector<LinkSpec>& links() const override { return links_; }

  void route_to_target(int core, int port, std::vector<int>& out) const override {
    const Attach& a = nearest(port, core_node_[core]);
    out.push_back(core_link(core) + 0);
    walk(core_node_[core], a.node, out);
    out.push_back(a.in_link);
  }
  void route_to_core(int port, int core, std::vector<int>& out) const override {
    const Attach& a = nearest(port, core_node_[core]);
    out.push_back(a.in_link + 1);
    walk(a.node, core_node_[core], out);
    out.push_back(core_link(core) + 1);
  }

 private:
  std::string router_name(int n) const { return fmt::format("r{}c{}", n / cols_, n % cols_); }
  int core_link(int core) const { return port_base_ - 2 * cores_ + 2 * core; }

  struct Attach {
    int node;
    int in_link;  // its ".out" link follows
  };

  // Fewest hops; the first listed wins a tie, so routes are deterministic.
  const Attach& nearest(int port, int from) const {
    const auto& attach = port_attach_[static_cast<std::size_t>(port)];
    const Attach* best = &attach.front();
    int best_hops = hops(from, best->node);
    for (const auto& a : attach) {
      const int h = hops(from, a.node);
      if (h < best_hops) best = &a, best_hops = h;
    }
    return *best;
  }
  int hops(int a, int b) const { return std::abs(a % cols_ - b % cols_) + std::abs(a / cols_ - b / cols_); }

  void walk(int from, int to, std::vector<int>& out) const {
    int n = from;
    const int to_col = to % cols_;
    while (n % cols_ != to_col) {
      const Direction d = n % cols_ < to_col ? kEast : kWest;
      out.push_back(mesh_link_[static_cast<std::size_t>(n) * kDirections + d]);
      n += d == kEast ? 1 : -1;
    }
    while (n != to) {
      const Direction d = n < to ? kSouth : kNorth;
      out.push_back(mesh_link_[static_cast<std::size_t>(n) * kDirections + d]);
      n += d == kSouth ? cols_ : -cols_;
    }
  }

  int cols_, rows_, cores_;
  int port_base_ = 0;
  std::vector<int> mesh_link_;  // by router * kDirections + direction, -1 at the edge
  std::vector<int> core_node_;
  std::vector<std::vector<Attach>> port_attach_;  // by port
  std::vector<LinkSpec> links_;
};

const TopologyRegistration reg("noc", "mesh",
                               "2D mesh of routers, XY routing, per-link bandwidth and hop latency",
                               [](const NocConfig& c) { return std::make_unique<Mesh>(c); });

}  // namespace
}  // namespace npusim::arch
