#include "arch/memory/dram/dram_scheduler.h"

#include <algorithm>

namespace npusim::arch::dram {

Cycles serve_batch(ChannelTiming& channel, const DramScheduler& scheduler, std::vector<RowRequest>& batch,
                   std::uint32_t queue_depth, std::vector<RowResult>* results) {
  Cycles done = 0;
  if (batch.size() == 1) {  // the streaming case: nothing to choose between
    const RowResult r = channel.serve(batch.front());
    if (results) results->push_back(r);
    batch.clear();
    return r.data_done;
  }
  const auto older = [](const RowRequest& a, const RowRequest& b) {
    return a.arrival != b.arrival ? a.arrival < b.arrival : a.sequence < b.sequence;
  };
  // One transaction's requests arrive together in sequence order, so the
  // batch is usually sorted already and the sort (which allocates) is skipped.
  if (!std::is_sorted(batch.begin(), batch.end(), older)) std::stable_sort(batch.begin(), batch.end(), older);
  // Reused across calls: this runs once per pseudo-channel per transaction.
  thread_local std::vector<RowRequest> window;
  window.clear();
  std::size_t next = 0;
  while (next < batch.size() || !window.empty()) {
    while (window.size() < queue_depth && next < batch.size()) window.push_back(batch[next++]);
    const Cycles decision = std::max(channel.last_command(), window.front().arrival);
    std::size_t eligible = 0;
    while (eligible < window.size() && window[eligible].arrival <= decision) ++eligible;
    const std::size_t chosen = scheduler.pick(window, eligible, channel);
    const RowResult r = channel.serve(window[chosen]);
    if (results) results->push_back(r);
    done = std::max(done, r.data_done);
    window.erase(window.begin() + static_cast<std::ptrdiff_t>(chosen));
  }
  batch.clear();
  return done;
}

}  // namespace npusim::arch::dram
