#pragma once
// Hugging Face config.json -> ModelConfig, for the families the generators
// know. The family is chosen by "model_type" (or, when that is absent, by
// "architectures"):
//   llama, mistral      -> llama       (LlamaForCausalLM, MistralForCausalLM)
//   mixtral             -> mixtral     (MixtralForCausalLM)
//   qwen2_moe           -> qwen-moe    (Qwen2MoeForCausalLM)
//   deepseek_v2         -> deepseek    (DeepseekV2ForCausalLM)
//   PanguProMoE         -> pangu-moe   (PanguProMoEForCausalLM)
// Malformed JSON, an unknown model type, a missing field or a value of the
// wrong type raise InputError naming the file and the field (and the line and
// column for syntax errors).
#include <string>

#include "workloads/model_config.h"

namespace npusim::workloads {

ModelConfig load_hf_config(const std::string& path);
// `origin` names the text in messages and gives the model its name.
ModelConfig parse_hf_config(const std::string& text, const std::string& origin);

}  // namespace npusim::workloads
