// HBM3 at 6.4 Gb/s/pin. Tags point to hardware-facts.md section 4.
#include <memory>

#include "arch/memory/dram/dram_device.h"

namespace npusim::arch::dram {
namespace {

class Hbm3 : public DramStandard {
 public:
  DramDevice device() const override {
    DramDevice d;
    d.name = "HBM3";
    d.clock_hz = 1.6e9;  // tCK 0.625 ns, CK = rate / 4 [R2]
    // 64-bit channel as 2 pseudo-channels of 32 b, 4 BG x 4 banks, 1 KB page [R2].
    d.org.channel_width_bits = 64;
    d.org.default_pseudo_channels = 2;
    d.org.bank_groups = 4;
    d.org.banks_per_group = 4;
    d.org.page_bytes = 1024;
    // BL8 at four beats per tCK: nBL 2 [R2]; 32 B per column command.
    d.org.burst_length = 8;
    d.org.transfers_per_clock = 4;

    // The table in hardware-facts (R2 @c5b1c3a) is taken over the older
    // Ramulator2 HBM3.cpp, which was a copy of HBM2 (see the warning there).
    DramTimings& t = d.timings;
    t.CL = 20;       // [R2]
    t.CWL = 10;      // [R2]
    t.tRCD = 31;     // [R2] read
    t.tRCDWR = 15;   // [R2] write
    t.tRP = 26;      // [R2]
    t.tRAS = 45;     // [R2]
    t.tRC = 72;      // [R2]
    t.tWR = 33;      // [R2]
    t.tRTP = 6;      // [R2] newer hbm3.py nRTP at 6.4 Gb/s; not in the facts table, so [E]
    t.tCCD_S = 2;    // [R2]
    t.tCCD_L = 4;    // [R2]
    t.tRRD_S = 4;    // [R2]
    t.tRRD_L = 5;    // [R2]
    t.tFAW = 24;     // [R2]
    t.tWTR_S = 7;    // [R2]
    t.tWTR_L = 10;   // [R2]
    t.tRFC = ns_to_cycles(350, d.clock_hz);  // [R2] 350 ns, the 8 Gb-per-channel row
    t.tREFI = 6240;  // [R2] 3.9 us
    return d;
  }
};

const DramStandardRegistration hbm3_registration(
    "dram-preset", "HBM3", "HBM3 6.4 Gb/s/pin, 2 pseudo-channels of 32 b [R2]",
    [] { return std::make_unique<Hbm3>(); });

}  // namespace
}  // namespace npusim::arch::dram
