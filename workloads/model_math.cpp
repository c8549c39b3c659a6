#include "workloads/model_math.h"

namespace npusim::workloads {
namespace {

std::uint64_t norm_params(const ModelConfig& c, std::uint64_t width) {
  return c.norm == NormKind::layernorm ? 2 * width : width;
}

struct AttentionParams {
  std::uint64_t matmul = 0;
  std::uint64_t other = 0;  // norms and biases inside attention
};

AttentionParams attention_params(const ModelConfig& c) {
  AttentionParams p;
  const std::uint64_t h = c.hidden_size;
  if (c.attention == AttentionKind::mla) {
    const MlaConfig& m = *c.mla;
    const std::uint64_t q_width = c.num_heads * (m.qk_nope_head_dim + m.qk_rope_head_dim);
    if (m.q_lora_rank == 0) {
      p.matmul += h * q_width;
    } else {
      p.matmul += h * m.q_lora_rank + m.q_lora_rank * q_width;
      p.other += norm_params(c, m.q_lora_rank);
    }
    p.matmul += h * (m.kv_lora_rank + m.qk_rope_head_dim);                          // kv_a_proj_with_mqa
    p.other += norm_params(c, m.kv_lora_rank);                                      // kv_a_layernorm
    p.matmul += m.kv_lora_rank * c.num_heads * (m.qk_nope_head_dim + m.v_head_dim); // kv_b_proj
    p.matmul += c.num_heads * m.v_head_dim * h;                                     // o_proj
    return p;
  }
  const std::uint64_t q = c.num_heads * c.head_dim;
  const std::uint64_t kv = c.num_kv_heads * c.head_dim;
  p.matmul = h * q + 2 * h * kv + q * h;
  if (c.attention_bias) p.other = q + 2 * kv;
  return p;
}

std::uint64_t swiglu_params(std::uint64_t hidden, std::uint64_t width) { return 3 * hidden * width; }

}  // namespace

ParameterCounts count_parameters(const ModelConfig& c) {
  ParameterCounts p;
  const std::uint64_t h = c.hidden_size;
  p.embedding = c.vocab_size * h;
  p.lm_head = c.tie_word_embeddings ? 0 : c.vocab_size * h;
  const std::uint64_t lm_head_matmul = c.vocab_size * h;  // runs even when tied
  const AttentionParams attn = attention_params(c);
  std::uint64_t total = p.embedding + p.lm_head + norm_params(c, h);  // + final norm
  std::uint64_t inactive = 0;
  std::uint64_t matmul = lm_head_matmul;
  for (std::uint64_t layer = 0; layer < c.num_layers; ++layer) {
    total += 2 * norm_params(c, h) + attn.matmul + attn.other;
    matmul += attn.matmul;
    if (!c.is_moe_layer(layer)) {
      total += swiglu_params(h, c.intermediate_size);
      matmul += swiglu_params(h, c.intermediate_size);
      continue;
    }
    const MoeConfig& m = *c.moe;
    const std::uint64_t per_expert = swiglu_params(h, m.expert_intermediate_size);
    const std::uint64_t shared = swiglu_params(h, m.shared_intermediate_size) + (m.shared_expert_gate ? h : 0);
    const std::uint64_t router = h * m.num_experts;
    total += router + m.num_experts * per_expert + shared;
    p.routed_experts += m.num_experts * per_expert;
    inactive += (m.num_experts - m.top_k) * per_expert;
    matmul += router + m.top_k * per_expert + shared;
  }
  p.total = total;
  p.active = total - inactive;
  p.matmul_active = matmul;
  return p;
}

std::uint64_t attention_flops_per_query(const ModelConfig& c, std::uint64_t keys) {
  std::uint64_t per_layer = 0;
  if (c.attention == AttentionKind::mla) {
    const MlaConfig& m = *c.mla;
    per_layer = 2 * c.num_heads * keys * (m.kv_lora_rank + m.qk_rope_head_dim) + 2 * c.num_heads * keys * m.kv_lora_rank;
  } else {
    per_layer = 4 * c.num_heads * c.head_dim * keys;
  }
  return per_layer * c.num_layers;
}

std::uint64_t decode_flops_per_token(const ModelConfig& c, std::uint64_t context) {
  return 2 * count_parameters(c).matmul_active + attention_flops_per_query(c, context + 1);
}

std::uint64_t prefill_flops(const ModelConfig& c, std::uint64_t batch, std::uint64_t seq) {
  const ParameterCounts p = count_parameters(c);
  const std::uint64_t lm_head = c.vocab_size * c.hidden_size;
  return 2 * (p.matmul_active - lm_head) * batch * seq + 2 * lm_head * batch +
         batch * seq * attention_flops_per_query(c, seq);
}

}  // namespace npusim::workloads
