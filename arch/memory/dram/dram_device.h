#pragma once
// What a DRAM standard at one speed bin is: its organisation and its timing
// table in cycles of its own command clock (tCK). Presets (HBM2, HBM2E, HBM3,
// DDR5-4800, LPDDR4X-4266) implement DramStandard in presets/*.cpp and
// register themselves by name; the config resolver asks the registry.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/registry.h"
#include "common/units.h"

namespace npusim::arch::dram {

// Every timing is in tCK of the device clock. Names follow JEDEC.
struct DramTimings {
  std::uint32_t CL = 0;      // RD command to first data beat
  std::uint32_t CWL = 0;     // WR command to first data beat
  std::uint32_t tRCD = 0;    // ACT to RD
  std::uint32_t tRCDWR = 0;  // ACT to WR (HBM3 and HBM2 allow a shorter one)
  std::uint32_t tRP = 0;     // PRE to ACT, same bank
  std::uint32_t tRAS = 0;    // ACT to PRE, same bank
  std::uint32_t tRC = 0;     // ACT to ACT, same bank
  std::uint32_t tWR = 0;     // end of write data to PRE
  std::uint32_t tRTP = 0;    // RD to PRE
  std::uint32_t tCCD_S = 0;  // column to column, different bank group
  std::uint32_t tCCD_L = 0;  // column to column, same bank group
  std::uint32_t tRRD_S = 0;  // ACT to ACT, different bank group
  std::uint32_t tRRD_L = 0;  // ACT to ACT, same bank group
  std::uint32_t tFAW = 0;    // window holding at most four ACTs
  std::uint32_t tWTR_S = 0;  // end of write data to RD, different bank group
  std::uint32_t tWTR_L = 0;  // end of write data to RD, same bank group
  std::uint32_t tRFC = 0;    // all-bank REF to next command
  std::uint32_t tREFI = 0;   // average interval between all-bank REFs
};

// One named timing field, for overrides from YAML, clock rescaling and listing.
struct TimingField {
  const char* name;
  std::uint32_t DramTimings::*member;
  // Analog timings keep their duration in ns when the clock is overridden;
  // the column cadence (tCCD) is counted in clocks by the interface itself.
  bool fixed_duration;
};
const std::vector<TimingField>& timing_fields();

struct DramOrganization {
  std::uint32_t channel_width_bits = 0;  // DQ width of one channel, split among its pseudo-channels
  std::uint32_t default_pseudo_channels = 1;
  std::uint32_t bank_groups = 1;
  std::uint32_t banks_per_group = 1;
  Bytes page_bytes = 0;                 // row buffer of one bank of one pseudo-channel
  std::uint32_t burst_length = 0;       // beats per column command
  std::uint32_t transfers_per_clock = 2;  // data beats per tCK (HBM3 runs CK at rate/4)
};

struct DramDevice {
  std::string name;
  double clock_hz = 0;  // command clock, 1/tCK
  DramOrganization org;
  DramTimings timings;

  // Cycles the data bus of one pseudo-channel carries one burst.
  std::uint32_t burst_cycles() const { return org.burst_length / org.transfers_per_clock; }
  double data_rate_per_pin() const { return clock_hz * org.transfers_per_clock; }
};

// Re-clocks a device: fixed-duration timings are converted through ns and
// rounded up to whole cycles, the others keep their cycle counts.
DramDevice reclock(const DramDevice& device, double new_clock_hz);

// Interface of a preset; each preset registers a factory under its name.
class DramStandard {
 public:
  virtual ~DramStandard() = default;
  virtual DramDevice device() const = 0;
};

using DramStandardRegistry = Registry<DramStandard>;
using DramStandardRegistration = Registration<DramStandard>;

// ceil(ns / tCK), for presets whose source gives durations.
std::uint32_t ns_to_cycles(double ns, double clock_hz);

}  // namespace npusim::arch::dram
