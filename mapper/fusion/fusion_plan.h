#pragma once
// Which ops of a graph the mapper runs as one fused job, by the fusion
// options: each layer's attention chain (score -> softmax -> context),
// each SwiGLU MLP's gate and up projections with their activation, and each
// ReLU that the FixPipe of the matmul before it can apply.
#include <map>
#include <set>

#include "mapper/machine_view.h"
#include "mapper/mapper_options.h"
#include "workloads/graph.h"

namespace npusim::mapper {

struct AttentionChain {
  workloads::OpId score = 0, softmax = 0, context = 0;
};

struct SwigluChain {
  workloads::OpId gate = 0, up = 0, act = 0;
};

// A ReLU the matmul feeding it applies in its FixPipe.
struct FixpipeReluChain {
  workloads::OpId matmul = 0, relu = 0;
};

struct FusionPlan {
  // Keyed by the op the fused job replaces in topological order: the last
  // of its chain, so every input of every op in it has been produced.
  std::map<workloads::OpId, AttentionChain> attention;
  std::map<workloads::OpId, SwigluChain> swiglu;
  std::map<workloads::OpId, FixpipeReluChain> fixpipe_relu;
  std::set<workloads::OpId> absorbed;  // the other ops of the chains
};

FusionPlan plan_fusions(const workloads::Graph& graph, const FusionOptions& options, const MachineView& machine);

}  // namespace npusim::mapper
