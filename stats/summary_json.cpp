#include "stats/summary_json.h"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "common/error.h"
#include "stats/format.h"

namespace npusim::stats {
namespace {

using nlohmann::json;

json optional_number(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json activity_json(const ActivityCounts& a) {
  return json{{"macs_by_dtype", a.macs_by_dtype},
              {"vector_ops_by_dtype", a.vector_ops_by_dtype},
              {"buffer_bytes", a.buffer_bytes},
              {"l2_bytes", a.l2_bytes},
              {"noc_bytes", a.noc_bytes},
              {"dram_bytes", a.dram_bytes},
              {"dram_activates", a.dram_activates}};
}

json op_json(const OpResult& op) {
  return json{{"name", op.name},
              {"kind", op.kind},
              {"layer", op.layer},
              {"flops", op.flops},
              {"bytes", op.bytes},
              {"seconds", op.seconds},
              {"arithmetic_intensity", op.arithmetic_intensity()},
              {"achieved_flops_per_s", op.achieved_flops_per_s()},
              {"bound", op.bound}};
}

json sampling_json(const SamplingReport& s) {
  json classes = json::array();
  for (const auto& c : s.layer_classes) {
    classes.push_back(json{{"layers", c.layers},
                           {"simulated", c.simulated},
                           {"layer_seconds_mean", c.layer_seconds_mean},
                           {"layer_seconds_stdev", c.layer_seconds_stdev}});
  }
  return json{{"layers_per_class", s.layers_per_class},
              {"steps", s.steps},
              {"simulated_steps", s.simulated_steps},
              {"layer_classes", classes},
              {"warmup_layers", s.warmup_layers},
              {"simulated_seconds", s.simulated_seconds},
              {"error_estimate_seconds", s.error_estimate_seconds},
              {"error_estimate_relative", s.error_estimate_relative}};
}

}  // namespace

const std::vector<std::string>& summary_fields() {
  static const std::vector<std::string> v = {
      "summary_version", "npusim_version", "hw", "model", "phase", "batch", "seq", "steps", "mapping",
      "mapping_reason", "compression", "fidelity", "cycles", "core_clock_hz", "seconds", "tokens",
      "tokens_per_s", "energy_j", "energy_per_token_j", "energy_breakdown_j", "bytes", "utilization", "flops",
      "peak_flops_per_s", "peak_bandwidth_Bps", "activity", "ops", "counters", "simulator"};
  return v;
}

const std::vector<std::string>& summary_op_fields() {
  static const std::vector<std::string> v = {"name",    "kind", "layer", "flops", "bytes", "seconds",
                                             "arithmetic_intensity", "achieved_flops_per_s", "bound"};
  return v;
}

json summary_json(const RunResult& r) {
  json j;
  j["summary_version"] = kSummaryVersion;
  j["npusim_version"] = r.npusim_version;
  j["hw"] = r.hw;
  j["model"] = r.model;
  j["phase"] = r.phase;
  j["batch"] = r.batch;
  j["seq"] = r.seq;
  j["steps"] = r.steps;
  j["mapping"] = r.mapping;
  j["mapping_reason"] = r.mapping_reason;
  j["compression"] = r.compression;
  j["fidelity"] = r.fidelity;
  j["cycles"] = r.cycles;
  j["core_clock_hz"] = r.core_clock_hz;
  j["seconds"] = r.seconds;
  j["tokens"] = optional_number(r.tokens);
  j["tokens_per_s"] = optional_number(r.tokens_per_s);
  j["energy_j"] = optional_number(r.energy_j);
  j["energy_per_token_j"] = optional_number(r.energy_per_token_j);
  j["energy_breakdown_j"] = json::object();
  for (const auto& kv : r.energy_breakdown_j) j["energy_breakdown_j"][kv.first] = kv.second;
  j["bytes"] = json::object();
  for (const auto& kv : r.bytes) j["bytes"][kv.first] = json{{"read", kv.second.read}, {"written", kv.second.written}};
  j["utilization"] = json::object();
  for (const auto& kv : r.utilization) j["utilization"][kv.first] = kv.second;
  j["flops"] = r.flops;
  j["peak_flops_per_s"] = optional_number(r.peak_flops_per_s);
  j["peak_bandwidth_Bps"] = optional_number(r.peak_bandwidth_Bps);
  j["activity"] = activity_json(r.activity);
  j["ops"] = json::array();
  for (const auto& op : r.ops) j["ops"].push_back(op_json(op));
  j["counters"] = json::object();
  for (const auto& kv : r.counters) {
    j["counters"][kv.first] =
        json{{"value", kv.second.value}, {"unit", kv.second.unit}, {"description", kv.second.description}};
  }
  if (r.sampling) j["sampling"] = sampling_json(*r.sampling);
  j["simulator"] = json{{"wall_seconds", r.wall_seconds}, {"events", r.sim_events}};
  return j;
}

std::string summary_json_text(const RunResult& result) {
  // Replace rather than throw on bytes that are not UTF-8 (an op name read
  // from a foreign model file): the summary must always be written.
  return summary_json(result).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void write_summary_json(const RunResult& result, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw InputError(fmt::format("{}: cannot write the summary JSON", path));
  out << summary_json_text(result);
  if (!out) throw InputError(fmt::format("{}: write failed", path));
}

void print_summary_text(const RunResult& r, std::ostream& out, std::size_t top_ops) {
  out << fmt::format("npusim {}  hw {}  model {}\n", r.npusim_version, r.hw, r.model);
  out << fmt::format("  {} batch {} seq {}{}  fidelity {}\n", r.phase, r.batch, r.seq,
                     r.steps ? fmt::format(" steps {}", r.steps) : std::string(), r.fidelity);
  out << fmt::format("  mapping {}{}  compression {}\n", r.mapping,
                     r.mapping_reason.empty() ? std::string() : " (" + r.mapping_reason + ")",
                     r.compression.empty() ? "none" : r.compression);
  out << fmt::format("time        {}  ({} cycles at {})\n", si(r.seconds, "s"), r.cycles, si(r.core_clock_hz, "Hz"));
  if (r.sampling) {
    std::size_t layers = 0, simulated = 0;
    for (const auto& c : r.sampling->layer_classes) {
      layers += c.layers.size();
      simulated += c.simulated.size();
    }
    out << fmt::format("  sampled: {} of {} layers, {} of {} steps simulated; error estimate +/- {} ({:.2f}%)\n",
                       simulated, layers, r.sampling->simulated_steps.size(), r.sampling->steps,
                       si(r.sampling->error_estimate_seconds, "s"), 100.0 * r.sampling->error_estimate_relative);
  }
  if (r.tokens_per_s) out << fmt::format("throughput  {:.6g} tokens/s\n", *r.tokens_per_s);
  out << fmt::format("compute     {}", si(r.flops, "FLOP"));
  if (r.seconds > 0) out << fmt::format("  ({})", si(r.flops / r.seconds, "FLOP/s"));
  if (r.peak_flops_per_s && *r.peak_flops_per_s > 0 && r.seconds > 0) {
    out << fmt::format("  {:.1f}% of peak", 100.0 * r.flops / r.seconds / *r.peak_flops_per_s);
  }
  out << "\n";
  if (r.energy_j) {
    out << fmt::format("energy      {}", si(*r.energy_j, "J"));
    if (r.energy_per_token_j) out << fmt::format("  ({}/token)", si(*r.energy_per_token_j, "J"));
    out << "\n";
    for (const auto& kv : r.energy_breakdown_j) {
      const double share = *r.energy_j > 0 ? 100.0 * kv.second / *r.energy_j : 0;
      out << fmt::format("  {:<10} {:>12}  {:5.1f}%\n", kv.first, si(kv.second, "J"), share);
    }
  }
  if (!r.bytes.empty()) {
    out << fmt::format("bytes       {:<6} {:>12} {:>12}\n", "tier", "read", "written");
    for (const auto& kv : r.bytes) {
      out << fmt::format("            {:<6} {:>12} {:>12}\n", kv.first, si(static_cast<double>(kv.second.read), "B"),
                         si(static_cast<double>(kv.second.written), "B"));
    }
  }
  if (!r.utilization.empty()) {
    out << "utilization";
    for (const auto& kv : r.utilization) out << fmt::format("  {} {:.1f}%", kv.first, 100.0 * kv.second);
    out << "\n";
  }
  if (!r.ops.empty() && top_ops > 0) {
    std::vector<const OpResult*> ops;
    for (const auto& op : r.ops) ops.push_back(&op);
    // Stable so that ties keep graph order and the listing is deterministic.
    std::stable_sort(ops.begin(), ops.end(), [](const OpResult* a, const OpResult* b) { return a->seconds > b->seconds; });
    ops.resize(std::min(top_ops, ops.size()));
    out << fmt::format("top ops by time ({} of {})\n", ops.size(), r.ops.size());
    for (const OpResult* op : ops) {
      out << fmt::format("  {:<32} {:<12} {:>12}  {:>14}  {}\n", op->name, op->kind, si(op->seconds, "s"),
                         si(op->achieved_flops_per_s(), "FLOP/s"), op->bound);
    }
  }
}

}  // namespace npusim::stats
