#include "sim/workload_source.h"

#include <memory>

#include "common/error.h"
#include "workloads/onnx/onnx_import.h"

namespace npusim {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A traced ONNX graph is one prefill pass at the shapes it was exported
// with; the routing trace, when given, sets each expert's token count.
workloads::Workload load_onnx_workload(const std::string& path, const workloads::WorkloadParams& params) {
  if (params.phase != workloads::Phase::prefill) {
    throw InputError(path + ": a traced ONNX graph is a single prefill pass at its exported shapes; use --phase prefill");
  }
  workloads::OnnxImportOptions options;
  if (!params.routing_trace.empty()) {
    options.routing = std::make_shared<workloads::RoutingTrace>(workloads::RoutingTrace::load_file(params.routing_trace));
  }
  workloads::Workload workload;
  workload.params = params;
  workload.graphs.push_back(workloads::import_onnx(path, options));
  workload.model.name = workload.graphs.front().name();
  workload.model.family = "onnx";
  workload.model.source = path;
  workload.model.dtype = DType::fp32;
  for (const auto& t : workload.graphs.front().tensors()) {
    if (t.role == workloads::TensorRole::weight) {
      workload.model.dtype = t.dtype;
      break;
    }
  }
  workload.params.batch = workload.graphs.front().context.batch;
  workload.params.seq = workload.graphs.front().context.new_tokens;
  return workload;
}

}  // namespace

workloads::Workload load_workload(const std::string& model_file, const workloads::WorkloadParams& params) {
  if (ends_with(model_file, ".onnx")) return load_onnx_workload(model_file, params);
  return workloads::build_workload_from_file(model_file, params);
}

}  // namespace npusim
