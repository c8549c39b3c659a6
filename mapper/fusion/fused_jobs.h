#pragma once
// The jobs of the fused lowerings, as the kernel-by-kernel mapper runs them
// in place of the ops of each chain (fusion_plan.h).
#include <vector>

#include "mapper/fusion/fusion_plan.h"
#include "mapper/kernel_mapper.h"

namespace npusim::mapper {

// One layer's attention chain as one FlashAttention-style job, followed
// by its combine job when the tiling splits the keys (split-KV decode).
std::vector<Job> fused_attention_jobs(const workloads::Graph& graph, const AttentionChain& chain,
                                      const Placement& placement, const MachineView& machine);

// The gate and up projections with SwiGLU on their output tiles as one job.
// The tiling starts from the cache's choice for the gate projection.
Job fused_swiglu_job(const workloads::Graph& graph, const SwigluChain& chain, const Placement& placement,
                     const MachineView& machine, GemmTilingCache& cache);

// A matmul writing ReLU of its output, applied by FixPipe, to the ReLU's
// output tensor: the ReLU op and the matmul's own output never run or move.
Job fixpipe_relu_job(const workloads::Graph& graph, const FixpipeReluChain& chain, const Placement& placement,
                     const MachineView& machine, GemmTilingCache& cache);

}  // namespace npusim::mapper
