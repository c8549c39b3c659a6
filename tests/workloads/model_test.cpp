// Model configs, generators and their closed forms.
#include <chrono>
#include <cstdio>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "common/error.h"
#include "support/test_paths.h"
#include "workloads/model_family.h"
#include "workloads/model_math.h"
#include "workloads/summary.h"
#include "workloads/workload.h"

namespace npusim::workloads {
namespace {

ModelConfig model(const std::string& name) { return load_model_file(test::source_path("configs/models/" + name + ".yaml")); }

WorkloadParams decode(std::uint64_t batch, std::uint64_t context, std::uint64_t steps = 1) {
  WorkloadParams p;
  p.phase = Phase::decode;
  p.batch = batch;
  p.seq = context;
  p.steps = steps;
  return p;
}

WorkloadParams prefill(std::uint64_t batch, std::uint64_t seq) {
  WorkloadParams p;
  p.phase = Phase::prefill;
  p.batch = batch;
  p.seq = seq;
  return p;
}

void expect_within(double value, double published, double tolerance, const std::string& what) {
  EXPECT_NEAR(value / published, 1.0, tolerance) << what << ": " << value << " vs published " << published;
}

const char* kAllModels[] = {"llama-2-7b",       "llama-2-70b",       "llama-3-8b",   "mistral-7b",
                            "mixtral-8x7b",     "deepseek-v2-lite",  "qwen1.5-moe-a2.7b", "pangu-pro-moe"};

// Published totals, within 1%.
TEST(ModelParams, DenseModelsMatchPublishedTotals) {
  expect_within(count_parameters(model("llama-2-7b")).total, 6.74e9, 0.01, "Llama-2-7B");
  expect_within(count_parameters(model("llama-2-70b")).total, 69.0e9, 0.01, "Llama-2-70B");
  expect_within(count_parameters(model("llama-3-8b")).total, 8.03e9, 0.01, "Llama-3-8B");
  expect_within(count_parameters(model("mistral-7b")).total, 7.24e9, 0.01, "Mistral-7B");
}

TEST(ModelParams, MixtralTotalAndActive) {
  const auto p = count_parameters(model("mixtral-8x7b"));
  expect_within(p.total, 46.7e9, 0.01, "Mixtral total");
  // Mistral's 12.9B active includes both embedding matrices.
  expect_within(p.active, 12.9e9, 0.01, "Mixtral active");
}

TEST(ModelParams, DeepseekV2LiteTotalAndActive) {
  const auto p = count_parameters(model("deepseek-v2-lite"));
  expect_within(p.total, 15.7e9, 0.01, "DeepSeek-V2-Lite total");
  // DeepSeek quotes 2.4B active without the embedding table; our active
  // count keeps it, and the two agree once it is taken out.
  expect_within(p.active - p.embedding, 2.4e9, 0.03, "DeepSeek-V2-Lite active without embedding");
  // Our own closed form: non-expert + 6 routed + 2 shared experts per MoE layer.
  const std::uint64_t h = 2048, per_expert = 3 * h * 1408;
  const std::uint64_t attn = h * 16 * 192 + h * (512 + 64) + 512 + 512 * 16 * 256 + 16 * 128 * h;
  const std::uint64_t dense_layer = 2 * h + attn + 3 * h * 10944;
  const std::uint64_t moe_layer = 2 * h + attn + h * 64 + (6 + 2) * per_expert;
  const std::uint64_t active = 2 * 102400 * h + h + dense_layer + 26 * moe_layer;
  EXPECT_EQ(p.active, active);
}

TEST(ModelParams, QwenMoeTotalAndActive) {
  const auto p = count_parameters(model("qwen1.5-moe-a2.7b"));
  expect_within(p.total, 14.3e9, 0.01, "Qwen1.5-MoE total");
  // Qwen's 2.7B activated includes both embedding matrices; 2.0B without.
  expect_within(p.active, 2.7e9, 0.01, "Qwen1.5-MoE active");
  expect_within(p.active - p.embedding - p.lm_head, 2.0e9, 0.05, "Qwen1.5-MoE active non-embedding");
}

TEST(ModelParams, PanguProMoeTotalAndActive) {
  const auto p = count_parameters(model("pangu-pro-moe"));
  expect_within(p.total, 71.99e9, 0.01, "Pangu Pro MoE total");
  expect_within(p.active, 16.5e9, 0.01, "Pangu Pro MoE active");
}

// The generated graph holds exactly the closed-form parameters.
TEST(ModelGraph, GraphParametersEqualClosedForm) {
  for (const char* name : kAllModels) {
    const ModelConfig m = model(name);
    const Workload w = build_workload(m, decode(1, 16));
    const auto p = count_parameters(m);
    EXPECT_EQ(parameter_count(w.graphs[0]), p.total) << name;
    EXPECT_EQ(active_parameter_count(w.graphs[0]), p.active) << name;
  }
}

// FLOPs per decoded token = 2 x matmul_active + attention over context+1 keys
// (model_math.h states the terms); the graph must sum to exactly that.
TEST(ModelFlops, DecodeGraphMatchesClosedForm) {
  for (const char* name : kAllModels) {
    const ModelConfig m = model(name);
    for (std::uint64_t batch : {1, 3}) {
      const Workload w = build_workload(m, decode(batch, 100, 2));
      EXPECT_EQ(total_flops(w.graphs[0]), batch * decode_flops_per_token(m, 100)) << name;
      EXPECT_EQ(total_flops(w.graphs[1]), batch * decode_flops_per_token(m, 101)) << name;
    }
  }
}

TEST(ModelFlops, DecodeFormulaForLlama2_7B) {
  // Written out: 2 x (32 x (4 x 4096^2 + 3 x 4096 x 11008) + 32000 x 4096)
  //            + 32 layers x 4 x 32 heads x 128 x (L + 1).
  const ModelConfig m = model("llama-2-7b");
  const std::uint64_t L = 511;
  const std::uint64_t linear = 32 * (4ull * 4096 * 4096 + 3ull * 4096 * 11008) + 32000ull * 4096;
  EXPECT_EQ(decode_flops_per_token(m, L), 2 * linear + 32ull * 4 * 32 * 128 * (L + 1));
}

TEST(ModelFlops, PrefillGraphMatchesClosedForm) {
  for (const char* name : kAllModels) {
    const ModelConfig m = model(name);
    const Workload w = build_workload(m, prefill(2, 64));
    EXPECT_EQ(total_flops(w.graphs[0]), prefill_flops(m, 2, 64)) << name;
  }
}

// Decode at context L reads exactly L KV entries per layer and KV-head
// group, and appends exactly one.
TEST(ModelKvCache, DecodeReadsExactlyContextEntries) {
  const ModelConfig m = model("llama-2-70b");
  const std::uint64_t batch = 2, L = 1000;
  const Workload w = build_workload(m, decode(batch, L, 3));
  for (std::uint64_t s = 0; s < 3; ++s) {
    const Graph& g = w.graphs[s];
    const std::uint64_t ctx = L + s;
    EXPECT_EQ(g.context.context, ctx);
    for (int layer : {0, 41, 79}) {
      const std::string p = "layers." + std::to_string(layer) + ".self_attn.";
      const Op& score = g.op(*g.find_op(p + "qk_matmul"));
      const Op& pv = g.op(*g.find_op(p + "pv_matmul"));
      const Bytes entry = 8 /*kv heads*/ * 128 * 2 /*fp16*/;
      EXPECT_EQ(score.bytes_read.kv_cache, batch * ctx * entry);  // K: L entries per KV head
      EXPECT_EQ(pv.bytes_read.kv_cache, batch * ctx * entry);     // V: L entries per KV head
      EXPECT_EQ(score.matmul->batch, batch * 8);                  // one batch entry per KV head group
      EXPECT_EQ(score.matmul->m, 8u);                             // the group's 8 query heads share it
      EXPECT_EQ(score.matmul->n, ctx + 1);
      const Op& write = g.op(*g.find_op(p + "kv_cache_write"));
      EXPECT_EQ(write.bytes_written.kv_cache, 2 * batch * entry);  // one new K and V entry
    }
  }
}

TEST(ModelKvCache, MlaCachesTheLatentOnce) {
  const ModelConfig m = model("deepseek-v2-lite");
  const Workload w = build_workload(m, decode(1, 300));
  const Graph& g = w.graphs[0];
  const Op& score = g.op(*g.find_op("layers.5.self_attn.qk_matmul"));
  const Op& pv = g.op(*g.find_op("layers.5.self_attn.pv_matmul"));
  EXPECT_EQ(score.bytes_read.kv_cache, 300u * (512 + 64) * 2);
  EXPECT_EQ(pv.bytes_read.kv_cache, 300u * 512 * 2);
  EXPECT_EQ(score.matmul->batch, 1u);   // one latent shared by all heads
  EXPECT_EQ(score.matmul->m, 16u);      // 16 query heads
  EXPECT_EQ(score.matmul->k, 512u + 64);
}

TEST(ModelNames, OpsFollowHuggingFaceNames) {
  const std::regex layer_op(
      R"(layers\.\d+\.(input_layernorm|post_attention_layernorm|attn_residual_add|mlp_residual_add|)"
      R"(self_attn\.(q_proj|k_proj|v_proj|o_proj|q_a_proj|q_a_layernorm|q_b_proj|kv_a_proj_with_mqa|kv_a_layernorm|)"
      R"(kv_b_proj\.uk|kv_b_proj\.uv|rotary_emb|kv_cache_write|qk_matmul|softmax|pv_matmul)|)"
      R"(mlp\.(gate_proj|up_proj|act_fn|down_proj|gate|topk|dispatch|combine|shared_expert_gate|)"
      R"(shared_expert_scale|shared_add|experts\.\d+\.(gate_proj|up_proj|act_fn|down_proj)|)"
      R"(shared_experts\.(gate_proj|up_proj|act_fn|down_proj))))");
  const std::regex top_op(R"(embed_tokens|norm|lm_head|last_token)");
  for (const char* name : kAllModels) {
    const Workload w = build_workload(model(name), prefill(1, 8));
    const Graph& g = w.graphs[0];
    for (auto [it, end] = boost::vertices(g.adjacency()); it != end; ++it) {
      const std::string& op = g.op(*it).name;
      EXPECT_TRUE(std::regex_match(op, layer_op) || std::regex_match(op, top_op)) << name << ": " << op;
    }
  }
  const Workload w = build_workload(model("mixtral-8x7b"), decode(1, 4));
  const Graph& g = w.graphs[0];
  for (const char* op : {"layers.3.mlp.experts.7.down_proj", "layers.31.self_attn.q_proj", "lm_head",
                         "embed_tokens", "layers.0.mlp.gate"}) {
    EXPECT_TRUE(g.find_op(op).has_value()) << op;
  }
  EXPECT_TRUE(g.find_tensor("layers.3.mlp.experts.7.down_proj.weight").has_value());
}

TEST(ModelGraph, StructureOfEachFamily) {
  const Graph ds = build_workload(model("deepseek-v2-lite"), decode(1, 8)).graphs[0];
  EXPECT_TRUE(ds.find_op("layers.0.mlp.down_proj"));            // first layer dense
  EXPECT_FALSE(ds.find_op("layers.0.mlp.gate"));
  EXPECT_TRUE(ds.find_op("layers.1.mlp.experts.63.up_proj"));    // then 64 routed experts
  EXPECT_TRUE(ds.find_op("layers.1.mlp.shared_experts.down_proj"));
  EXPECT_EQ(ds.op(*ds.find_op("layers.1.mlp.shared_experts.up_proj")).matmul->n, 2816u);
  const Graph qw = build_workload(model("qwen1.5-moe-a2.7b"), decode(1, 8)).graphs[0];
  EXPECT_TRUE(qw.find_op("layers.0.mlp.shared_expert_gate"));
  EXPECT_TRUE(qw.find_tensor("layers.0.self_attn.q_proj.bias"));
  const Graph pg = build_workload(model("pangu-pro-moe"), decode(16, 8)).graphs[0];
  // Grouped experts: every group of 8 receives exactly tokens x 1.
  for (int group = 0; group < 8; ++group) {
    std::uint64_t tokens = 0;
    for (int e = group * 8; e < group * 8 + 8; ++e) {
      tokens += pg.op(*pg.find_op("layers.10.mlp.experts." + std::to_string(e) + ".gate_proj")).matmul->m;
    }
    EXPECT_EQ(tokens, 16u) << "group " << group;
  }
  // Topological order puts every op after its producers.
  std::vector<std::size_t> position(pg.num_ops());
  const auto order = pg.topological_order();
  for (std::size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
  for (auto [it, end] = boost::edges(pg.adjacency()); it != end; ++it) {
    EXPECT_LT(position[boost::source(*it, pg.adjacency())], position[boost::target(*it, pg.adjacency())]);
  }
}

TEST(ModelGraph, SeventyBillionBuildsFast) {
  const ModelConfig m = model("llama-2-70b");
  const auto start = std::chrono::steady_clock::now();
  const Workload w = build_workload(m, prefill(8, 4096));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 0.25);
  EXPECT_LT(w.graphs[0].num_ops(), 80u * 20 + 10);  // linear in layers, not in tokens or heads
  const ModelConfig pangu = model("pangu-pro-moe");
  const auto start2 = std::chrono::steady_clock::now();
  build_workload(pangu, decode(64, 2048));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start2).count(), 0.5);
}

std::string expect_input_error(const std::string& relative) {
  try {
    load_model_file(test::source_path(relative));
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << relative << " was accepted";
  return "";
}

TEST(ModelConfigErrors, MalformedYamlNamesFileLineAndField) {
  std::string msg = expect_input_error("tests/data/models/bad-heads.yaml");
  EXPECT_NE(msg.find("bad-heads.yaml:6: num_kv_heads"), std::string::npos) << msg;
  EXPECT_NE(msg.find("divisor of num_heads 32"), std::string::npos) << msg;
  msg = expect_input_error("tests/data/models/bad-key.yaml");
  EXPECT_NE(msg.find("bad-key.yaml:6: intermediate_sise"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'intermediate_size'"), std::string::npos) << msg;
  msg = expect_input_error("tests/data/models/bad-value.yaml");
  EXPECT_NE(msg.find("bad-value.yaml:9: moe.top_k: expected a positive integer, got \"two\""), std::string::npos)
      << msg;
  msg = expect_input_error("tests/data/models/bad-family.yaml");
  EXPECT_NE(msg.find("bad-family.yaml:2: family: expected one of"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"lama\""), std::string::npos) << msg;
}

TEST(ModelConfigErrors, FamilyRejectsWrongStructure) {
  const std::string text = "name: x\nfamily: pangu-moe\nhidden_size: 64\nnum_layers: 1\nnum_heads: 4\n"
                           "vocab_size: 10\nmoe:\n  num_experts: 8\n  top_k: 2\n  expert_intermediate_size: 8\n";
  const ConfigNode root = ConfigNode::load_string(text, "inline.yaml");
  try {
    make_family("pangu-moe", "inline.yaml")->resolve(root);
    FAIL() << "accepted ungrouped experts";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("inline.yaml: moe.num_groups"), std::string::npos) << e.what();
  }
}

// Prints what the code computes, for the record.
TEST(ModelSummary, PrintTable) {
  std::printf("%-20s %16s %16s %18s %18s\n", "model", "parameters", "active", "flops/token@L=0",
              "flops/token@L=4095");
  for (const char* name : kAllModels) {
    const ModelConfig m = model(name);
    const auto p = count_parameters(m);
    std::printf("%-20s %16llu %16llu %18llu %18llu\n", name, static_cast<unsigned long long>(p.total),
                static_cast<unsigned long long>(p.active),
                static_cast<unsigned long long>(decode_flops_per_token(m, 0)),
                static_cast<unsigned long long>(decode_flops_per_token(m, 4095)));
  }
}

}  // namespace
}  // namespace npusim::workloads
