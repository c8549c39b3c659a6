// The shared tier as a software-managed SRAM (dataflow design after the
// SN40L's 520 MB of PMU SRAM): the mapper places tensors in it explicitly,
// every access is served by the banks, and nothing is fetched or evicted. The
// capacity is enforced: an access that does not fit inside the tier's
// [base, base + capacity) is a simulation error naming the address.
#include <memory>

#include <fmt/format.h>

#include "arch/l2/bank_array.h"
#include "arch/l2/l2_model.h"
#include "common/error.h"

namespace npusim::arch {
namespace {

class Scratchpad final : public L2Model {
 public:
  explicit Scratchpad(const L2Config& c)
      : base_(tier_base(c.tier)),
        capacity_(c.capacity),
        tier_(c.tier),
        latency_(c.clock.to_ticks(static_cast<double>(c.latency_cycles))),
        banks_(c.banks, c.line_bytes, c.bank_bytes_per_cycle, c.clock),
        stats_("l2", "shared SRAM scratchpad"),
        reads_(stats_.add_counter("reads", "read requests", "1")),
        writes_(stats_.add_counter("writes", "write requests", "1")),
        bytes_read_(stats_.add_counter("bytes_read", "bytes read", "B")),
        bytes_written_(stats_.add_counter("bytes_written", "bytes written", "B")),
        stall_(stats_.add_counter("bank_conflict_stall", "completion delay caused by busy banks", "ps")) {}

  bool needs_backing() const override { return false; }
  StatGroup& stats() override { return stats_; }

  Tick access(Tick now, bool write, std::uint64_t address, Bytes bytes, Backing&) override {
    if (address < base_ || address - base_ > capacity_ || bytes > capacity_ - (address - base_)) {
      throw SimulationError(fmt::format(
          "{} scratchpad: {} of {} B at address {:#x} is outside its capacity of {} B ({} tier, {:#x}..{:#x})",
          tier_name(tier_), write ? "write" : "read", bytes, address, capacity_, tier_name(tier_), base_,
          base_ + capacity_));
    }
    (write ? writes_ : reads_) += 1;
    (write ? bytes_written_ : bytes_read_) += bytes;
    return banks_.book(now, now, address - base_, bytes, stall_) + latency_;
  }

 private:
  std::uint64_t base_;
  Bytes capacity_;
  Tier tier_;
  Tick latency_;
  BankArray banks_;
  StatGroup stats_;
  Counter &reads_, &writes_, &bytes_read_, &bytes_written_, &stall_;
};

const L2Registration reg("l2", "scratchpad",
                         "software-managed banked SRAM tier with enforced capacity, no backing memory",
                         [](const L2Config& c) { return std::make_unique<Scratchpad>(c); });

}  // namespace
}  // namespace npusim::arch
