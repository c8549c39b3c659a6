#pragma once
// Which queued row-level request a pseudo-channel serves next. Implementations
// live in schedulers/ and register by name (fr-fcfs, fcfs).
//
// Reordering window. The calculator commits a request's commands when it is
// served, so reordering is possible only among requests not yet served. The
// controller hands serve_batch() every row-level request one transaction puts
// on a pseudo-channel (plus any the caller batches with it); of these, at most
// queue_depth - the oldest - are visible at a time, and of those only the ones
// that had arrived by the decision time (the later of the pseudo-channel's
// last placed command and the oldest request's arrival). Requests of earlier
// transactions were already committed, so a row hit cannot overtake them: the
// window is the transaction, not the whole history of the queue.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "arch/memory/dram/channel_timing.h"
#include "arch/memory/dram/row_request.h"
#include "common/registry.h"

namespace npusim::arch::dram {

class DramScheduler {
 public:
  virtual ~DramScheduler() = default;
  // `window` is oldest first; its first `eligible` entries (at least one) had
  // arrived at the decision time. Returns the index to serve next.
  virtual std::size_t pick(const std::vector<RowRequest>& window, std::size_t eligible,
                           const ChannelTiming& channel) const = 0;
};

using DramSchedulerRegistry = Registry<DramScheduler>;
using DramSchedulerRegistration = Registration<DramScheduler>;

// Serves every request of `batch` on `channel` in the order the scheduler
// picks; returns the cycle the last data beat of the batch is delivered.
// `batch` is consumed (left empty).
Cycles serve_batch(ChannelTiming& channel, const DramScheduler& scheduler, std::vector<RowRequest>& batch,
                   std::uint32_t queue_depth, std::vector<RowResult>* results = nullptr);

}  // namespace npusim::arch::dram
