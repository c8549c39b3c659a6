// Hugging Face config.json loading.
#include <string>

#include <gtest/gtest.h>

#include "common/error.h"
#include "support/test_paths.h"
#include "workloads/hf_config.h"
#include "workloads/model_math.h"
#include "workloads/workload.h"

namespace npusim::workloads {
namespace {

std::string hf(const std::string& name) { return test::source_path("tests/data/hf/" + name + ".config.json"); }
std::string yaml(const std::string& name) { return test::source_path("configs/models/" + name + ".yaml"); }

TEST(HfConfig, SameParametersAsYamlForEveryFamily) {
  for (const char* name : {"llama-2-7b", "llama-2-70b", "llama-3-8b", "mistral-7b", "mixtral-8x7b",
                           "deepseek-v2-lite", "qwen1.5-moe-a2.7b", "pangu-pro-moe"}) {
    const ModelConfig from_json = load_model_file(hf(name));
    const ModelConfig from_yaml = load_model_file(yaml(name));
    EXPECT_EQ(from_json.family, from_yaml.family) << name;
    EXPECT_EQ(from_json.name, name);
    EXPECT_EQ(from_json.dtype, from_yaml.dtype) << name;
    const auto a = count_parameters(from_json);
    const auto b = count_parameters(from_yaml);
    EXPECT_EQ(a.total, b.total) << name;
    EXPECT_EQ(a.active, b.active) << name;
    EXPECT_EQ(a.matmul_active, b.matmul_active) << name;
    EXPECT_EQ(decode_flops_per_token(from_json, 1000), decode_flops_per_token(from_yaml, 1000)) << name;
  }
}

TEST(HfConfig, DetectsFamilyFromModelTypeAndArchitectures) {
  EXPECT_EQ(load_hf_config(hf("mistral-7b")).family, "llama");
  EXPECT_EQ(load_hf_config(hf("qwen1.5-moe-a2.7b")).family, "qwen-moe");
  EXPECT_EQ(load_hf_config(hf("pangu-pro-moe")).moe->num_groups, 8u);
  const ModelConfig c = parse_hf_config(
      R"({"architectures": ["MixtralForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2,
          "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 32,
          "num_local_experts": 4, "num_experts_per_tok": 2, "vocab_size": 100})",
      "dir/tiny/config.json");
  EXPECT_EQ(c.family, "mixtral");
  EXPECT_EQ(c.name, "tiny");
  EXPECT_EQ(c.moe->num_experts, 4u);
}

std::string error_of(const std::string& path) {
  try {
    load_model_file(path);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << path << " was accepted";
  return "";
}

TEST(HfConfig, MissingFieldNamesFileAndField) {
  const std::string msg = error_of(test::source_path("tests/data/hf/bad/missing-field.config.json"));
  EXPECT_NE(msg.find("missing-field.config.json: num_hidden_layers: missing required field"), std::string::npos)
      << msg;
}

TEST(HfConfig, WrongTypeNamesFileAndField) {
  const std::string msg = error_of(test::source_path("tests/data/hf/bad/wrong-type.config.json"));
  EXPECT_NE(msg.find("wrong-type.config.json: num_local_experts: expected a positive integer, got \"eight\""),
            std::string::npos)
      << msg;
}

TEST(HfConfig, SyntaxErrorNamesFileAndLine) {
  const std::string msg = error_of(test::source_path("tests/data/hf/bad/syntax.config.json"));
  EXPECT_NE(msg.find("syntax.config.json: JSON syntax error"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 4"), std::string::npos) << msg;
}

TEST(HfConfig, UnknownModelTypeListsKnownOnes) {
  const std::string msg = error_of(test::source_path("tests/data/hf/bad/unknown-type.config.json"));
  EXPECT_NE(msg.find("model_type: expected one of"), std::string::npos) << msg;
  EXPECT_NE(msg.find("deepseek_v2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"gpt2\""), std::string::npos) << msg;
}

TEST(HfConfig, StructuralErrorsNameTheField) {
  try {
    parse_hf_config(R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
                        "num_attention_heads": 4, "num_key_value_heads": 3, "intermediate_size": 32,
                        "vocab_size": 100})",
                    "inline.json");
    FAIL() << "accepted 4 heads over 3 KV heads";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("inline.json: num_kv_heads"), std::string::npos) << e.what();
  }
  try {
    parse_hf_config(R"({"model_type": "qwen2_moe", "hidden_size": 64, "num_hidden_layers": 2,
                        "num_attention_heads": 4, "num_experts": 4, "num_experts_per_tok": 2,
                        "moe_intermediate_size": 8, "shared_expert_intermediate_size": 16,
                        "decoder_sparse_step": 2, "vocab_size": 100})",
                    "inline.json");
    FAIL() << "accepted decoder_sparse_step 2";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("inline.json: decoder_sparse_step"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace npusim::workloads
