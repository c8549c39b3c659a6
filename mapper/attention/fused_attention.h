#pragma once
// FlashAttention-style lowering of one layer's score -> softmax -> context
// chain as a single job. Each cube core takes (KV-head group, query-row
// block) units; per unit it loops over KV tiles: Q K^T on the cube into L0C,
// the score tile handed to the vector side, an online softmax there (running
// row max and sum, rescaling the partial output), the probability tile
// handed back into L1, and P V on the cube, whose tile the vector side adds
// into its running output. Only Q, K, V and the output touch the tensors in
// GM; the score and probability matrices never do.
//
// Hand-offs use what the hardware has: on split cores (AIC + AIVs) every
// tile goes through the core's GM workspace slots with FFTS cross-core
// flags; on coupled cores scores and context tiles move L0C -> UB directly
// and only the probability tile, which has no UB -> L1 path, goes through
// the workspace.
#include <cstdint>
#include <optional>
#include <string>

#include "arch/isa.h"
#include "mapper/gemm/gemm.h"
#include "mapper/machine_view.h"

namespace npusim::mapper {

struct AttentionProblem {
  // Q x K^T: batch = sequences x KV-head groups, m = query rows per group,
  // k = head dim, n = keys.
  GemmProblem score;
  // P x V: same batch and m, k = keys, n = value width; C is the output.
  GemmProblem context;
};

struct AttentionTiling {
  std::uint32_t bm = 128;      // query rows of one unit
  std::uint32_t bn = 128;      // keys per KV tile
  int score_l0c_slots = 2;     // score tiles in flight in L0C
  int context_ub_slots = 2;    // context tiles in flight in each vector worker's UB
  std::string describe() const;
};

// Bytes each buffer needs (UB per vector worker; workspace per cube core).
struct AttentionFootprint {
  Bytes l1 = 0, l0a = 0, l0b = 0, l0c = 0, ub = 0, workspace = 0;
};
AttentionFootprint attention_footprint(const AttentionProblem& problem, const AttentionTiling& tiling,
                                       const MachineView& machine);

// Why the tiling cannot run, naming the buffer, or nullopt when it fits.
std::optional<std::string> attention_tiling_error(const AttentionProblem& problem, const AttentionTiling& tiling,
                                                  const MachineView& machine);

// The largest tiling that fits (query rows first: they set how often K and
// V are re-read). Throws InputError naming the buffer the smallest
// candidate overflows when none fits.
AttentionTiling choose_attention_tiling(const AttentionProblem& problem, const MachineView& machine);

// Roofline of the job: cube work against each core's GM path.
double estimate_fused_attention_seconds(const AttentionProblem& problem, const AttentionTiling& tiling,
                                        const MachineView& machine);

// Appends every core's instructions. `workspace_address` is the base of the
// region of fusion_workspace_bytes(machine) placement reserved.
void emit_fused_attention(const AttentionProblem& problem, const AttentionTiling& tiling,
                          const MachineView& machine, std::uint64_t workspace_address, std::uint32_t tag,
                          arch::Program& program);

// Flops the cube performs: both products, every tile (as the unfused ops).
double fused_attention_flops(const AttentionProblem& problem);

}  // namespace npusim::mapper
