#pragma once
// The SystemC kernel runs at 1 ps resolution (common/units.h), so a Tick and
// an sc_time value are the same integer; these two calls are the only place
// the timing calculators cross into SystemC time.
#include <systemc>

#include "common/units.h"

namespace npusim::arch {

inline Tick to_tick(const sc_core::sc_time& t) {
  static const double resolution_ps = sc_core::sc_get_time_resolution().to_seconds() * 1e12;
  if (resolution_ps == 1.0) return static_cast<Tick>(t.value());
  return static_cast<Tick>(t.to_seconds() * 1e12 + 0.5);
}

inline sc_core::sc_time to_sc_time(Tick ticks) {
  return sc_core::sc_time(static_cast<double>(ticks), sc_core::SC_PS);
}

inline Tick now_tick() { return to_tick(sc_core::sc_time_stamp()); }

}  // namespace npusim::arch
