#pragma once
// A GEMM's bias row, Ascend A2 style: the output block's slice of bias[N]
// comes from GM into L1 (MTE2), is copied into the cube's bias table
// widened to the accumulators' 32 bits (MTE1, asc_copy_l12bt), and the
// block's first mmad starts its accumulators from it instead of from zero.
// FixPipe then converts the biased sums as it would unbiased ones.
//
// Why the cube and not FixPipe: on A2 the bias table is a cube-side buffer
// read by Mmad, while FixPipe's own buffer holds quantization parameters;
// starting L0C from the bias costs the cube no extra step, so the only time
// a bias adds is its GM read and the small MTE1 copy.
//
// One L1 staging slot and one bias-table slot suffice: a block reads its
// bias only in its first mmad, so the next block's bias can be staged as
// soon as that mmad has issued, long before the next block starts.
#include <cstdint>
#include <vector>

#include "arch/isa.h"
#include "mapper/gemm/gemm.h"

namespace npusim::mapper {

// Event id of the bias hand-offs on the MTE2->MTE1, MTE1->cube and reverse
// pipe pairs; the double buffers use ids 0 and 1 there.
inline constexpr std::uint8_t kBiasEvent = 2;

// L1 and bias-table bytes a tiling's bias needs; 0 without a bias.
Bytes gemm_bias_l1_bytes(const GemmProblem& problem, const GemmTiling& tiling);
Bytes gemm_bias_table_bytes(const GemmProblem& problem, const GemmTiling& tiling);

// GM bytes of bias one output block of `bn` columns reads.
Bytes gemm_bias_block_bytes(const GemmProblem& problem, std::uint32_t bn);

// The free-slot tokens a core's program starts with, and their consumption
// at its end so every event is balanced.
void emit_bias_tokens(std::vector<arch::Instruction>& code, std::uint32_t tag);
void drain_bias_tokens(std::vector<arch::Instruction>& code, std::uint32_t tag);

// Stages block column `ni`'s bias (`bn` values) from GM through L1 (at
// `l1_offset`) into the bias table.
void emit_bias_load(std::vector<arch::Instruction>& code, const GemmProblem& problem, const GemmTiling& tiling,
                    std::uint64_t ni, std::uint32_t bn, std::uint32_t l1_offset, std::uint32_t tag);

// Appends `first_mmad` of a block started from the staged bias: the cube
// waits for the table, and frees it once the mmad has read it.
void emit_biased_mmad(std::vector<arch::Instruction>& code, arch::Instruction first_mmad, std::uint32_t tag);

}  // namespace npusim::mapper
