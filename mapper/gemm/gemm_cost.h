#pragma once
// Analytical cost of a GEMM tiling, used to rank candidates before any
// simulation. It bounds each core by its slowest stage (MTE2 loads, cube,
// FixPipe) per output block and the chip by HBM bandwidth for the bytes the
// tiling must move; the estimate is the larger of the two.
#include "mapper/gemm/gemm.h"

namespace npusim::mapper {

struct GemmCost {
  double seconds = 0;
  double cube_cycles_per_core = 0;   // busiest core
  double load_cycles_per_core = 0;   // busiest core, MTE2
  double gm_bytes = 0;               // bytes every core loads, summed
  const char* bound = "cube";        // which term set `seconds`
};

GemmCost estimate_gemm(const GemmProblem& problem, const GemmTiling& tiling, const MachineView& machine);

// Exhaustive search over a pruned mapspace of tilings that fit the buffers;
// returns the cheapest by the estimate. Throws InputError when nothing fits.
struct GemmChoice {
  GemmTiling tiling;
  GemmCost cost;
  std::size_t candidates_evaluated = 0;
};
GemmChoice choose_gemm_tiling(const GemmProblem& problem, const MachineView& machine);

}  // namespace npusim::mapper
