#pragma once
// Kernel-by-kernel execution: every op runs over all cores as its own job,
// and its results go through L2/HBM to the next op. The machine runs one job
// to completion before the next starts.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "mapper/gemm/gemm_cost.h"
#include "mapper/mapper_options.h"
#include "mapper/search/tiling_search.h"
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
  // A fused job (mapper/fusion/): its kind name, every graph op whose work
  // it does, and the bytes of their intermediates it keeps out of the
  // tensors (each written once and read once when unfused). Empty/zero for
  // a single op's job, whose kind is its op's.
  std::string kind;
  std::vector<workloads::OpId> covers;
  Bytes kept_on_chip = 0;
  // The cube work (2 per MAC) the job executes, when it is not its ops'
  // (a causal fused attention skips the masked tiles the ops count), and
  // its GM traffic when it is not its ops' less kept_on_chip (a split-KV
  // attention and its combine job divide the chain's and add the partials).
  std::optional<double> flops;
  std::optional<double> bytes;
  // A share of its op's work in a job of its own (a split-K GEMM's output
  // zeroing, which must finish before any part adds into the output; a
  // split-KV attention's combine after it): its time counts for the op, but
  // the op's graph FLOPs and bytes are its main job's, so this one reports
  // only its own `flops` and `bytes` (zero when unset).
  bool share_of_op = false;
};

// Tiling choices are cached by the GEMM's signature, so 80 identical layers
// are searched once.
class GemmTilingCache {
 public:
  explicit GemmTilingCache(SearchOptions options = {}, GemmConfirmer confirm = {})
      : options_(std::move(options)), confirm_(std::move(confirm)) {}
  const GemmChoice& choose(const GemmProblem& problem, const MachineView& machine);
  const SearchOptions& options() const { return options_; }
  std::size_t searches() const { return searches_; }
  std::size_t hits() const { return hits_; }
  std::size_t confirmations() const { return confirmations_; }

 private:
  SearchOptions options_;
  GemmConfirmer confirm_;
  std::map<std::string, GemmChoice> choices_;
  std::size_t searches_ = 0;
  std::size_t hits_ = 0;
  std::size_t confirmations_ = 0;
};

struct KernelMapping {
  std::vector<Job> jobs;
  Placement placement;
};

// The same mapping one job at a time: each job is handed to `on_job` and
// dropped, so a whole model's programs never sit in memory together (a
// prefill of a large model holds gigabytes of instructions). Returns the
// placement the jobs use. When `include` is given, ops it rejects are
// neither mapped nor handed over (sampled fidelity skips whole layers).
// When `relocate` is given, it moves tensors of the placement before any
// op is mapped (a chunked prefill pipeline shares one KV cache between its
// chunks' graphs and gives each chunk's activations a slot of their own).
Placement for_each_kernel_job(const workloads::Graph& graph, const MachineView& machine, GemmTilingCache& cache,
                              const MapperOptions& options, const std::function<void(Job&)>& on_job,
                              const std::function<bool(const workloads::Op&)>& include = {},
                              const std::function<void(Placement&)>& relocate = {});

KernelMapping map_kernel_by_kernel(const workloads::Graph& graph, const MachineView& machine,
                                   GemmTilingCache& cache, const MapperOptions& options = MapperOptions{});

// The cache key: everything about a GEMM that changes its best tiling.
std::string gemm_signature(const GemmProblem& problem);

// The GEMM a matmul-like op asks for, with operands placed. Attention's B
// is the KV cache when the step has one (it dominates the bytes).
GemmProblem gemm_problem_for(const workloads::Graph& graph, workloads::OpId id, const Placement& placement);

}  // namespace npusim::mapper
