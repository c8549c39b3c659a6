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
  double core_seconds = 0;           // the busiest core's time, HBM aside
  const char* bound = "cube";        // which term set `seconds`
};

GemmCost estimate_gemm(const GemmProblem& problem, const GemmTiling& tiling, const MachineView& machine);

// Whether `a` ranks before `b`: less time, or the same time (both bound by
// HBM's unique bytes) with less time on the busiest core, which leaves the
// cores slack the HBM bound cannot show.
bool ranks_before(const GemmCost& a, const GemmCost& b);

// A bound no execution of this tiling can beat (cube work with no stalls,
// unique bytes at peak HBM rate); searches prune with it.
double gemm_lower_bound_seconds(const GemmProblem& problem, const GemmTiling& tiling, const MachineView& machine);

// The chosen tiling of one GEMM and how it was found.
struct GemmChoice {
  GemmTiling tiling;
  GemmCost cost;
  std::size_t candidates_evaluated = 0;  // cost-model evaluations spent
  std::size_t candidates_pruned = 0;     // skipped by a bound, never evaluated
  double confirmed_seconds = 0;          // simulated time of the choice, when confirmed
  int confirmed = 0;                     // how many top candidates were simulated
};

}  // namespace npusim::mapper
