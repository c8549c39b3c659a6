#pragma once
// Time a path occupies for a transfer: whole cycles at the path's rate.
#include <cmath>

#include "common/units.h"

namespace npusim::arch {

inline Cycles transfer_cycles(Bytes bytes, double bytes_per_cycle) {
  return static_cast<Cycles>(std::ceil(static_cast<double>(bytes) / bytes_per_cycle - 1e-9));
}

}  // namespace npusim::arch
