// LPDDR4X-4266. hardware-facts.md has no LPDDR4X timing table, and the search
// of the reference corpus found no simulator preset for it, so every value
// below is JEDEC JESD209-4 (LPDDR4/4X) as we recall it, marked [E]: AC timing
// minimums are "max(ns, nCK)" pairs, converted here at tCK = 1 / 2133 MHz.
#include <algorithm>
#include <memory>

#include "arch/memory/dram/dram_device.h"

namespace npusim::arch::dram {
namespace {

std::uint32_t at_least(std::uint32_t min_clocks, double ns, double clock_hz) {
  return std::max(min_clocks, ns_to_cycles(ns, clock_hz));
}

class Lpddr4x_4266 : public DramStandard {
 public:
  DramDevice device() const override {
    DramDevice d;
    d.name = "LPDDR4X-4266";
    const double f = 4266e6 / 2;  // 4266 MT/s double data rate [E]
    d.clock_hz = f;
    // One 16-bit channel, 8 banks without bank groups, 2 KB page [E].
    d.org.channel_width_bits = 16;
    d.org.default_pseudo_channels = 1;
    d.org.bank_groups = 1;
    d.org.banks_per_group = 8;
    d.org.page_bytes = 2048;
    d.org.burst_length = 16;  // BL16: 32 B per column command [E]
    d.org.transfers_per_clock = 2;

    DramTimings& t = d.timings;
    t.CL = 36;                          // RL, DBI off [E]
    t.CWL = 18;                         // WL set A [E]
    t.tRCD = at_least(4, 18, f);        // [E]
    t.tRCDWR = t.tRCD;
    t.tRP = at_least(4, 18, f);         // tRPpb [E]
    t.tRAS = at_least(3, 42, f);        // [E]
    t.tRC = t.tRAS + t.tRP;             // tRAS + tRPpb [E]
    t.tWR = at_least(6, 18, f);         // [E]
    t.tRTP = at_least(8, 7.5, f);       // [E]
    t.tCCD_S = 8;                       // BL16 / 2 [E]
    t.tCCD_L = 8;                       // no bank groups
    t.tRRD_S = at_least(4, 7.5, f);     // [E]
    t.tRRD_L = t.tRRD_S;
    t.tFAW = ns_to_cycles(30, f);       // 30 ns above 2133 MT/s [E]
    t.tWTR_S = at_least(8, 10, f);      // [E]
    t.tWTR_L = t.tWTR_S;
    t.tRFC = ns_to_cycles(280, f);      // tRFCab for 8 Gb per channel [E]
    t.tREFI = ns_to_cycles(3904, f);    // 32 ms / 8192 [E]
    return d;
  }
};

const DramStandardRegistration lpddr4x_registration(
    "dram-preset", "LPDDR4X-4266", "LPDDR4X-4266, 16-bit channel, 8 banks (JESD209-4 values, [E])",
    [] { return std::make_unique<Lpddr4x_4266>(); });

}  // namespace
}  // namespace npusim::arch::dram
