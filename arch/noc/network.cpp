#include "arch/noc/network.h"

#include <algorithm>
#include <cmath>

namespace npusim::arch {

Network::Network(const NocConfig& config, const std::string& stat_name)
    : config_(config),
      topology_(TopologyRegistry::instance().create(config.impl, config_)),
      hop_ticks_(config.clock.to_ticks(static_cast<double>(config.hop_latency_cycles))),
      stats_(stat_name, "on-chip network: bytes, busy and contention stall time per link") {
  for (const auto& spec : topology_->links()) {
    Link link;
    link.ps_per_byte = config_.clock.period_ps() / spec.bytes_per_cycle;
    link.bytes = &stats_.add_counter(spec.name + ".bytes", "bytes carried", "B");
    link.busy = &stats_.add_counter(spec.name + ".busy", "time spent carrying data", "ps");
    link.stall = &stats_.add_counter(spec.name + ".stall", "time transfers waited for the link", "ps");
    links_.push_back(std::move(link));
  }
}

Tick Network::duration(const Link& link, Bytes bytes) const {
  // Rounded once per transfer, up to a picosecond, like Clock::to_ticks.
  return static_cast<Tick>(std::ceil(static_cast<double>(bytes) * link.ps_per_byte - 1e-6));
}

Tick Network::transfer(const std::vector<int>& route, Bytes bytes, Tick now, Tick head_ready, Tick tail_ready) {
  const Bytes packet = std::min(bytes, config_.packet_bytes);
  Tick head = head_ready;
  Tick tail = std::max(head_ready, tail_ready);
  for (int index : route) {
    Link& link = links_[static_cast<std::size_t>(index)];
    const Tick length = duration(link, bytes);
    const Tick packet_time = duration(link, packet);
    const Tick earliest_end = tail + packet_time;
    const auto booked = link.timeline.book(now, head, earliest_end, length);
    const Tick unhindered = std::max(head, earliest_end > length ? earliest_end - length : Tick{0});
    const Tick stall = booked.start - unhindered;
    *link.bytes += bytes;
    *link.busy += length;
    *link.stall += stall;
    // Waiting for a late tail does not hold the head back (the source streams
    // its data from head_ready on); waiting for the link does.
    head += stall + packet_time + hop_ticks_;
    tail = booked.end + hop_ticks_;
  }
  return tail;
}

}  // namespace npusim::arch
