#pragma once
// Where a workload comes from: a model YAML, a workload YAML, a Hugging Face
// config.json (workloads/workload.h chooses among those) or a traced ONNX
// file with an optional routing trace.
#include <string>

#include "workloads/workload.h"

namespace npusim {

workloads::Workload load_workload(const std::string& model_file, const workloads::WorkloadParams& params);

}  // namespace npusim
