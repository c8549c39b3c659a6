#include "workloads/workload.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "common/error.h"
#include "common/params.h"
#include "workloads/hf_config.h"
#include "workloads/model_family.h"

namespace npusim::workloads {
namespace {

const ParamTable kWorkloadTable(
    "workload", "What the model is asked to do: phase, batch, lengths, precisions and routing.",
    {
        {"phase", "prefill", "", "prefill | decode"},
        {"batch", "1", "sequences", "sequences processed together"},
        {"seq", "128", "tokens", "prompt length (prefill) or cached context at the first decode step"},
        {"steps", "1", "steps", "decode steps, the KV cache growing by one token each; 1 for prefill"},
        {"weight_dtype", "model", "", "weight dtype; model = the model's dtype"},
        {"activation_dtype", "model", "", "activation dtype; model = the model's dtype"},
        {"kv_dtype", "activation", "", "KV-cache dtype; activation = the activation dtype"},
        {"router", "{}", "", "synthetic MoE router (name, seed, zipf_s, hot_fraction, hot_share)"},
        {"routing_trace", "none", "", "routing trace file (JSON, see workloads/routing.h); overrides router"},
    });
const ParamTableRegistration kWorkloadTableReg(kWorkloadTable);

const ParamTable kRouterTable("workload.router", "Synthetic MoE routing (expected-value, seeded).",
                              {
                                  {"name", "uniform", "", "uniform | zipf | hot"},
                                  {"seed", "1", "", "decides which experts are popular in each layer and step"},
                                  {"zipf_s", "1.0", "", "zipf skew: weight of the r-th expert is 1/r^s"},
                                  {"hot_fraction", "0.125", "", "hot: fraction of each group's experts that are hot"},
                                  {"hot_share", "0.5", "", "hot: share of the traffic the hot experts receive"},
                              });
const ParamTableRegistration kRouterTableReg(kRouterTable);

std::optional<DType> dtype_or_default(const ConfigNode& node, const std::string& default_word) {
  const std::string text = node.as_string();
  if (text == default_word) return std::nullopt;
  const auto t = dtype_from_name(text);
  if (!t) node.fail(fmt::format("{} or a dtype ({})", default_word, dtype_choices()));
  return t;
}

bool looks_like_json(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".json") return true;
  if (ext == ".yaml" || ext == ".yml") return false;
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open file", path));
  char c = 0;
  while (in.get(c) && std::isspace(static_cast<unsigned char>(c))) {
  }
  return c == '{';
}

}  // namespace

WorkloadParams resolve_workload_params(const ConfigNode& node) {
  const ParamReader r(node, kWorkloadTable);
  WorkloadParams p;
  p.phase = r["phase"].as_choice({"prefill", "decode"}) == "decode" ? Phase::decode : Phase::prefill;
  p.batch = r["batch"].as_positive_int();
  p.seq = p.phase == Phase::prefill ? r["seq"].as_positive_int() : r["seq"].as_count();
  p.steps = r["steps"].as_positive_int();
  if (p.phase == Phase::prefill && p.steps != 1) r["steps"].fail("1 for prefill (steps are decode steps)");
  p.weight_dtype = dtype_or_default(r["weight_dtype"], "model");
  p.activation_dtype = dtype_or_default(r["activation_dtype"], "model");
  p.kv_dtype = dtype_or_default(r["kv_dtype"], "activation");
  const ParamReader router(r["router"], kRouterTable);
  p.router.name = router["name"].as_choice(RouterRegistry::instance().names());
  p.router.seed = router["seed"].as_count();
  p.router.zipf_s = router["zipf_s"].as_double();
  if (p.router.zipf_s < 0) router["zipf_s"].fail("a non-negative number");
  p.router.hot_fraction = router["hot_fraction"].as_fraction();
  if (p.router.hot_fraction == 0) router["hot_fraction"].fail("a fraction above 0");
  p.router.hot_share = router["hot_share"].as_fraction();
  if (r["routing_trace"].as_string() != "none") {
    std::filesystem::path trace = r["routing_trace"].as_string();
    if (trace.is_relative()) trace = std::filesystem::path(node.file()).parent_path() / trace;
    p.routing_trace = trace.string();
  }
  return p;
}

ModelConfig load_model_file(const std::string& path) {
  if (looks_like_json(path)) return load_hf_config(path);
  const ConfigNode root = ConfigNode::load_file(path);
  root.expect_map();
  const ConfigNode family = root["family"];
  return make_family(family.as_string(), family.where())->resolve(root);
}

std::unique_ptr<RoutingSource> make_routing(const ModelConfig& model, const WorkloadParams& params) {
  if (params.routing_trace.empty()) return make_router(params.router);
  auto trace = std::make_unique<RoutingTrace>(RoutingTrace::load_file(params.routing_trace));
  trace->check_covers(model, params.steps);
  return trace;
}

Graph build_step_graph(const ModelConfig& model, const WorkloadParams& params, std::uint64_t step,
                       const RoutingSource& routing) {
  StepSpec spec;
  spec.context.phase = params.phase;
  spec.context.batch = params.batch;
  spec.context.step = step;
  if (params.phase == Phase::prefill) {
    spec.context.new_tokens = params.seq;
    spec.context.context = 0;
  } else {
    spec.context.new_tokens = 1;
    spec.context.context = params.seq + step;
  }
  spec.weight_dtype = params.weight_dtype.value_or(model.dtype);
  spec.activation_dtype = params.activation_dtype.value_or(model.dtype);
  spec.kv_dtype = params.kv_dtype.value_or(spec.activation_dtype);
  return make_family(model.family, model.source + ": family")->build(model, spec, routing);
}

Graph build_prefill_chunk_graph(const ModelConfig& model, const WorkloadParams& params, std::uint64_t context,
                                std::uint64_t new_tokens, const RoutingSource& routing) {
  if (model.family == "graph") {
    throw InputError(model.source + ": family: graph: an explicit graph has no token count to split into chunks");
  }
  if (params.phase != Phase::prefill || context + new_tokens > params.seq) {
    throw InputError(fmt::format("a prefill chunk of {} tokens after {} does not lie in the {}-token prompt", new_tokens,
                                 context, params.seq));
  }
  StepSpec spec;
  spec.context.phase = Phase::prefill;
  spec.context.batch = params.batch;
  spec.context.new_tokens = new_tokens;
  spec.context.context = context;
  spec.weight_dtype = params.weight_dtype.value_or(model.dtype);
  spec.activation_dtype = params.activation_dtype.value_or(model.dtype);
  spec.kv_dtype = params.kv_dtype.value_or(spec.activation_dtype);
  return make_family(model.family, model.source + ": family")->build(model, spec, routing);
}

Workload build_workload(const ModelConfig& model, const WorkloadParams& params) {
  if (params.batch == 0) throw InputError("workload.batch: expected a positive integer, got 0");
  if (params.steps == 0) throw InputError("workload.steps: expected a positive integer, got 0");
  if (params.phase == Phase::prefill && params.steps != 1) {
    throw InputError(fmt::format("workload.steps: expected 1 for prefill, got {}", params.steps));
  }
  if (params.phase == Phase::prefill && params.seq == 0) {
    throw InputError("workload.seq: expected a positive prompt length for prefill, got 0");
  }
  const auto routing = make_routing(model, params);
  Workload w;
  w.model = model;
  w.params = params;
  w.graphs.reserve(params.steps);
  for (std::uint64_t s = 0; s < params.steps; ++s) w.graphs.push_back(build_step_graph(model, params, s, *routing));
  return w;
}

Workload build_workload_from_file(const std::string& path, const WorkloadParams& params) {
  return build_workload(load_model_file(path), params);
}

}  // namespace npusim::workloads
