#include "arch/memory/dram/dram_device.h"

#include <cmath>

namespace npusim::arch::dram {

const std::vector<TimingField>& timing_fields() {
  static const std::vector<TimingField> fields = {
      {"CL", &DramTimings::CL, true},         {"CWL", &DramTimings::CWL, true},
      {"tRCD", &DramTimings::tRCD, true},     {"tRCDWR", &DramTimings::tRCDWR, true},
      {"tRP", &DramTimings::tRP, true},       {"tRAS", &DramTimings::tRAS, true},
      {"tRC", &DramTimings::tRC, true},       {"tWR", &DramTimings::tWR, true},
      {"tRTP", &DramTimings::tRTP, true},     {"tCCD_S", &DramTimings::tCCD_S, false},
      {"tCCD_L", &DramTimings::tCCD_L, false}, {"tRRD_S", &DramTimings::tRRD_S, true},
      {"tRRD_L", &DramTimings::tRRD_L, true}, {"tFAW", &DramTimings::tFAW, true},
      {"tWTR_S", &DramTimings::tWTR_S, true}, {"tWTR_L", &DramTimings::tWTR_L, true},
      {"tRFC", &DramTimings::tRFC, true},     {"tREFI", &DramTimings::tREFI, true},
  };
  return fields;
}

std::uint32_t ns_to_cycles(double ns, double clock_hz) {
  // The epsilon keeps an exact multiple (15 ns at 1 GHz) from rounding up.
  return static_cast<std::uint32_t>(std::ceil(ns * 1e-9 * clock_hz - 1e-9));
}

DramDevice reclock(const DramDevice& device, double new_clock_hz) {
  DramDevice out = device;
  out.clock_hz = new_clock_hz;
  for (const auto& field : timing_fields()) {
    if (!field.fixed_duration) continue;
    const double ns = device.timings.*field.member * 1e9 / device.clock_hz;
    out.timings.*field.member = ns_to_cycles(ns, new_clock_hz);
  }
  return out;
}

}  // namespace npusim::arch::dram
