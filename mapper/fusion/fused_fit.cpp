#include "mapper/fusion/fused_fit.h"

#include <fmt/format.h>

#include "mapper/fusion/workspace.h"

namespace npusim::mapper {

std::optional<std::string> fused_overflow(const std::string& tiling, const FusedFootprint& need, const MachineView& m) {
  const struct {
    const char* name;
    Bytes need, have;
  } buffers[] = {{"L1", need.l1, m.l1},
                 {"L0C", need.l0c, m.l0c},
                 {"UB", need.ub, m.ub},
                 {"the fusion workspace of a core", need.workspace, fusion_workspace_per_core(m)}};
  for (const auto& b : buffers) {
    if (b.need > b.have) return fmt::format("{}: {} needs {} B but holds {} B", tiling, b.name, b.need, b.have);
  }
  if (need.l0a_chunk > m.l0a / 2) {
    return fmt::format("{}: L0A needs {} B per chunk but a slot holds {} B", tiling, need.l0a_chunk, m.l0a / 2);
  }
  return std::nullopt;
}

}  // namespace npusim::mapper
