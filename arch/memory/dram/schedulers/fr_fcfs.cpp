// First-ready, first-come first-served: a request whose row is open in its
// bank goes first (oldest such), otherwise the oldest request.
#include <memory>

#include "arch/memory/dram/dram_scheduler.h"

namespace npusim::arch::dram {
namespace {

class FrFcfs : public DramScheduler {
 public:
  std::size_t pick(const std::vector<RowRequest>& window, std::size_t eligible,
                   const ChannelTiming& channel) const override {
    for (std::size_t i = 0; i < eligible; ++i) {
      if (channel.is_open(window[i].bank, window[i].row)) return i;
    }
    return 0;
  }
};

const DramSchedulerRegistration registration("dram-scheduler", "fr-fcfs",
                                             "row hits first (oldest among them), then the oldest request",
                                             [] { return std::make_unique<FrFcfs>(); });

}  // namespace
}  // namespace npusim::arch::dram
