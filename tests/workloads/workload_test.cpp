// Workloads: files in, step graphs out.
#include <string>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/registry.h"
#include "support/test_paths.h"
#include "workloads/families/graph_family.h"
#include "workloads/model_family.h"
#include "workloads/summary.h"
#include "workloads/workload.h"

namespace npusim::workloads {
namespace {

TEST(Workload, MatmulYamlThroughTheSamePath) {
  const Workload w = build_workload_from_file(test::source_path("configs/workloads/matmul.yaml"), WorkloadParams{});
  ASSERT_EQ(w.graphs.size(), 1u);
  const Graph& g = w.graphs[0];
  EXPECT_EQ(w.model.family, "graph");
  ASSERT_EQ(g.num_ops(), 1u);
  const Op& op = g.op(*g.find_op("matmul"));
  EXPECT_EQ(op.kind, OpKind::MatMul);
  EXPECT_EQ(op.flops, 2ull * 1024 * 4096 * 4096);
  EXPECT_EQ(op.bytes_read.weight, 4096ull * 4096 * 2);
  EXPECT_EQ(op.bytes_read.activation, 1024ull * 4096 * 2);
  EXPECT_EQ(op.bytes_written.activation, 1024ull * 4096 * 2);
}

TEST(Workload, MlpYamlChainsOps) {
  const Workload w = build_workload_from_file(test::source_path("configs/workloads/mlp.yaml"), WorkloadParams{});
  const Graph& g = w.graphs[0];
  ASSERT_EQ(g.num_ops(), 3u);
  EXPECT_EQ(g.num_edges(), 2u);
  const auto order = g.topological_order();
  EXPECT_EQ(g.op(order[0]).name, "mlp.up_proj");
  EXPECT_EQ(g.op(order[1]).name, "mlp.act_fn");
  EXPECT_EQ(g.op(order[2]).name, "mlp.down_proj");
  EXPECT_EQ(summary_json(g)["parameters"], 2ull * 4096 * 11008);
}

TEST(Workload, GraphFamilyErrorsNameFileAndField) {
  const std::string text =
      "family: graph\nname: x\nops:\n  - name: a\n    kind: matmul\n    m: 4\n    k: 8\n    n: 8\n"
      "  - name: b\n    kind: matmul\n    inputs: [a]\n    m: 4\n    k: 16\n    n: 8\n";
  const ConfigNode root = ConfigNode::load_string(text, "g.yaml");
  try {
    make_family("graph", "g.yaml")->resolve(root);
    FAIL() << "accepted a mismatched input";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("g.yaml:11: ops[1].inputs: expected a first input with batch x m x k = 64"),
              std::string::npos)
        << e.what();
  }
  const ConfigNode bad_kind = ConfigNode::load_string("family: graph\nname: x\nops:\n  - {name: a, kind: conv}\n", "k.yaml");
  EXPECT_THROW(make_family("graph", "k.yaml")->resolve(bad_kind), InputError);
}

TEST(Workload, GraphFamilyActivationFunction) {
  const std::string ops = "family: graph\nname: x\nops:\n  - {name: a, kind: matmul, m: 4, k: 8, n: 8}\n";
  auto resolve = [&](const std::string& extra) {
    return make_family("graph", "f.yaml")->resolve(ConfigNode::load_string(ops + extra, "f.yaml"));
  };
  const ModelConfig relu = resolve("  - {name: r, kind: activation, inputs: [a], function: relu}\n");
  EXPECT_EQ(relu.explicit_graph->ops.at(1).activation, ActivationFunction::relu);
  const ModelConfig plain = resolve("  - {name: r, kind: activation, inputs: [a]}\n");
  EXPECT_EQ(plain.explicit_graph->ops.at(1).activation, ActivationFunction::unspecified);
  const Workload w = build_workload(relu, WorkloadParams{});
  EXPECT_EQ(w.graphs[0].op(*w.graphs[0].find_op("r")).activation, ActivationFunction::relu);
  try {
    resolve("  - {name: r, kind: activation, inputs: [a], function: tanh}\n");
    FAIL() << "accepted function: tanh";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("f.yaml:5: ops[1].function: expected relu, gelu or silu"), std::string::npos)
        << e.what();
  }
  try {
    resolve("  - {name: b, kind: matmul, inputs: [a], m: 4, k: 8, n: 8, function: relu}\n");
    FAIL() << "accepted a function on a matmul";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("ops[1].function"), std::string::npos) << e.what();
  }
}

TEST(Workload, DecodeStepsGrowTheCacheByOne) {
  WorkloadParams p;
  p.phase = Phase::decode;
  p.batch = 2;
  p.seq = 50;
  p.steps = 4;
  const Workload w = build_workload_from_file(test::source_path("configs/models/llama-3-8b.yaml"), p);
  ASSERT_EQ(w.graphs.size(), 4u);
  for (std::uint64_t s = 0; s < 4; ++s) {
    const Graph& g = w.graphs[s];
    EXPECT_EQ(g.context.step, s);
    EXPECT_EQ(g.context.context, 50 + s);
    EXPECT_EQ(g.context.new_tokens, 1u);
    const Tensor& k = g.tensor(*g.find_tensor("layers.0.self_attn.k_cache"));
    EXPECT_EQ(k.shape, (std::vector<std::uint64_t>{2, 8, 50 + s, 128}));
    EXPECT_EQ(k.role, TensorRole::kv_cache);
  }
}

TEST(Workload, PrefillHasNoCacheReadAndCausalAttention) {
  WorkloadParams p;
  p.seq = 32;
  const Workload w = build_workload_from_file(test::source_path("configs/models/llama-2-7b.yaml"), p);
  const Graph& g = w.graphs[0];
  const auto s = summarize(g);
  EXPECT_EQ(s.bytes_read.kv_cache, 0u);
  EXPECT_EQ(s.bytes_written.kv_cache, 32ull * 2 * 4096 * 2 * 32);  // K and V of 32 tokens, 32 layers, fp16
  EXPECT_TRUE(g.op(*g.find_op("layers.0.self_attn.qk_matmul")).causal);
  EXPECT_EQ(g.op(*g.find_op("lm_head")).matmul->m, 1u);  // last token only
}

TEST(Workload, PrecisionOverridesReachTensors) {
  WorkloadParams p;
  p.phase = Phase::decode;
  p.seq = 8;
  p.weight_dtype = DType::int8;
  p.kv_dtype = DType::int4;
  const Workload w = build_workload_from_file(test::source_path("configs/models/llama-2-7b.yaml"), p);
  const Graph& g = w.graphs[0];
  const Tensor& wq = g.tensor(*g.find_tensor("layers.0.self_attn.q_proj.weight"));
  EXPECT_EQ(wq.dtype, DType::int8);
  EXPECT_EQ(wq.weight_format.precision, DType::int8);
  EXPECT_EQ(g.tensor(*g.find_tensor("layers.0.self_attn.k_cache")).kv_format.precision, DType::int4);
  EXPECT_EQ(g.tensor(*g.find_tensor("layers.0.self_attn.q_proj:out")).dtype, DType::fp16);  // model dtype
}

TEST(Workload, ParamsResolveFromYaml) {
  const ConfigNode node = ConfigNode::load_string(
      "phase: decode\nbatch: 8\nseq: 1024\nsteps: 16\nkv_dtype: int8\nrouter: {name: zipf, zipf_s: 1.5, seed: 3}\n"
      "routing_trace: traces/r.json\n",
      "/cfg/w.yaml");
  const WorkloadParams p = resolve_workload_params(node);
  EXPECT_EQ(p.phase, Phase::decode);
  EXPECT_EQ(p.batch, 8u);
  EXPECT_EQ(p.seq, 1024u);
  EXPECT_EQ(p.steps, 16u);
  EXPECT_FALSE(p.weight_dtype.has_value());
  EXPECT_EQ(p.kv_dtype, DType::int8);
  EXPECT_EQ(p.router.name, "zipf");
  EXPECT_EQ(p.router.zipf_s, 1.5);
  EXPECT_EQ(p.router.seed, 3u);
  EXPECT_EQ(p.routing_trace, "/cfg/traces/r.json");
  const ConfigNode bad = ConfigNode::load_string("phase: prefill\nsteps: 4\n", "w.yaml");
  try {
    resolve_workload_params(bad);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("w.yaml:2: steps: expected 1 for prefill"), std::string::npos) << e.what();
  }
}

TEST(Workload, EveryRegisteredFamilyBuilds) {
  // A tiny config of each family, so the test instantiates every name.
  const std::string base = "hidden_size: 64\nnum_layers: 3\nnum_heads: 4\nnum_kv_heads: 2\nvocab_size: 100\n";
  const std::map<std::string, std::string> bodies = {
      {"llama", base + "intermediate_size: 96\n"},
      {"mixtral", base + "moe: {num_experts: 4, top_k: 2, expert_intermediate_size: 32}\n"},
      {"deepseek", "hidden_size: 64\nnum_layers: 3\nnum_heads: 4\nvocab_size: 100\nintermediate_size: 96\n"
                   "attention: mla\nmla: {q_lora_rank: 32, kv_lora_rank: 16, qk_nope_head_dim: 8, "
                   "qk_rope_head_dim: 4, v_head_dim: 8}\nmoe: {num_experts: 8, top_k: 2, "
                   "expert_intermediate_size: 16, shared_intermediate_size: 32, first_dense_layers: 1}\n"},
      {"qwen-moe", base + "attention_bias: true\nmoe: {num_experts: 6, top_k: 2, expert_intermediate_size: 16, "
                          "shared_intermediate_size: 64, shared_expert_gate: true}\n"},
      {"pangu-moe", base + "moe: {num_experts: 8, top_k: 4, num_groups: 4, expert_intermediate_size: 16, "
                           "shared_intermediate_size: 32}\n"},
      {"graph", "ops:\n  - {name: a, kind: matmul, m: 2, k: 2, n: 2}\n"},
  };
  for (const std::string& name : ModelFamilyRegistry::instance().names()) {
    ASSERT_TRUE(bodies.count(name)) << "no tiny config for family " << name;
    const ConfigNode root = ConfigNode::load_string("name: t\nfamily: " + name + "\n" + bodies.at(name), name);
    const auto family = make_family(name, name);
    const ModelConfig c = family->resolve(root);
    for (Phase phase : {Phase::prefill, Phase::decode}) {
      WorkloadParams p;
      p.phase = phase;
      p.seq = 5;
      p.steps = phase == Phase::decode ? 2 : 1;
      const Workload w = build_workload(c, p);
      EXPECT_EQ(w.graphs.size(), p.steps) << name;
      EXPECT_GT(total_flops(w.graphs.back()), 0u) << name;
      // Every op's outputs are produced by it, and the order is topological.
      EXPECT_EQ(w.graphs.back().topological_order().size(), w.graphs.back().num_ops()) << name;
    }
  }
}

TEST(Workload, DetectsFormatByExtensionAndContent) {
  EXPECT_EQ(load_model_file(test::source_path("tests/data/hf/llama-2-7b.config.json")).family, "llama");
  EXPECT_EQ(load_model_file(test::source_path("configs/models/llama-2-7b.yaml")).family, "llama");
  EXPECT_THROW(load_model_file("/nonexistent/model"), InputError);
}

}  // namespace
}  // namespace npusim::workloads
