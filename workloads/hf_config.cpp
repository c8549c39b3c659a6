#include "workloads/hf_config.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "workloads/model_family.h"

namespace npusim::workloads {
namespace {

using nlohmann::json;
using u64 = std::uint64_t;

// Typed field access that names the file and the field in every error.
class Fields {
 public:
  Fields(const json& doc, std::string origin) : doc_(doc), origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw InputError(fmt::format("{}: {}: {}", origin_, field, what));
  }

  bool present(const std::string& key) const { return doc_.contains(key) && !doc_[key].is_null(); }

  u64 positive(const std::string& key) const {
    if (!doc_.contains(key)) fail(key, "missing required field (expected a positive integer)");
    return positive_value(key);
  }
  u64 positive_or(const std::string& key, u64 fallback) const {
    return present(key) ? positive_value(key) : fallback;
  }
  u64 count_or(const std::string& key, u64 fallback) const {
    if (!present(key)) return fallback;
    const json& v = doc_[key];
    if (!v.is_number_unsigned()) fail(key, fmt::format("expected a non-negative integer, got {}", v.dump()));
    return v.get<u64>();
  }
  bool bool_or(const std::string& key, bool fallback) const {
    if (!present(key)) return fallback;
    if (!doc_[key].is_boolean()) fail(key, fmt::format("expected true or false, got {}", doc_[key].dump()));
    return doc_[key].get<bool>();
  }
  const json& raw(const std::string& key) const { return doc_[key]; }

 private:
  u64 positive_value(const std::string& key) const {
    const json& v = doc_[key];
    if (!v.is_number_unsigned() || v.get<u64>() == 0) {
      fail(key, fmt::format("expected a positive integer, got {}", v.dump()));
    }
    return v.get<u64>();
  }

  const json& doc_;
  std::string origin_;
};

DType read_dtype(const Fields& f) {
  // Newer transformers write "dtype", older ones "torch_dtype".
  const std::string key = f.present("torch_dtype") ? "torch_dtype" : "dtype";
  if (!f.present(key)) return DType::bf16;
  static const std::map<std::string, DType> kDtypes = {
      {"bfloat16", DType::bf16}, {"float16", DType::fp16}, {"float32", DType::fp32}};
  const json& v = f.raw(key);
  if (v.is_string()) {
    auto it = kDtypes.find(v.get<std::string>());
    if (it != kDtypes.end()) return it->second;
  }
  f.fail(key, fmt::format("expected \"bfloat16\", \"float16\" or \"float32\", got {}", v.dump()));
}

void read_common(const Fields& f, ModelConfig& c) {
  c.dtype = read_dtype(f);
  c.hidden_size = f.positive("hidden_size");
  c.num_layers = f.positive("num_hidden_layers");
  c.num_heads = f.positive("num_attention_heads");
  c.num_kv_heads = f.positive_or("num_key_value_heads", c.num_heads);
  if (!f.present("head_dim") && c.hidden_size % c.num_heads != 0) {
    f.fail("num_attention_heads", fmt::format("expected a divisor of hidden_size {}", c.hidden_size));
  }
  c.head_dim = f.positive_or("head_dim", c.hidden_size / c.num_heads);
  c.vocab_size = f.positive("vocab_size");
  c.tie_word_embeddings = f.bool_or("tie_word_embeddings", false);
  c.attention_bias = f.bool_or("attention_bias", false);
}

void read_llama(const Fields& f, ModelConfig& c) {
  read_common(f, c);
  c.intermediate_size = f.positive("intermediate_size");
}

void read_mixtral(const Fields& f, ModelConfig& c) {
  read_common(f, c);
  MoeConfig m;
  m.num_experts = f.positive("num_local_experts");
  m.top_k = f.positive("num_experts_per_tok");
  m.expert_intermediate_size = f.positive("intermediate_size");
  c.moe = m;
}

void read_qwen2_moe(const Fields& f, ModelConfig& c) {
  read_common(f, c);
  c.attention_bias = true;  // Qwen2 attention always has q/k/v biases; config.json does not say so.
  c.intermediate_size = f.positive_or("intermediate_size", 0);
  if (f.count_or("decoder_sparse_step", 1) != 1) {
    f.fail("decoder_sparse_step", "expected 1 (every layer MoE); other strides are not modelled");
  }
  if (f.present("mlp_only_layers") && !(f.raw("mlp_only_layers").is_array() && f.raw("mlp_only_layers").empty())) {
    f.fail("mlp_only_layers", "expected an empty list; dense-only layers of qwen2_moe are not modelled");
  }
  MoeConfig m;
  m.num_experts = f.positive("num_experts");
  m.top_k = f.positive("num_experts_per_tok");
  m.expert_intermediate_size = f.positive("moe_intermediate_size");
  m.shared_intermediate_size = f.positive("shared_expert_intermediate_size");
  m.shared_expert_gate = true;
  c.moe = m;
}

void read_deepseek_v2(const Fields& f, ModelConfig& c) {
  read_common(f, c);
  c.num_kv_heads = c.num_heads;  // MLA has no KV heads of its own; the latent is shared.
  c.intermediate_size = f.positive("intermediate_size");
  c.attention = AttentionKind::mla;
  MlaConfig a;
  a.q_lora_rank = f.count_or("q_lora_rank", 0);  // null in V2-Lite: q_proj is dense
  a.kv_lora_rank = f.positive("kv_lora_rank");
  a.qk_nope_head_dim = f.positive("qk_nope_head_dim");
  a.qk_rope_head_dim = f.positive("qk_rope_head_dim");
  a.v_head_dim = f.positive("v_head_dim");
  c.mla = a;
  // n_group/topk_group restrict which devices a token's experts may sit on;
  // they do not change how many experts a token visits, so they are not read.
  MoeConfig m;
  m.num_experts = f.positive("n_routed_experts");
  m.top_k = f.positive("num_experts_per_tok");
  m.expert_intermediate_size = f.positive("moe_intermediate_size");
  m.shared_intermediate_size = f.count_or("n_shared_experts", 0) * m.expert_intermediate_size;
  m.first_dense_layers = f.count_or("first_k_dense_replace", 0);
  m.layer_frequency = f.positive_or("moe_layer_freq", 1);
  c.moe = m;
}

void read_pangu_moe(const Fields& f, ModelConfig& c) {
  read_common(f, c);
  c.intermediate_size = f.positive_or("intermediate_size", 0);
  MoeConfig m;
  m.num_experts = f.positive("num_experts");
  m.top_k = f.positive("num_experts_per_tok");
  m.expert_intermediate_size = f.positive("moe_intermediate_size");
  m.shared_intermediate_size = f.count_or("shared_expert_intermediate_size", 0);
  // The published inference code views the router scores as 8 groups
  // (one expert chosen per group); a num_groups field, if present, overrides.
  m.num_groups = f.positive_or("num_groups", 8);
  c.moe = m;
}

struct HfType {
  const char* family;
  void (*read)(const Fields&, ModelConfig&);
};

const std::map<std::string, HfType>& model_types() {
  static const std::map<std::string, HfType> kTypes = {
      {"llama", {"llama", read_llama}},
      {"mistral", {"llama", read_llama}},
      {"mixtral", {"mixtral", read_mixtral}},
      {"qwen2_moe", {"qwen-moe", read_qwen2_moe}},
      {"deepseek_v2", {"deepseek", read_deepseek_v2}},
      {"PanguProMoE", {"pangu-moe", read_pangu_moe}},
  };
  return kTypes;
}

const std::map<std::string, std::string>& architectures() {
  static const std::map<std::string, std::string> kArch = {
      {"LlamaForCausalLM", "llama"},          {"MistralForCausalLM", "mistral"},
      {"MixtralForCausalLM", "mixtral"},      {"Qwen2MoeForCausalLM", "qwen2_moe"},
      {"DeepseekV2ForCausalLM", "deepseek_v2"}, {"PanguProMoEForCausalLM", "PanguProMoE"},
  };
  return kArch;
}

std::string model_name(const std::string& origin) {
  const std::filesystem::path p(origin);
  if (p.filename() == "config.json" && p.has_parent_path()) return p.parent_path().filename().string();
  std::string stem = p.stem().string();  // llama-2-7b.config.json -> llama-2-7b.config
  const std::string suffix = ".config";
  if (stem.size() > suffix.size() && stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0) {
    stem.resize(stem.size() - suffix.size());
  }
  return stem;
}

}  // namespace

ModelConfig parse_hf_config(const std::string& text, const std::string& origin) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw InputError(fmt::format("{}: JSON syntax error: {}", origin, e.what()));
  }
  if (!doc.is_object()) throw InputError(fmt::format("{}: (top level): expected a JSON object", origin));
  const Fields f(doc, origin);

  std::string type;
  if (doc.contains("model_type")) {
    if (!doc["model_type"].is_string()) f.fail("model_type", "expected a string");
    type = doc["model_type"].get<std::string>();
  } else if (doc.contains("architectures") && doc["architectures"].is_array()) {
    for (const auto& a : doc["architectures"]) {
      auto it = a.is_string() ? architectures().find(a.get<std::string>()) : architectures().end();
      if (it != architectures().end()) type = it->second;
    }
    if (type.empty()) f.fail("architectures", "no architecture this simulator models");
  } else {
    f.fail("model_type", "missing required field (or give \"architectures\")");
  }
  auto it = model_types().find(type);
  if (it == model_types().end()) {
    std::string known;
    for (const auto& [name, _] : model_types()) known += (known.empty() ? "" : ", ") + name;
    f.fail("model_type", fmt::format("expected one of {}, got \"{}\"", known, type));
  }
  ModelConfig c;
  c.name = model_name(origin);
  c.source = origin;
  c.family = it->second.family;
  it->second.read(f, c);
  make_family(c.family, origin + ": model_type")->validate(c, origin);
  return c;
}

ModelConfig load_hf_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_hf_config(ss.str(), path);
}

}  // namespace npusim::workloads
