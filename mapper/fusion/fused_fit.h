#pragma once
// Whether a fused tiling fits the core: every fused lowering stages operands
// in L1, accumulates in L0C, works in UB, hands tiles through its workspace
// slots, and streams 16-deep row chunks through half of L0A (cube_tile.h).
#include <optional>
#include <string>

#include "mapper/machine_view.h"

namespace npusim::mapper {

struct FusedFootprint {
  Bytes l1 = 0, l0c = 0, ub = 0, workspace = 0;
  Bytes l0a_chunk = 0;  // one bm x 16 chunk of the A operand
};

// "<tiling>: <buffer> needs N B but holds M B" for the first buffer the
// footprint overflows, or nothing when it fits.
std::optional<std::string> fused_overflow(const std::string& tiling, const FusedFootprint& need, const MachineView& m);

}  // namespace npusim::mapper
