#pragma once
// Kernel-by-kernel execution: every op runs over all cores as its own job,
// and its results go through L2/HBM to the next op. The machine runs one job
// to completion before the next starts.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "mapper/gemm/gemm_cost.h"
#include "mapper/machine_view.h"
#include "mapper/placement.h"
#include "workloads/graph.h"

namespace npusim::mapper {

struct Job {
  std::string name;          // the op's name
  workloads::OpId op = 0;
  arch::Program program;
  double estimated_seconds = 0;  // from the cost model, for comparison with simulation
  std::string tiling;            // human-readable tiling, empty for non-GEMM jobs
};

// Tiling choices are cached by the GEMM's signature, so 80 identical layers
// are searched once.
class GemmTilingCache {
 public:
  const GemmChoice& choose(const GemmProblem& problem, const MachineView& machine);
  std::size_t searches() const { return searches_; }
  std::size_t hits() const { return hits_; }

 private:
  std::map<std::string, GemmChoice> choices_;
  std::size_t searches_ = 0;
  std::size_t hits_ = 0;
};

struct KernelMapping {
  std::vector<Job> jobs;
  Placement placement;
};

KernelMapping map_kernel_by_kernel(const workloads::Graph& graph, const MachineView& machine,
                                   GemmTilingCache& cache);

// The GEMM a matmul-like op asks for, with operands placed.
GemmProblem gemm_problem_for(const workloads::Graph& graph, workloads::OpId id, const Placement& placement);

}  // namespace npusim::mapper
