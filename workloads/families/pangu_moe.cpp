// Pangu Pro MoE: mixture of grouped experts (equal groups, the same top-k in each) plus shared experts.
#include <fmt/format.h>

#include "common/error.h"
#include "workloads/transformer.h"

namespace npusim::workloads {
namespace {

class PanguMoeFamily : public TransformerFamily {
 public:
  void validate(const ModelConfig& c, const std::string& where) const override {
    check_transformer_config(c, where);
    if (!c.moe) throw InputError(fmt::format("{}: moe: the pangu-moe family needs a moe section", where));
    if (c.moe->num_groups < 2)
      throw InputError(fmt::format("{}: moe.num_groups: pangu-moe groups its experts; expected at least 2, got {}", where, c.moe->num_groups));
    if (c.attention != AttentionKind::mha) throw InputError(fmt::format("{}: attention: pangu-moe uses mha (GQA)", where));
  }
};

const Registration<ModelFamily> kRegistration("model family", "pangu-moe", "Pangu Pro MoE (MoGE): experts in equal groups, top_k/num_groups chosen per group, shared experts",
                                              [] { return std::make_unique<PanguMoeFamily>(); });

}  // namespace
}  // namespace npusim::workloads
