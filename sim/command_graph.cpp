// `npusim graph`: build the workload graph(s) and print their summary.
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "common/dtype.h"
#include "common/error.h"
#include "sim/commands.h"
#include "sim/workload_source.h"
#include "workloads/summary.h"

namespace npusim {

int command_graph(const GraphOptions& o) {
  workloads::WorkloadParams params;
  params.phase = o.phase == "prefill" ? workloads::Phase::prefill : workloads::Phase::decode;
  params.batch = o.batch;
  params.seq = o.seq.value_or(2048);
  params.steps = o.steps;
  params.routing_trace = o.routing_file;
  if (o.dtype) params.weight_dtype = params.activation_dtype = dtype_from_name(*o.dtype);
  const workloads::Workload workload = load_workload(o.model_file, params);
  const auto& first = workload.graphs.front();

  nlohmann::json json = workloads::summary_json(first);
  json["model"] = workload.model.name;
  json["steps"] = workload.graphs.size();
  std::uint64_t flops_all_steps = 0;
  for (const auto& g : workload.graphs) flops_all_steps += workloads::total_flops(g);
  json["flops_all_steps"] = flops_all_steps;

  const auto s = workloads::summarize(first);
  const double tokens = static_cast<double>(first.context.batch * first.context.new_tokens);
  std::cout << fmt::format("model {}  phase {}  batch {}  seq {}  steps {}\n", workload.model.name, o.phase,
                           workload.params.batch, workload.params.seq, workload.graphs.size());
  std::cout << fmt::format("  parameters         {:>16}  ({:.3f} B)\n", s.parameters, s.parameters / 1e9);
  std::cout << fmt::format("  active parameters  {:>16}  ({:.3f} B)\n", s.active_parameters,
                           s.active_parameters / 1e9);
  std::cout << fmt::format("  FLOPs (step 0)     {:>16}  ({:.3f} GFLOP per token)\n", s.flops,
                           tokens > 0 ? s.flops / tokens / 1e9 : 0.0);
  std::cout << fmt::format("  vector ops         {:>16}\n", s.vector_ops);
  std::cout << "  bytes read / written by role:\n";
  for (auto role : {workloads::TensorRole::weight, workloads::TensorRole::activation, workloads::TensorRole::kv_cache}) {
    std::cout << fmt::format("    {:<12} {:>16} / {:>16}\n", workloads::role_name(role), s.bytes_read[role],
                             s.bytes_written[role]);
  }
  std::cout << fmt::format("  ops by kind ({} ops, {} tensors):\n", s.ops, s.tensors);
  for (const auto& [kind, count] : s.ops_by_kind) std::cout << fmt::format("    {:<18} {}\n", kind, count);

  if (!o.json_file.empty()) {
    std::ofstream out(o.json_file);
    if (!out) throw InputError(fmt::format("--json {}: cannot write file", o.json_file));
    out << json.dump(2) << "\n";
  }
  if (!o.dot_file.empty()) {
    std::ofstream out(o.dot_file);
    if (!out) throw InputError(fmt::format("--dot {}: cannot write file", o.dot_file));
    workloads::write_dot(first, out);
  }
  return kExitOk;
}

}  // namespace npusim
