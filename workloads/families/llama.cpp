// Llama / Mistral: dense decoder with GQA (num_kv_heads < num_heads) or MHA, SwiGLU MLP.
#include <fmt/format.h>

#include "common/error.h"
#include "workloads/transformer.h"

namespace npusim::workloads {
namespace {

class LlamaFamily : public TransformerFamily {
 public:
  void validate(const ModelConfig& c, const std::string& where) const override {
    check_transformer_config(c, where);
    if (c.moe) throw InputError(fmt::format("{}: moe: the llama family is dense; use mixtral, deepseek, qwen-moe or pangu-moe", where));
    if (c.attention != AttentionKind::mha) throw InputError(fmt::format("{}: attention: the llama family uses mha (GQA/MQA through num_kv_heads)", where));
  }
};

const Registration<ModelFamily> kRegistration("model family", "llama", "dense Llama/Mistral decoder: GQA attention, RMSNorm, RoPE, SwiGLU",
                                              [] { return std::make_unique<LlamaFamily>(); });

}  // namespace
}  // namespace npusim::workloads
