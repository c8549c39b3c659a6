#pragma once
// The per-core GM workspace fused lowerings hand tiles through. On split
// (A2) cores the AIC and its AIVs exchange data only through GM
// (hardware-facts 1.3), so a fused job stages each C tile and each
// probability tile in a few small, constantly reused slots per core, which
// stay in L2; only the tensors themselves go to HBM. Placement reserves the
// region (place_tensors' workspace argument) when a fused job runs.
#include <cstdint>

#include "mapper/machine_view.h"

namespace npusim::mapper {

// Every slot a fused job stages is at most an L0C's worth of accumulators
// (score and context tiles, two slots each, plus the half-width probability
// slots), so five L0Cs bound one core's share.
inline Bytes fusion_workspace_per_core(const MachineView& machine) { return 5 * machine.l0c; }

inline Bytes fusion_workspace_bytes(const MachineView& machine) {
  return fusion_workspace_per_core(machine) * static_cast<Bytes>(machine.cube_cores);
}

}  // namespace npusim::mapper
