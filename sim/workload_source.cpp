#include "sim/workload_source.h"

#include <memory>

#include <fmt/format.h>

#include "common/error.h"
#include "workloads/onnx/onnx_import.h"

namespace npusim {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A traced graph is one pass at its exported shapes: a prefill over its
// prompt, or one decode step over the KV cache its past_key_values inputs
// hold (workloads/onnx/onnx_kv_cache.h). The phase asked for must be the
// one the file describes; the routing trace, when given, sets each
// expert's token count.
void check_phase(const std::string& path, const workloads::Graph& g, const workloads::WorkloadParams& params) {
  using workloads::Phase;
  if (params.phase == Phase::decode && g.context.phase == Phase::prefill) {
    throw InputError(path + ": --phase decode: this export is a prefill graph (it has no past_key_values.N.key/value "
                            "KV-cache inputs); simulate it with --phase prefill, or export a decode step (the "
                            "decode.onnx scripts/trace_model.py writes next to model.onnx)");
  }
  if (params.phase == Phase::prefill && g.context.phase == Phase::decode) {
    throw InputError(fmt::format("{}: --phase prefill: this export is one decode step over a KV cache of {} tokens "
                                 "(its past_key_values inputs); simulate it with --phase decode, or the prefill "
                                 "export (model.onnx) with --phase prefill",
                                 path, g.context.context));
  }
  if (params.steps != 1) {
    throw InputError(fmt::format("{}: --steps {}: a traced graph is one {} at its exported shapes; use --steps 1", path,
                                 params.steps, g.context.phase == Phase::decode ? "decode step" : "prefill pass"));
  }
}

workloads::Workload load_onnx_workload(const std::string& path, const workloads::WorkloadParams& params) {
  workloads::OnnxImportOptions options;
  options.weight_dtype = params.weight_dtype;
  options.activation_dtype = params.activation_dtype;
  if (!params.routing_trace.empty()) {
    options.routing = std::make_shared<workloads::RoutingTrace>(workloads::RoutingTrace::load_file(params.routing_trace));
  }
  workloads::Workload workload;
  workload.params = params;
  workload.graphs.push_back(workloads::import_onnx(path, options));
  const workloads::Graph& g = workload.graphs.front();
  check_phase(path, g, params);
  workload.model.name = g.name();
  workload.model.family = "onnx";
  workload.model.source = path;
  workload.model.dtype = DType::fp32;
  for (const auto& t : g.tensors()) {
    if (t.role == workloads::TensorRole::weight) {
      workload.model.dtype = t.dtype;
      break;
    }
  }
  workload.params.batch = g.context.batch;
  // As for generated models: the prompt for prefill, the cached context for decode.
  workload.params.seq = g.context.phase == workloads::Phase::decode ? g.context.context : g.context.new_tokens;
  return workload;
}

}  // namespace

workloads::Workload load_workload(const std::string& model_file, const workloads::WorkloadParams& params) {
  if (ends_with(model_file, ".onnx")) return load_onnx_workload(model_file, params);
  return workloads::build_workload_from_file(model_file, params);
}

}  // namespace npusim
