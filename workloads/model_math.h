#pragma once
// Closed forms computed from a ModelConfig alone, independent of the graph
// generators. Tests hold the generated graphs to these numbers, and these
// numbers to the publishers' totals.
//
// Counting conventions (stated once, used everywhere):
// - total parameters include the embedding table and lm_head, both counted
//   when untied (once when tied), every norm weight and every bias;
// - active parameters per token = total minus, in each MoE layer, the routed
//   experts a token does not visit: (num_experts - top_k) x params per expert.
//   Shared experts, routers, attention, norms, the embedding table and
//   lm_head are all active;
// - matmul parameters per token = the active weights that are the B operand
//   of a matmul for one token: active minus the embedding table (a gather,
//   not a matmul), minus norm weights and biases (vector work). With MLA the
//   kv_b_proj weight counts in full (its two halves are the absorbed matmuls).
#include <cstdint>

#include "workloads/model_config.h"

namespace npusim::workloads {

struct ParameterCounts {
  std::uint64_t total = 0;
  std::uint64_t active = 0;
  std::uint64_t embedding = 0;      // embed_tokens table
  std::uint64_t lm_head = 0;        // 0 when tied
  std::uint64_t routed_experts = 0; // all routed experts of all layers
  std::uint64_t matmul_active = 0;  // see the conventions above
};

ParameterCounts count_parameters(const ModelConfig& config);

// Cube FLOPs of the attention matmuls (score and context) for one query
// token attending over `keys` keys, summed over all layers:
//   mha: 4 x num_heads x head_dim x keys per layer
//   mla (absorbed, see generators): 2 x num_heads x keys x (kv_lora_rank + qk_rope_head_dim)
//                                 + 2 x num_heads x keys x kv_lora_rank per layer
std::uint64_t attention_flops_per_query(const ModelConfig& config, std::uint64_t keys);

// FLOPs of one decode step per sequence, where the sequence already has
// `context` tokens in its KV cache and the new token attends over context+1
// keys (the cached ones plus its own):
//   2 x matmul_active + attention_flops_per_query(context + 1)
std::uint64_t decode_flops_per_token(const ModelConfig& config, std::uint64_t context);

// FLOPs of a prefill of `batch` sequences of `seq` tokens. Scores are the
// full seq x seq square (the causal mask is applied in softmax, as a dense
// kernel does; a kernel that skips masked blocks halves this term), and
// lm_head runs only on the last token of each sequence:
//   2 x (matmul_active - lm_head_params) x batch x seq
// + 2 x lm_head_params x batch
// + batch x seq x attention_flops_per_query(seq)
std::uint64_t prefill_flops(const ModelConfig& config, std::uint64_t batch, std::uint64_t seq);

}  // namespace npusim::workloads
