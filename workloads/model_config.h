#pragma once
// A model's architecture as an immutable typed struct: what the generators
// build from. Two sources resolve into it: the project's YAML model files
// (configs/models/*.yaml, keys declared in ParamTables in model_config.cpp)
// and Hugging Face config.json files (hf_config.h).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config_node.h"
#include "common/dtype.h"

namespace npusim::workloads {

// mha covers MHA, GQA and MQA through num_kv_heads; mla is DeepSeek's
// multi-head latent attention.
enum class AttentionKind { mha, mla };
enum class NormKind { rmsnorm, layernorm };

struct MoeConfig {
  std::uint64_t num_experts = 0;  // routed experts per MoE layer
  std::uint64_t top_k = 0;        // routed experts per token, over all groups
  // Mixture of grouped experts (Pangu Pro MoE): experts are split into
  // num_groups equal groups and top_k / num_groups are chosen in each group.
  std::uint64_t num_groups = 1;
  std::uint64_t expert_intermediate_size = 0;
  // All shared experts fused into one SwiGLU MLP of this width (how the HF
  // implementations of DeepSeek-V2, Qwen2-MoE and Pangu run them); 0 = none.
  std::uint64_t shared_intermediate_size = 0;
  bool shared_expert_gate = false;  // Qwen2-MoE: sigmoid(x W) scales the shared output
  // Layer l is MoE when l >= first_dense_layers and l % layer_frequency == 0
  // (DeepSeek-V2's first_k_dense_replace / moe_layer_freq rule).
  std::uint64_t first_dense_layers = 0;
  std::uint64_t layer_frequency = 1;

  std::uint64_t top_k_per_group() const { return top_k / num_groups; }
  std::uint64_t experts_per_group() const { return num_experts / num_groups; }
};

struct MlaConfig {
  std::uint64_t q_lora_rank = 0;  // 0: q_proj is one dense matrix (V2-Lite)
  std::uint64_t kv_lora_rank = 0;
  std::uint64_t qk_nope_head_dim = 0;
  std::uint64_t qk_rope_head_dim = 0;
  std::uint64_t v_head_dim = 0;
};

// An explicit graph written op by op (the "graph" family); defined in
// families/graph_family.h. Other families leave it null.
struct ExplicitGraph;

struct ModelConfig {
  std::string name;
  std::string family;  // registry name of the generator
  std::string source;  // file it was read from, for messages
  DType dtype = DType::bf16;

  std::uint64_t hidden_size = 0;
  std::uint64_t num_layers = 0;
  std::uint64_t num_heads = 0;
  std::uint64_t num_kv_heads = 0;
  std::uint64_t head_dim = 0;
  std::uint64_t intermediate_size = 0;  // dense MLP width (dense layers)
  std::uint64_t vocab_size = 0;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // bias on q, k and v projections (Qwen)
  NormKind norm = NormKind::rmsnorm;
  AttentionKind attention = AttentionKind::mha;

  std::optional<MoeConfig> moe;
  std::optional<MlaConfig> mla;
  std::shared_ptr<const ExplicitGraph> explicit_graph;

  bool is_moe_layer(std::uint64_t layer) const;
};

const char* attention_kind_name(AttentionKind kind);
const char* norm_kind_name(NormKind kind);

// Phase two for the transformer families: reads the keys declared in the
// model tables (with the `moe:` and `mla:` sections) and checks the
// cross-field rules (heads divisible by KV heads, top_k by groups, ...).
// Errors name the file, line and YAML path.
ModelConfig resolve_transformer_config(const ConfigNode& root);

// The cross-field rules alone, for configs that did not come from YAML.
// `where` prefixes messages (a file name for config.json).
void check_transformer_config(const ModelConfig& config, const std::string& where);

}  // namespace npusim::workloads
