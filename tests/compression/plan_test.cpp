// Plan files: name globs, located errors, first-match-wins, every shipped
// plan applies to Llama-2-7B and Mixtral-8x7B, and the quantization ratio is
// computed from the annotated graph.
#include <filesystem>

#include <gtest/gtest.h>

#include "common/error.h"
#include "mapper/compression/apply_plan.h"
#include "mapper/compression/compression_summary.h"
#include "mapper/compression/name_glob.h"
#include "mapper/compression/plan.h"
#include "sim/config/hw_config.h"
#include "support/test_paths.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

using mapper::CompressionPlan;
using mapper::name_glob_error;
using mapper::name_glob_match;

CompressionPlan plan_text(const std::string& text) {
  return mapper::resolve_compression_plan(ConfigNode::load_string(text, "plan.yaml"));
}

std::string plan_error(const std::string& text) {
  try {
    plan_text(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<workloads::Graph> graphs(const std::string& model, workloads::Phase phase = workloads::Phase::decode) {
  workloads::WorkloadParams p;
  p.phase = phase;
  p.seq = 64;
  p.steps = 1;
  return build_workload_from_file(source_path("configs/models/" + model + ".yaml"), p).graphs;
}

const mapper::CompressionTarget& target_910b2() {
  static const mapper::CompressionTarget t =
      mapper::compression_target(load_hw_config(source_path("configs/hw/ascend-910b2.yaml")).machine.core);
  return t;
}

TEST(NameGlob, MatchesHuggingFaceNames) {
  EXPECT_TRUE(name_glob_match("layers.*.mlp.down_proj", "layers.3.mlp.down_proj"));
  EXPECT_FALSE(name_glob_match("layers.*.mlp.down_proj", "layers.3.mlp.up_proj"));
  EXPECT_TRUE(name_glob_match("*.self_attn.*", "layers.12.self_attn.q_proj"));
  EXPECT_FALSE(name_glob_match("*.self_attn.*", "lm_head"));
  EXPECT_TRUE(name_glob_match("layers.{0,31}.*", "layers.31.mlp.gate_proj"));
  EXPECT_FALSE(name_glob_match("layers.{0,31}.*", "layers.3.mlp.gate_proj")) << "3 is not 31: alternatives are whole";
  EXPECT_TRUE(name_glob_match("layers.{0..3}.mlp.?p_proj", "layers.2.mlp.up_proj"));
  EXPECT_FALSE(name_glob_match("layers.{0..3}.*", "layers.4.mlp.up_proj"));
  EXPECT_TRUE(name_glob_match("*", "lm_head"));
  EXPECT_FALSE(name_glob_match("lm_head", "lm_head2")) << "a pattern matches the whole name";
  EXPECT_TRUE(name_glob_error("layers.{0,1.*").has_value());
  EXPECT_TRUE(name_glob_error("layers.{3..1}.*").has_value());
  EXPECT_TRUE(name_glob_error("a}").has_value());
  EXPECT_FALSE(name_glob_error("layers.{0..31}.mlp.*").has_value());
}

TEST(Plan, ErrorsNameFileLineAndPath) {
  const std::string base = "name: p\nrules:\n  - match: \"*\"\n";
  std::string e = plan_error(base + "    weights: int3\n");
  EXPECT_NE(e.find("plan.yaml:4: rules[0].weights: expected one of model | fp32"), std::string::npos) << e;
  e = plan_error(base + "    wieghts: int4\n");
  EXPECT_NE(e.find("unknown key 'wieghts' (did you mean 'weights'?)"), std::string::npos) << e;
  e = plan_error(base + "    sparsity: \"4:2\"\n");
  EXPECT_NE(e.find("rules[0].sparsity: expected dense, unstructured or N:M"), std::string::npos) << e;
  e = plan_error(base + "    sparsity: unstructured\n");
  EXPECT_NE(e.find("needs a density"), std::string::npos) << e;
  e = plan_error(base + "    sparsity: \"2:4\"\n    density: 0.3\n");
  EXPECT_NE(e.find("rules[0].density: expected no density"), std::string::npos) << e;
  e = plan_error(base + "    sparsity: \"2:4\"\n    format: bitmap\n");
  EXPECT_NE(e.find("rules[0].format"), std::string::npos) << e;
  e = plan_error(base + "    weights: mxfp4\n    group_size: 64\n");
  EXPECT_NE(e.find("MX blocks are 32 elements"), std::string::npos) << e;
  e = plan_error(base + "    weights: fp16\n    zero_points: true\n");
  EXPECT_NE(e.find("rules[0].zero_points"), std::string::npos) << e;
  e = plan_error("name: p\nrules:\n  - match: \"layers.{0,1.*\"\n");
  EXPECT_NE(e.find("plan.yaml:3: rules[0].match: expected a name glob"), std::string::npos) << e;
  e = plan_error("name: p\nkv_cache:\n  precision: int8\n");
  EXPECT_NE(e.find("plan.yaml:3: kv_cache: scales: an integer cache needs per-token or per-group"), std::string::npos) << e;
  e = plan_error("name: p\nkv_cache:\n  precision: int8\n  scales: none\n");
  EXPECT_NE(e.find("plan.yaml:4: kv_cache.scales: expected per-token or per-group"), std::string::npos) << e;
  e = plan_error("name: p\nkv_cache:\n  prefetch: true\n");
  EXPECT_NE(e.find("kv_cache.prefetch"), std::string::npos) << e;
  e = plan_error("name: p\n");
  EXPECT_NE(e.find("changes nothing"), std::string::npos) << e;
  e = plan_error("name: p\ndecompression: {unit: engine}\nrules: [{match: \"*\"}]\n");
  EXPECT_NE(e.find("engine_elements_per_cycle"), std::string::npos) << e;
}

TEST(Plan, DefaultsAreDeclaredAndResolved) {
  const auto plan = plan_text("name: p\nrules:\n  - match: [\"a\", \"b.*\"]\n    weights: int4\n"
                              "  - match: c\n    weights: mxint8\n  - match: d\n    sparsity: unstructured\n"
                              "    density: 0.4\n");
  ASSERT_EQ(plan.rules.size(), 3u);
  EXPECT_EQ(plan.rules[0].patterns, (std::vector<std::string>{"a", "b.*"}));
  EXPECT_EQ(plan.rules[0].group, mapper::CompressionRule::Group::channel) << "auto: per channel for integers";
  EXPECT_EQ(plan.rules[1].group_size, 32u) << "auto: 32 for MX";
  EXPECT_EQ(plan.rules[2].storage, workloads::StorageFormat::bitmap) << "auto: bitmap for unstructured";
  EXPECT_FALSE(plan.rules[2].weights.has_value()) << "model: the tensor's own precision";
}

TEST(Plan, RuleMatchingNothingIsAnErrorWithItsLine) {
  auto g = graphs("llama-2-7b");
  const auto plan = plan_text("name: p\nrules:\n  - match: \"*.mlp.*\"\n    weights: int8\n"
                              "  - match: \"layers.*.mlp.down_proj\"\n    weights: int4\n"
                              "  - match: \"layers.40.*\"\n    weights: int4\n");
  try {
    mapper::apply_compression_plan(plan, g, target_910b2());
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    // Rule 1 is shadowed by rule 0 (first match wins); it is reported first.
    EXPECT_NE(m.find("plan.yaml:5: rules[1]: rule [layers.*.mlp.down_proj] matches only ops an earlier rule"),
              std::string::npos)
        << m;
  }
  const auto missing = plan_text("name: p\nrules:\n  - match: \"*\"\n  - match: \"layers.40.*\"\n");
  try {
    mapper::apply_compression_plan(missing, g, target_910b2());
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("plan.yaml:4: rules[1]: rule [layers.40.*] matches no matmul"),
              std::string::npos)
        << e.what();
  }
}

TEST(Plan, FirstMatchingRuleWinsAndMachineDecisionsAreRecorded) {
  auto g = graphs("llama-2-7b");
  const auto plan = plan_text("name: p\nrules:\n  - match: \"layers.{0,31}.*\"\n    weights: fp16\n"
                              "  - match: \"*\"\n    weights: int4\n    activations: int8\n    group_size: 128\n");
  mapper::apply_compression_plan(plan, g, target_910b2());
  const auto& graph = g.front();
  auto format = [&](const std::string& op) { return graph.tensor(*graph.op(*graph.find_op(op)).weight).weight_format; };
  EXPECT_EQ(format("layers.0.mlp.down_proj").precision, DType::fp16);
  EXPECT_EQ(format("layers.31.self_attn.q_proj").precision, DType::fp16);
  const auto w = format("layers.5.mlp.down_proj");
  EXPECT_EQ(w.precision, DType::int4);
  EXPECT_EQ(w.group_size, 128u);
  EXPECT_EQ(*w.cube_precision, DType::int8) << "A8: the cube runs int8, int4 weights are widened";
  EXPECT_EQ(w.dequantize_passes, 1.0);
  EXPECT_EQ(*format("lm_head").cube_precision, DType::int8);
}

TEST(Plan, CubeComputePrecisionFallsBackToFp16) {
  const auto& t = target_910b2();
  EXPECT_EQ(mapper::cube_compute_precision(DType::int8, DType::int8, t), DType::int8);
  EXPECT_EQ(mapper::cube_compute_precision(DType::int8, DType::int4, t), DType::int8);
  EXPECT_EQ(mapper::cube_compute_precision(DType::fp8_e4m3, DType::fp8_e4m3, t), DType::fp16) << "no fp8 cube on 910B2";
  EXPECT_EQ(mapper::cube_compute_precision(DType::fp16, DType::mxfp4, t), DType::fp16);
  EXPECT_EQ(mapper::cube_compute_precision(DType::int4, DType::int4, t), DType::int4);
  EXPECT_EQ(mapper::cube_compute_precision(DType::int8, DType::fp16, t), DType::fp16) << "a weight wider than A";
}

TEST(Plan, EveryShippedPlanAppliesToLlamaAndMixtral) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(source_path("configs/compression"))) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  ASSERT_GE(files.size(), 17u);
  for (const char* model : {"llama-2-7b", "mixtral-8x7b"}) {
    for (auto phase : {workloads::Phase::prefill, workloads::Phase::decode}) {
      const auto base = graphs(model, phase);
      for (const auto& file : files) {
        auto g = base;
        const auto plan = mapper::load_compression_plan(file);
        EXPECT_FALSE(plan.description.empty()) << file;
        EXPECT_NO_THROW(mapper::apply_compression_plan(plan, g, target_910b2())) << file << " on " << model;
      }
    }
  }
}

TEST(QuantizationRatio, ComputedFromTheAnnotatedGraph) {
  auto g = graphs("llama-2-7b");
  mapper::apply_compression_plan(mapper::load_compression_plan(source_path("configs/compression/mixed-first-last-16bit.yaml")),
                                 g, target_910b2());
  const auto s = mapper::summarize_compression(g.front());
  // Llama-2-7B: per layer 4 x 4096^2 attention + 3 x 4096 x 11008 MLP; lm_head 4096 x 32000.
  const double layer = 4.0 * 4096 * 4096 + 3.0 * 4096 * 11008, head = 4096.0 * 32000;
  EXPECT_EQ(s.matmul_params, static_cast<std::uint64_t>(32 * layer + head));
  EXPECT_DOUBLE_EQ(s.quantization_ratio_params, 30 * layer / (32 * layer + head));
  EXPECT_DOUBLE_EQ(s.layer_quantization_ratio_params, s.quantization_ratio_params) << "whole layers: same at both";
  // Decode MACs are M = 1 per weight, so the MAC ratio of weights is the parameter ratio; attention MACs dilute it.
  EXPECT_LT(s.quantization_ratio_macs, s.quantization_ratio_params);
  EXPECT_GT(s.quantization_ratio_macs, 0.9 * s.quantization_ratio_params);
  EXPECT_DOUBLE_EQ(s.weight_density, 1.0);

  auto m = graphs("llama-2-7b");
  mapper::apply_compression_plan(mapper::load_compression_plan(source_path("configs/compression/mixed-attention-16bit.yaml")),
                                 m, target_910b2());
  const auto a = mapper::summarize_compression(m.front());
  EXPECT_DOUBLE_EQ(a.quantization_ratio_params, (32 * 3.0 * 4096 * 11008 + head) / (32 * layer + head));
  EXPECT_DOUBLE_EQ(a.layer_quantization_ratio_params, head / (32 * layer + head))
      << "matmul-wise granularity quantizes more than layer-wise";
}

TEST(QuantizationRatio, WeightAndKvBytesAndDensity) {
  auto g = graphs("llama-2-7b");
  const auto dense = mapper::summarize_compression(g.front());
  mapper::apply_compression_plan(mapper::load_compression_plan(source_path("configs/compression/sparse-2-4-w4a8.yaml")), g,
                                 target_910b2());
  const auto s = mapper::summarize_compression(g.front());
  EXPECT_DOUBLE_EQ(s.weight_density, 0.5);
  EXPECT_DOUBLE_EQ(s.quantization_ratio_params, 1.0);
  // Matmul weights at 3.125 bits instead of 16; norms and the embedding unchanged.
  const double matmul = static_cast<double>(s.matmul_params);
  EXPECT_NEAR(dense.weight_bytes.at("hbm") - s.weight_bytes.at("hbm"), matmul * (16 - 3.125) / 8, 1.0);

  auto k = graphs("llama-2-7b");
  mapper::apply_compression_plan(mapper::load_compression_plan(source_path("configs/compression/kv-int8.yaml")), k,
                                 target_910b2());
  const auto kv = mapper::summarize_compression(k.front());
  // 64 cached tokens = 4 whole blocks of 16: no fragmentation; 8 + 16/128 bits vs 16.
  EXPECT_DOUBLE_EQ(kv.kv_fragmentation_bytes, 0);
  EXPECT_DOUBLE_EQ(kv.kv_bytes.at("hbm") / dense.kv_bytes.at("hbm"), (8 + 16.0 / 128) / 16);
}

TEST(StructuredPruning, ShrinksShapesAndParameters) {
  auto g = graphs("llama-2-7b");
  const auto plan = plan_text("name: p\nrules:\n  - match: \"*.mlp.{gate,up}_proj\"\n    kept_out_channels: 0.75\n"
                              "  - match: \"*.mlp.down_proj\"\n    kept_in_channels: 0.75\n");
  mapper::apply_compression_plan(plan, g, target_910b2());
  const auto s = mapper::summarize_compression(g.front());
  const double layer = 4.0 * 4096 * 4096 + 3.0 * 4096 * 11008 * 0.75, head = 4096.0 * 32000;
  EXPECT_EQ(s.matmul_params, static_cast<std::uint64_t>(32 * layer + head));
  EXPECT_DOUBLE_EQ(s.quantization_ratio_params, 0.0);
}

}  // namespace
}  // namespace npusim::test
