// Qwen1.5/Qwen2-MoE: routed experts plus one shared expert of its own width behind a sigmoid gate.
#include <fmt/format.h>

#include "common/error.h"
#include "workloads/transformer.h"

namespace npusim::workloads {
namespace {

class QwenMoeFamily : public TransformerFamily {
 public:
  void validate(const ModelConfig& c, const std::string& where) const override {
    check_transformer_config(c, where);
    if (!c.moe) throw InputError(fmt::format("{}: moe: the qwen-moe family needs a moe section", where));
    if (c.moe->shared_intermediate_size == 0 || !c.moe->shared_expert_gate)
      throw InputError(fmt::format("{}: moe: qwen-moe has a gated shared expert; expected shared_intermediate_size > 0 and shared_expert_gate: true", where));
    if (c.attention != AttentionKind::mha) throw InputError(fmt::format("{}: attention: qwen-moe uses mha", where));
  }
};

const Registration<ModelFamily> kRegistration("model family", "qwen-moe", "Qwen2-MoE: routed experts plus a gated shared expert, qkv bias",
                                              [] { return std::make_unique<QwenMoeFamily>(); });

}  // namespace
}  // namespace npusim::workloads
