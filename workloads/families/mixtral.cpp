// Mixtral: every layer is MoE with top-k of E SwiGLU experts and no shared expert.
#include <fmt/format.h>

#include "common/error.h"
#include "workloads/transformer.h"

namespace npusim::workloads {
namespace {

class MixtralFamily : public TransformerFamily {
 public:
  void validate(const ModelConfig& c, const std::string& where) const override {
    check_transformer_config(c, where);
    if (!c.moe) throw InputError(fmt::format("{}: moe: the mixtral family needs a moe section", where));
    if (c.moe->shared_intermediate_size != 0 || c.moe->num_groups != 1 || c.moe->first_dense_layers != 0)
      throw InputError(fmt::format("{}: moe: mixtral has no shared experts, no expert groups and no dense layers", where));
    if (c.attention != AttentionKind::mha) throw InputError(fmt::format("{}: attention: mixtral uses mha (GQA)", where));
  }
};

const Registration<ModelFamily> kRegistration("model family", "mixtral", "Mixtral top-k sparse MoE: every layer routes each token to top_k of num_experts",
                                              [] { return std::make_unique<MixtralFamily>(); });

}  // namespace
}  // namespace npusim::workloads
