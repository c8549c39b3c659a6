#include "sim/workload_source.h"

namespace npusim {

workloads::Workload load_workload(const std::string& model_file, const workloads::WorkloadParams& params) {
  return workloads::build_workload_from_file(model_file, params);
}

}  // namespace npusim
