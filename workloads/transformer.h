#pragma once
// The decoder-only transformer that every built-in family instantiates.
// The families share this builder because their layers are compositions of
// the same blocks (norm, attention, dense or MoE MLP, residuals); a family
// fixes which blocks its models must have (families/*.cpp).
//
// Op names follow the Hugging Face module names so compression rules such as
// `layers.*.mlp.down_proj` match across models:
//   embed_tokens, layers.N.input_layernorm,
//   layers.N.self_attn.{q_proj,k_proj,v_proj,rotary_emb,kv_cache_write,
//                       qk_matmul,softmax,pv_matmul,o_proj},
//   layers.N.attn_residual_add, layers.N.post_attention_layernorm,
//   layers.N.mlp.{gate_proj,up_proj,act_fn,down_proj}            (dense)
//   layers.N.mlp.{gate,topk,dispatch,combine}                     (MoE)
//   layers.N.mlp.experts.E.{gate_proj,up_proj,act_fn,down_proj}
//   layers.N.mlp.shared_experts.{gate_proj,up_proj,act_fn,down_proj}
//   layers.N.mlp.{shared_expert_gate,shared_expert_scale,shared_add}
//   layers.N.mlp_residual_add, last_token (prefill), norm, lm_head.
// One spelling for every family: Mixtral's block_sparse_moe.experts.E.w1/w3/w2
// are mlp.experts.E.gate_proj/up_proj/down_proj here, and Qwen's
// mlp.shared_expert is mlp.shared_experts. Weights are `<op>.weight` with
// shape [in, out] (the transpose of PyTorch's Linear.weight).
//
// MLA (DeepSeek-V2) in its weight-absorbed form, the one DeepSeek describes
// for inference: the KV cache holds the normalised latent c_kv
// (kv_lora_rank) and the shared rotary key k_pe (qk_rope_head_dim) per token,
// one "KV head" for all query heads. kv_b_proj's key half W_UK is applied to
// the query (op self_attn.kv_b_proj.uk, a per-head BatchMatMul) and its value
// half W_UV to the attention output (self_attn.kv_b_proj.uv), so attention
// runs MQA-style over the latent: scores have K = kv_lora_rank +
// qk_rope_head_dim and the context has N = kv_lora_rank. Both phases use this
// form; prefill kernels that expand K and V instead trade these attention
// FLOPs for kv_b_proj FLOPs over all keys.
//
// KV cache per step: `context` tokens are cached before the step. Attention
// reads those `context` entries from the cache tensors
// (layers.N.self_attn.{k_cache,v_cache}, or ckv_cache and kpe_cache for MLA)
// and takes this step's keys and values from the projections on chip, so the
// keys number context + new_tokens; kv_cache_write appends the new entries
// (the `.append` tensors). With GQA the score and context BatchMatMuls run
// batch = sequences x kv_heads and stack the group's query heads in M, so
// each KV head's cache is read once per group, not once per query head.
#include "workloads/model_family.h"

namespace npusim::workloads {

Graph build_transformer(const ModelConfig& config, const StepSpec& step, const RoutingSource& routing);

// Resolve and build shared by the transformer families; validate is theirs.
class TransformerFamily : public ModelFamily {
 public:
  ModelConfig resolve(const ConfigNode& root) const override;
  Graph build(const ModelConfig& config, const StepSpec& step, const RoutingSource& routing) const override;
};

}  // namespace npusim::workloads
