#pragma once
// The thin application that composes mapspace, search and cost model for
// one GEMM: propose, estimate, report, until the search is done or the
// budget is spent; optionally confirm the top few by simulation.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "mapper/gemm/gemm_cost.h"

namespace npusim::mapper {

struct SearchOptions {
  std::string algorithm = "exhaustive";  // a name in SearchRegistry
  std::size_t budget = 5000;             // cost-model evaluations per GEMM signature
  std::uint64_t seed = 1;
  // Candidates (best by the cost model) simulated before choosing; 0 = trust
  // the model. Needs a confirmer from the caller.
  int confirm_top = 0;
  // Most K parts a tiling may split a GEMM into (GemmTiling::split_k); 1
  // keeps K whole. Off by default: split-K adds partial-sum traffic and a
  // zeroing job, the cost model ranks its a-resident parts less surely than
  // unsplit tilings, and with it on the unfused gate/up projections read
  // less than the fused SwiGLU job, which does not split.
  std::uint32_t split_k_max = 1;
};

// Simulated seconds of one tiling of one problem (the driver runs it on a
// spare machine).
using GemmConfirmer = std::function<double(const GemmProblem&, const GemmTiling&)>;

// Throws InputError when no candidate fits within the budget.
GemmChoice search_gemm_tiling(const GemmProblem& problem, const MachineView& machine, const SearchOptions& options,
                              const GemmConfirmer& confirm = {});

// Default options, no confirmation.
GemmChoice choose_gemm_tiling(const GemmProblem& problem, const MachineView& machine);

}  // namespace npusim::mapper
