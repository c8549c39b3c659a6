#pragma once
// Link and bank rates are natural in bytes per cycle of their clock (the
// Ascend runtime headers quote "80 B/cycle"), while data sheets quote GB/s.
// A rate key accepts either and resolves to bytes per cycle of `clock`.
#include "common/config_node.h"
#include "common/units.h"

namespace npusim::arch {

// "64 B/cycle" as written, or an absolute rate ("410 GB/s") divided by the clock.
double bytes_per_cycle(const ConfigNode& node, const Clock& clock);

}  // namespace npusim::arch
