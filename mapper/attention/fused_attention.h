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
// Causal prefill skips the key tiles a query block cannot see: block i of
// a head needs key tiles up to the one holding its last query's position;
// the tile that crosses the diagonal is computed in full and masked on the
// vector side.
//
// Split-KV decode (flash-decoding): when a chain has fewer units than the
// machine has cube cores, each unit's keys are cut into chunks run on
// different cores; each chunk leaves its unnormalised output with its
// running max and sum in GM, and a second job on the vector cores merges
// the chunks of each unit into the output.
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
  // Causal mask: a group's rows are its query heads' tokens, head-major
  // (row r is token r % queries), the last `queries` keys are those tokens,
  // and token t sees keys 0 .. keys - queries + t.
  bool causal = false;
  std::uint64_t queries = 0;  // query tokens per head; needed when causal
};

struct AttentionTiling {
  std::uint32_t bm = 128;      // query rows of one unit
  std::uint32_t bn = 128;      // keys per KV tile
  int score_l0c_slots = 2;     // score tiles in flight in L0C
  int context_ub_slots = 2;    // context tiles in flight in each vector worker's UB
  // Chunks each unit's key tiles are split into (split-KV); 1: no split,
  // the job writes the output itself and no combine job runs.
  std::uint32_t kv_chunks = 1;
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

// What the job computes, counted from the tiling's schedule.
struct AttentionWork {
  std::uint64_t score_tiles = 0;  // (query block, key tile) pairs computed
  double macs = 0;                // of Q K^T and P V together
  double kv_bytes = 0;            // K and V bytes read from GM
};
AttentionWork attention_work(const AttentionProblem& problem, const AttentionTiling& tiling);

// Key tiles query block `block` of a group computes: all of them unless
// causal, else up to the tile holding the block's last visible key.
std::uint64_t key_tiles_of_block(const AttentionProblem& problem, const AttentionTiling& tiling,
                                 std::uint64_t block);

// Split-KV partials: each (unit, chunk) leaves rows x (value width + 2)
// fp32 values in GM (the unnormalised output, the running max and sum).
double split_kv_partial_bytes(const AttentionProblem& problem, const AttentionTiling& tiling);

// Roofline of the job: cube work against each core's GM path.
double estimate_fused_attention_seconds(const AttentionProblem& problem, const AttentionTiling& tiling,
                                        const MachineView& machine);

// Appends every core's instructions. `workspace_address` is the base of the
// region of fusion_workspace_bytes(machine) placement reserved; split-KV
// partials sit in each core's share after its hand-off slots.
void emit_fused_attention(const AttentionProblem& problem, const AttentionTiling& tiling,
                          const MachineView& machine, std::uint64_t workspace_address, std::uint32_t tag,
                          arch::Program& program);

// The split-KV combine job's instructions (tiling.kv_chunks > 1): the
// vector cores merge each unit's chunk partials and write the output.
void emit_split_kv_combine(const AttentionProblem& problem, const AttentionTiling& tiling,
                           const MachineView& machine, std::uint64_t workspace_address, std::uint32_t tag,
                           arch::Program& program);
double estimate_split_kv_combine_seconds(const AttentionProblem& problem, const AttentionTiling& tiling,
                                         const MachineView& machine);

// Flops the cube performs: both products over the tiles computed (the
// unmasked ones when causal), 2 per MAC.
double fused_attention_flops(const AttentionProblem& problem, const AttentionTiling& tiling);

}  // namespace npusim::mapper
