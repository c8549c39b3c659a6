#pragma once
// The extension point for "what is computed": one ModelFamily per kind of
// model, registered by name (the `family:` key of a model YAML, or the
// mapping from a config.json's model_type). A family resolves its YAML into
// a ModelConfig, checks what it needs, and builds one graph per step.
#include <cstdint>
#include <memory>

#include "common/config_node.h"
#include "common/dtype.h"
#include "common/registry.h"
#include "workloads/graph.h"
#include "workloads/model_config.h"
#include "workloads/routing.h"

namespace npusim::workloads {

// Everything that shapes one step's graph besides the model.
struct StepSpec {
  GraphContext context;  // phase, batch, new tokens, cached context, step
  DType weight_dtype = DType::bf16;
  DType activation_dtype = DType::bf16;
  DType kv_dtype = DType::bf16;
};

class ModelFamily {
 public:
  virtual ~ModelFamily() = default;
  // Phase two for a YAML document whose `family:` names this family.
  virtual ModelConfig resolve(const ConfigNode& root) const = 0;
  // Family-specific structure (e.g. "needs grouped experts"), for configs
  // from any source; `where` names the file for the message.
  virtual void validate(const ModelConfig& config, const std::string& where) const = 0;
  // One step's graph. `routing` is consulted once per MoE layer.
  virtual Graph build(const ModelConfig& config, const StepSpec& step, const RoutingSource& routing) const = 0;
};

using ModelFamilyRegistry = Registry<ModelFamily>;

// The family named `name`, or an InputError listing the registered ones;
// `where` is the location of the family field ("file:line: family").
std::unique_ptr<ModelFamily> make_family(const std::string& name, const std::string& where);

}  // namespace npusim::workloads
