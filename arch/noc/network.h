#pragma once
// The network's timing calculator, free of SystemC so it is testable in
// microseconds. A transfer crosses its route's links store-and-forward per
// packet and pipelined across hops: link h starts once the head packet has
// crossed link h-1, and finishes no earlier than one packet time after the
// tail crossed link h-1. Uncontended, over H links of equal bandwidth bw,
//   delivery = H * hop_latency + bytes / bw + (H - 1) * packet / bw.
// A streamed read's tail may arrive late (the memory returns it at its own
// rate): each link then books its bytes / bandwidth window as late as the tail
// requires, while the head moves on unhindered, so a slower link further on
// starts as soon as the first packet reaches it. Only link contention delays
// the head.
// Each link keeps a reservation calendar; a transfer occupies each link for
// bytes / bandwidth, so streams that share a link share its bandwidth at the
// granularity of the requests their initiators issue, while streams on
// disjoint links overlap. Cost per transfer: a few comparisons per hop.
#include <memory>
#include <vector>

#include "arch/noc/link_timeline.h"
#include "arch/noc/noc_config.h"
#include "arch/noc/topology.h"
#include "common/stat_group.h"

namespace npusim::arch {

class Network {
 public:
  explicit Network(const NocConfig& config, const std::string& stat_name = "noc");

  const NocConfig& config() const { return config_; }
  const Topology& topology() const { return *topology_; }

  // Books `bytes` over `route`. The first byte is available at the route's
  // start at `head_ready`, the last at `tail_ready`; returns when the last
  // byte has crossed the last link.
  Tick transfer(const std::vector<int>& route, Bytes bytes, Tick now, Tick head_ready, Tick tail_ready);
  // Time for a single-flit header to cross `route` with no serialisation.
  Tick header_latency(const std::vector<int>& route) const { return hop_ticks_ * route.size(); }

  StatGroup& stats() { return stats_; }
  const StatGroup& stats() const { return stats_; }

 private:
  struct Link {
    double ps_per_byte = 0;
    LinkTimeline timeline;
    Counter* bytes = nullptr;
    Counter* busy = nullptr;
    Counter* stall = nullptr;
  };
  Tick duration(const Link& link, Bytes bytes) const;

  NocConfig config_;
  std::unique_ptr<Topology> topology_;
  Tick hop_ticks_ = 0;
  std::vector<Link> links_;
  StatGroup stats_;
};

}  // namespace npusim::arch
