// DeepSeek-V2: MLA attention, shared + fine-grained routed experts, leading dense layers.
#include <fmt/format.h>

#include "common/error.h"
#include "workloads/transformer.h"

namespace npusim::workloads {
namespace {

class DeepseekFamily : public TransformerFamily {
 public:
  void validate(const ModelConfig& c, const std::string& where) const override {
    check_transformer_config(c, where);
    if (c.attention != AttentionKind::mla) throw InputError(fmt::format("{}: attention: the deepseek family uses mla", where));
    if (!c.moe) throw InputError(fmt::format("{}: moe: the deepseek family needs a moe section", where));
    if (c.moe->shared_intermediate_size == 0)
      throw InputError(fmt::format("{}: moe.shared_intermediate_size: deepseek has shared experts; expected a positive width", where));
  }
};

const Registration<ModelFamily> kRegistration("model family", "deepseek", "DeepSeek-V2: MLA (absorbed), shared + fine-grained routed experts, first layers dense",
                                              [] { return std::make_unique<DeepseekFamily>(); });

}  // namespace
}  // namespace npusim::workloads
