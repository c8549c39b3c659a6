#include "workloads/model_config.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/params.h"

namespace npusim::workloads {
namespace {

const ParamTable kModelTable(
    "model", "A transformer model's architecture (configs/models/*.yaml).",
    {
        {"name", "", "", "model name used in reports"},
        {"family", "", "", "generator: llama | mixtral | deepseek | qwen-moe | pangu-moe | graph"},
        {"dtype", "bf16", "", "weight and activation dtype of the published checkpoint"},
        {"hidden_size", "", "elements", "width of the residual stream"},
        {"num_layers", "", "layers", "decoder layers"},
        {"num_heads", "", "heads", "query heads"},
        {"num_kv_heads", "auto", "heads", "key/value heads (GQA/MQA); auto = num_heads"},
        {"head_dim", "auto", "elements", "per-head width; auto = hidden_size / num_heads"},
        {"intermediate_size", "0", "elements", "dense MLP width; 0 when every layer is MoE"},
        {"vocab_size", "", "tokens", "vocabulary size (embedding and lm_head rows)"},
        {"tie_word_embeddings", "false", "", "lm_head shares the embedding table"},
        {"attention_bias", "false", "", "q/k/v projections carry a bias"},
        {"norm", "rmsnorm", "", "rmsnorm | layernorm"},
        {"attention", "mha", "", "mha (covers GQA/MQA) | mla (needs the mla section)"},
        {"moe", "null", "", "mixture-of-experts section; absent for dense models"},
        {"mla", "null", "", "multi-head latent attention section"},
    });
const ParamTableRegistration kModelTableReg(kModelTable);

const ParamTable kMoeTable(
    "model.moe", "Routed and shared experts of the MoE layers.",
    {
        {"num_experts", "", "experts", "routed experts per MoE layer"},
        {"top_k", "", "experts", "routed experts per token, summed over groups"},
        {"num_groups", "1", "groups", "equal expert groups, top_k/num_groups chosen in each (Pangu MoGE)"},
        {"expert_intermediate_size", "", "elements", "MLP width of one routed expert"},
        {"shared_intermediate_size", "0", "elements", "width of all shared experts fused into one MLP; 0 = none"},
        {"shared_expert_gate", "false", "", "a sigmoid gate scales the shared expert output (Qwen2-MoE)"},
        {"first_dense_layers", "0", "layers", "leading layers that use the dense MLP (first_k_dense_replace)"},
        {"layer_frequency", "1", "layers", "layer l >= first_dense_layers is MoE when l % layer_frequency == 0"},
    });
const ParamTableRegistration kMoeTableReg(kMoeTable);

const ParamTable kMlaTable(
    "model.mla", "Multi-head latent attention ranks (DeepSeek-V2).",
    {
        {"q_lora_rank", "0", "elements", "query low-rank width; 0 = q_proj is one dense matrix"},
        {"kv_lora_rank", "", "elements", "width of the cached latent c_kv"},
        {"qk_nope_head_dim", "", "elements", "per-head query/key width without rotary part"},
        {"qk_rope_head_dim", "", "elements", "rotary part of query/key, shared key across heads"},
        {"v_head_dim", "", "elements", "per-head value width"},
    });
const ParamTableRegistration kMlaTableReg(kMlaTable);

DType read_dtype(const ConfigNode& node) {
  const auto t = dtype_from_name(node.as_string());
  if (!t) node.fail(std::string("a dtype (") + dtype_choices() + ")");
  return *t;
}

std::uint64_t positive_or_auto(const ConfigNode& node, std::uint64_t fallback) {
  if (node.is_scalar() && node.raw() == "auto") return fallback;
  return node.as_positive_int();
}

}  // namespace

bool ModelConfig::is_moe_layer(std::uint64_t layer) const {
  if (!moe) return false;
  return layer >= moe->first_dense_layers && layer % moe->layer_frequency == 0;
}

const char* attention_kind_name(AttentionKind kind) { return kind == AttentionKind::mla ? "mla" : "mha"; }
const char* norm_kind_name(NormKind kind) { return kind == NormKind::layernorm ? "layernorm" : "rmsnorm"; }

ModelConfig resolve_transformer_config(const ConfigNode& root) {
  const ParamReader r(root, kModelTable);
  ModelConfig c;
  c.source = root.file();
  c.name = r["name"].as_string();
  c.family = r["family"].as_string();
  c.dtype = read_dtype(r["dtype"]);
  c.hidden_size = r["hidden_size"].as_positive_int();
  c.num_layers = r["num_layers"].as_positive_int();
  c.num_heads = r["num_heads"].as_positive_int();
  c.num_kv_heads = positive_or_auto(r["num_kv_heads"], c.num_heads);
  if (c.hidden_size % c.num_heads != 0 && !(r.given("head_dim"))) {
    r["num_heads"].fail(fmt::format("a divisor of hidden_size {} (or give head_dim)", c.hidden_size));
  }
  c.head_dim = positive_or_auto(r["head_dim"], c.hidden_size / c.num_heads);
  c.intermediate_size = r["intermediate_size"].as_count();
  c.vocab_size = r["vocab_size"].as_positive_int();
  c.tie_word_embeddings = r["tie_word_embeddings"].as_bool();
  c.attention_bias = r["attention_bias"].as_bool();
  c.norm = r["norm"].as_choice({"rmsnorm", "layernorm"}) == "layernorm" ? NormKind::layernorm : NormKind::rmsnorm;
  c.attention = r["attention"].as_choice({"mha", "mla"}) == "mla" ? AttentionKind::mla : AttentionKind::mha;

  if (c.num_heads % c.num_kv_heads != 0) {
    r["num_kv_heads"].fail(fmt::format("a divisor of num_heads {}", c.num_heads));
  }

  const ConfigNode moe_node = r["moe"];
  if (!moe_node.is_null()) {
    const ParamReader m(moe_node, kMoeTable);
    MoeConfig moe;
    moe.num_experts = m["num_experts"].as_positive_int();
    moe.top_k = m["top_k"].as_positive_int();
    moe.num_groups = m["num_groups"].as_positive_int();
    moe.expert_intermediate_size = m["expert_intermediate_size"].as_positive_int();
    moe.shared_intermediate_size = m["shared_intermediate_size"].as_count();
    moe.shared_expert_gate = m["shared_expert_gate"].as_bool();
    moe.first_dense_layers = m["first_dense_layers"].as_count();
    moe.layer_frequency = m["layer_frequency"].as_positive_int();
    if (moe.num_experts % moe.num_groups != 0) {
      m["num_groups"].fail(fmt::format("a divisor of num_experts {}", moe.num_experts));
    }
    if (moe.top_k % moe.num_groups != 0) {
      m["top_k"].fail(fmt::format("a multiple of num_groups {} (the same count is chosen in every group)",
                                  moe.num_groups));
    }
    if (moe.top_k_per_group() > moe.experts_per_group()) {
      m["top_k"].fail(fmt::format("at most {} (experts per group)", moe.experts_per_group()));
    }
    if (moe.shared_expert_gate && moe.shared_intermediate_size == 0) {
      m["shared_expert_gate"].fail("false when there is no shared expert (shared_intermediate_size is 0)");
    }
    c.moe = moe;
  }
  const ConfigNode mla_node = r["mla"];
  if (!mla_node.is_null()) {
    const ParamReader a(mla_node, kMlaTable);
    MlaConfig mla;
    mla.q_lora_rank = a["q_lora_rank"].as_count();
    mla.kv_lora_rank = a["kv_lora_rank"].as_positive_int();
    mla.qk_nope_head_dim = a["qk_nope_head_dim"].as_positive_int();
    mla.qk_rope_head_dim = a["qk_rope_head_dim"].as_positive_int();
    mla.v_head_dim = a["v_head_dim"].as_positive_int();
    c.mla = mla;
  }
  if (c.attention == AttentionKind::mla && !c.mla) r["attention"].fail("mha, or an mla section next to it");
  if (c.attention == AttentionKind::mha && c.mla) r["mla"].fail("nothing unless attention is mla");
  const bool needs_dense = !c.moe || c.moe->first_dense_layers > 0 || c.moe->layer_frequency > 1;
  if (needs_dense && c.intermediate_size == 0) {
    r["intermediate_size"].fail("a positive integer (some layers use the dense MLP)");
  }
  return c;
}

void check_transformer_config(const ModelConfig& c, const std::string& where) {
  auto fail = [&](const std::string& field, const std::string& what) {
    throw InputError(fmt::format("{}: {}: {}", where, field, what));
  };
  if (c.hidden_size == 0) fail("hidden_size", "expected a positive integer");
  if (c.num_layers == 0) fail("num_layers", "expected a positive integer");
  if (c.num_heads == 0) fail("num_heads", "expected a positive integer");
  if (c.num_kv_heads == 0 || c.num_heads % c.num_kv_heads != 0) {
    fail("num_kv_heads", fmt::format("expected a divisor of num_heads {}, got {}", c.num_heads, c.num_kv_heads));
  }
  if (c.head_dim == 0) fail("head_dim", "expected a positive integer");
  if (c.vocab_size == 0) fail("vocab_size", "expected a positive integer");
  if (c.moe) {
    const MoeConfig& m = *c.moe;
    if (m.num_experts == 0 || m.top_k == 0 || m.expert_intermediate_size == 0) {
      fail("moe", "expected positive num_experts, top_k and expert_intermediate_size");
    }
    if (m.num_groups == 0 || m.num_experts % m.num_groups != 0 || m.top_k % m.num_groups != 0) {
      fail("moe.num_groups", fmt::format("expected a divisor of num_experts {} and top_k {}, got {}", m.num_experts,
                                         m.top_k, m.num_groups));
    }
    if (m.top_k_per_group() > m.experts_per_group()) {
      fail("moe.top_k", fmt::format("expected at most {} experts per group", m.experts_per_group()));
    }
    if (m.layer_frequency == 0) fail("moe.layer_frequency", "expected a positive integer");
  }
  const bool needs_dense = !c.moe || c.moe->first_dense_layers > 0 || c.moe->layer_frequency > 1;
  if (needs_dense && c.intermediate_size == 0) fail("intermediate_size", "expected a positive integer");
  if ((c.attention == AttentionKind::mla) != c.mla.has_value()) fail("mla", "MLA ranks must come with mla attention");
}

}  // namespace npusim::workloads
