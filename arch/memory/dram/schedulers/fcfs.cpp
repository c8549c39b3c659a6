// First-come first-served: strictly in arrival order.
#include <memory>

#include "arch/memory/dram/dram_scheduler.h"

namespace npusim::arch::dram {
namespace {

class Fcfs : public DramScheduler {
 public:
  std::size_t pick(const std::vector<RowRequest>&, std::size_t, const ChannelTiming&) const override { return 0; }
};

const DramSchedulerRegistration registration("dram-scheduler", "fcfs", "strictly oldest first",
                                             [] { return std::make_unique<Fcfs>(); });

}  // namespace
}  // namespace npusim::arch::dram
