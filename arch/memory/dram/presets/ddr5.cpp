// DDR5-4800AN. Tags point to hardware-facts.md section 4.
#include <algorithm>
#include <memory>

#include "arch/memory/dram/dram_device.h"

namespace npusim::arch::dram {
namespace {

class Ddr5_4800 : public DramStandard {
 public:
  DramDevice device() const override {
    DramDevice d;
    d.name = "DDR5-4800";
    d.clock_hz = 2.4e9;  // tCK 0.416 ns [R2]
    // A 64-bit DIMM channel is two independent 32-bit sub-channels [R2]; the
    // sub-channel is what pseudo_channels_per_channel counts here. x8 devices:
    // 8 BG x 4 banks; four x8 devices of 1 KB page each make a 4 KB row
    // buffer per sub-channel [R2][D].
    d.org.channel_width_bits = 64;
    d.org.default_pseudo_channels = 2;
    d.org.bank_groups = 8;
    d.org.banks_per_group = 4;
    d.org.page_bytes = 4096;
    d.org.burst_length = 16;  // BL16, nBL 8 [R2]; 64 B per column command
    d.org.transfers_per_clock = 2;

    DramTimings& t = d.timings;
    t.CL = 34;      // [R2]
    t.CWL = 32;     // [R2]
    t.tRCD = 34;    // [R2]
    t.tRCDWR = 34;  // [R2]
    t.tRP = 34;     // [R2]
    t.tRAS = 77;    // [R2]
    t.tRC = 111;    // [R2]
    t.tWR = 72;     // [R2]
    t.tRTP = ns_to_cycles(7.5, d.clock_hz);  // JEDEC 7.5 ns as recalled, not in the facts file [E]
    t.tCCD_S = 8;   // [R2]
    t.tCCD_L = 12;  // [R2] at 4800
    t.tRRD_S = 8;   // [R2]
    t.tRRD_L = std::max<std::uint32_t>(8, ns_to_cycles(5, d.clock_hz));  // [R2] max(8, 5 ns)
    t.tFAW = std::max<std::uint32_t>(32, ns_to_cycles(20, d.clock_hz));  // [R2] 20 ns for x8, >= 32 nCK
    // The facts give tWTR only at 3200 (6 / 16 nCK = 3.75 / 10 ns); we keep
    // those durations at 4800 [D].
    t.tWTR_S = ns_to_cycles(3.75, d.clock_hz);
    t.tWTR_L = ns_to_cycles(10, d.clock_hz);
    t.tRFC = ns_to_cycles(295, d.clock_hz);   // [R2] tRFC1 for 16 Gb devices
    t.tREFI = ns_to_cycles(3900, d.clock_hz); // [R2] 3.9 us
    return d;
  }
};

const DramStandardRegistration ddr5_registration(
    "dram-preset", "DDR5-4800", "DDR5-4800AN, x8 devices, two 32-bit sub-channels per DIMM channel [R2]",
    [] { return std::make_unique<Ddr5_4800>(); });

}  // namespace
}  // namespace npusim::arch::dram
