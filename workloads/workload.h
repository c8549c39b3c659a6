#pragma once
// A workload: a model (or an explicit graph) run in one phase with a batch,
// sequence lengths and, for decode, a number of steps.
//
// Multi-step decode is a list of per-step graphs. Step s (0-based) of a
// decode that starts at context `seq` computes one new token per sequence
// with seq + s tokens already cached, so its attention reads seq + s KV
// entries per sequence and KV head and appends one. Each step is a complete,
// concrete graph (the mapper needs no symbolic shapes); a sampled run that
// needs only some steps builds them alone with build_step_graph.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config_node.h"
#include "common/dtype.h"
#include "workloads/graph.h"
#include "workloads/model_config.h"
#include "workloads/routing.h"

namespace npusim::workloads {

struct WorkloadParams {
  Phase phase = Phase::prefill;
  std::uint64_t batch = 1;    // sequences
  std::uint64_t seq = 128;    // prompt length (prefill) or cached context at the first step (decode)
  std::uint64_t steps = 1;    // decode steps; must be 1 for prefill
  std::optional<DType> weight_dtype;      // default: the model's dtype
  std::optional<DType> activation_dtype;  // default: the model's dtype
  std::optional<DType> kv_dtype;          // default: the activation dtype
  RouterParams router;                    // synthetic routing, unless a trace is given
  std::string routing_trace;              // path of a routing trace (routing.h); empty = none
};

struct Workload {
  ModelConfig model;
  WorkloadParams params;
  std::vector<Graph> graphs;  // prefill: one graph; decode: one per step
};

// Phase two of a `workload:` YAML section (keys in workload.cpp's table).
// A relative routing_trace is taken relative to the YAML file.
WorkloadParams resolve_workload_params(const ConfigNode& node);

// A model from a YAML model file (configs/models/*.yaml, or a "graph"
// family file) or a Hugging Face config.json, chosen by extension (.json,
// .yaml/.yml) and otherwise by content (a leading '{' is JSON).
ModelConfig load_model_file(const std::string& path);

// Checks the parameters against the model and builds every step's graph.
Workload build_workload(const ModelConfig& model, const WorkloadParams& params);
Workload build_workload_from_file(const std::string& path, const WorkloadParams& params);

// The routing the parameters ask for: the trace (checked to cover the model
// and the steps) or a synthetic router.
std::unique_ptr<RoutingSource> make_routing(const ModelConfig& model, const WorkloadParams& params);
// One step's graph (0 for prefill), for callers that build steps lazily.
Graph build_step_graph(const ModelConfig& model, const WorkloadParams& params, std::uint64_t step,
                       const RoutingSource& routing);
// A chunk of a prefill: `new_tokens` tokens per sequence after `context`
// of the prompt already cached, for a layer pipeline that streams a
// prefill through its stages in chunks. An explicit graph (family: graph)
// does not follow the step's token counts, so it has no chunks: an
// InputError says so.
Graph build_prefill_chunk_graph(const ModelConfig& model, const WorkloadParams& params, std::uint64_t context,
                                std::uint64_t new_tokens, const RoutingSource& routing);

}  // namespace npusim::workloads
