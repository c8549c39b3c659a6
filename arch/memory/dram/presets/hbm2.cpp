// HBM2 at 2 Gb/s/pin and HBM2E at 3.2 Gb/s/pin, pseudo-channel mode.
// Tags point to /work/shared/design/hardware-facts.md section 4.
#include <memory>

#include "arch/memory/dram/dram_device.h"

namespace npusim::arch::dram {
namespace {

DramDevice hbm2_2gbps() {
  DramDevice d;
  d.name = "HBM2";
  d.clock_hz = 1.0e9;  // tCK 1.0 ns [DS3][R2]
  // 8 ch x 128 b per stack, 2 pseudo-channels of 64 b, 4 BG x 4 banks, 1 KB page [DS3][R2].
  d.org.channel_width_bits = 128;
  d.org.default_pseudo_channels = 2;
  d.org.bank_groups = 4;
  d.org.banks_per_group = 4;
  d.org.page_bytes = 1024;
  // BL4 on a 64-bit pseudo-channel: 32 B per column command, nBL = 2 tCK [R2].
  d.org.burst_length = 4;
  d.org.transfers_per_clock = 2;

  DramTimings& t = d.timings;
  // Where [DS3] and [R2] disagree we take DS3 (a JEDEC-derived device file)
  // except for the pseudo-channel column cadence, which DS3 gives for legacy
  // 128-bit mode: there we take R2.
  t.CL = 14;      // [DS3][R2]
  t.CWL = 4;      // [DS3]; R2 says 5
  t.tRCD = 14;    // [DS3]; R2 14
  t.tRCDWR = 14;  // [DS3]; R2 12
  t.tRP = 14;     // [DS3][R2]
  t.tRAS = 34;    // [DS3][R2]
  t.tRC = 48;     // [R2]; DS3 leaves it to tRAS + tRP = 48
  t.tWR = 16;     // [DS3][R2]
  t.tRTP = 5;     // [R2] nRTPL at 2 Gb/s
  t.tCCD_S = 2;   // [R2]; DS3 says 1 for legacy mode
  t.tCCD_L = 4;   // [R2]; DS3 says 2 for legacy mode
  t.tRRD_S = 4;   // [DS3]; R2 4 ns
  t.tRRD_L = 6;   // [DS3]; R2 4 ns
  t.tFAW = 30;    // [DS3]; R2 15 ns
  t.tWTR_S = 6;   // [DS3][R2]
  t.tWTR_L = 8;   // [DS3][R2]
  t.tRFC = 260;   // [DS3]; R2 260 ns for 4 Gb
  t.tREFI = 3900; // [DS3][R2] 3.9 us
  return d;
}

class Hbm2 : public DramStandard {
 public:
  DramDevice device() const override { return hbm2_2gbps(); }
};

// No JEDEC-derived HBM2E preset exists in DS3, R2 or DSys; hardware-facts
// suggests HBM2 ns values re-clocked to tCK = 0.625 ns, i.e. 3.2 Gb/s/pin,
// which matches Micron's 410 GB/s per stack [E5]. Every value is [E].
class Hbm2e : public DramStandard {
 public:
  DramDevice device() const override {
    DramDevice d = reclock(hbm2_2gbps(), 1.6e9);
    d.name = "HBM2E";
    return d;
  }
};

const DramStandardRegistration hbm2_registration(
    "dram-preset", "HBM2", "HBM2 2 Gb/s/pin, pseudo-channel mode [DS3][R2]",
    [] { return std::make_unique<Hbm2>(); });
const DramStandardRegistration hbm2e_registration(
    "dram-preset", "HBM2E", "HBM2E 3.2 Gb/s/pin: HBM2 ns timings re-clocked to 1.6 GHz [E]",
    [] { return std::make_unique<Hbm2e>(); });

}  // namespace
}  // namespace npusim::arch::dram
