// `npusim run`: configs -> workload graphs -> mapper -> machine -> stats.
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "arch/machine.h"
#include "common/error.h"
#include "mapper/kernel_mapper.h"
#include "npusim/version.h"
#include "sim/commands.h"
#include "sim/config/hw_config.h"
#include "sim/run/collect.h"
#include "sim/run/progress.h"
#include "stats/energy/apply_energy.h"
#include "stats/energy/tech_table.h"
#include "stats/store/results_store.h"
#include "stats/summary_json.h"
#include "stats/trace/chrome_trace.h"
#include "sim/workload_source.h"
#include "workloads/workload.h"

namespace npusim {
namespace {

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void refuse_unbuilt(const RunOptions& o) {
  if (!o.compression_file.empty()) {
    throw InputError("--compression: compression plans are not implemented yet in this build of npusim; "
                     "run without --compression to simulate the model at its own precision");
  }
  if (o.mapping != "kernel") {
    throw InputError(fmt::format("--mapping {}: layer-pipelined dataflow and automatic choice are not implemented "
                                 "yet in this build; use --mapping kernel",
                                 o.mapping));
  }
  if (o.fidelity != "exact") {
    throw InputError("--fidelity sampled: sampled fidelity is not implemented in this build; use --fidelity exact");
  }
}

workloads::WorkloadParams workload_params(const RunOptions& o) {
  workloads::WorkloadParams p;
  p.phase = o.phase == "prefill" ? workloads::Phase::prefill : workloads::Phase::decode;
  p.batch = o.batch;
  p.seq = o.seq.value_or(2048);
  p.steps = o.steps;
  p.routing_trace = o.routing_file;
  return p;
}

// Everything that determines the result, canonically, for the results key.
std::string run_identity(const HwConfig& hw, const RunOptions& o, const workloads::WorkloadParams& p) {
  return fmt::format("npusim {}\n--hw\n{}\n--tech\n{}\n--model\n{}\n--routing\n{}\nphase={} batch={} seq={} steps={} "
                     "mapping={} fidelity={} compression=none\n",
                     kVersion, describe_hw_config(hw), file_text(hw.tech_file), file_text(o.model_file),
                     o.routing_file.empty() ? "" : file_text(o.routing_file), o.phase, p.batch, p.seq, p.steps,
                     o.mapping, o.fidelity);
}

}  // namespace

int command_run(const RunOptions& o) {
  refuse_unbuilt(o);
  const auto wall_start = std::chrono::steady_clock::now();
  const HwConfig hw = load_hw_config(o.hw_file);
  const stats::TechTable tech = stats::load_tech_table(hw.tech_file);
  const workloads::WorkloadParams params = workload_params(o);
  const workloads::Workload workload = load_workload(o.model_file, params);
  const mapper::MachineView view = machine_view(hw);

  std::unique_ptr<stats::ChromeTraceWriter> trace;
  if (!o.trace_file.empty()) trace = std::make_unique<stats::ChromeTraceWriter>(o.trace_file);
  std::unique_ptr<stats::ResultStore> store;
  if (!o.db_file.empty()) store = std::make_unique<stats::ResultStore>(o.db_file, stats::ResultStore::Mode::read_write);

  arch::Machine machine("npu", hw.machine);
  mapper::GemmTilingCache tilings;

  stats::RunResult r;
  r.npusim_version = kVersion;
  r.hw = hw.name;
  r.model = workload.model.name;
  r.phase = o.phase;
  r.batch = workload.params.batch;
  r.seq = workload.params.seq;
  r.steps = workload.params.steps;
  r.mapping = "kernel";
  r.mapping_reason = "kernel-by-kernel execution was requested";
  r.compression = "none";
  r.fidelity = o.fidelity;
  r.core_clock_hz = hw.machine.core.clock.hz();

  Progress progress(o.quiet);
  const int op_track = trace ? trace->track("ops", "jobs") : -1;
  const Tick start = machine.now();
  std::size_t job_count = 0;
  for (std::size_t step = 0; step < workload.graphs.size(); ++step) {
    const auto& graph = workload.graphs[step];
    const mapper::KernelMapping mapping = mapper::map_kernel_by_kernel(graph, view, tilings);
    for (std::size_t j = 0; j < mapping.jobs.size(); ++j) {
      const auto& job = mapping.jobs[j];
      const arch::JobTiming timing = machine.run(job.program);
      ++job_count;
      const auto& op = graph.op(job.op);
      stats::OpResult res;
      res.name = op.name;
      res.kind = workloads::op_kind_name(op.kind);
      res.layer = op.layer;
      res.flops = static_cast<double>(op.flops);
      res.bytes = static_cast<double>(op.bytes_read.total() + op.bytes_written.total());
      res.seconds = ticks_to_seconds(timing.end - timing.start);
      r.flops += res.flops;
      r.ops.push_back(std::move(res));
      if (trace) trace->slice(op_track, op.name.c_str(), timing.start, timing.end);
      progress.update(step, workload.graphs.size(), j + 1, mapping.jobs.size(), op.layer);
    }
  }
  progress.finish();
  const Tick end = machine.now();
  r.seconds = ticks_to_seconds(end - start);
  r.cycles = hw.machine.core.clock.to_cycles_ceil(end - start);
  // An explicit op-by-op graph has no tokens; models produce (decode) or
  // process (prefill) batch x tokens.
  if (workload.model.family != "graph") {
    const auto& wp = workload.params;
    const double tokens = o.phase == "prefill" ? static_cast<double>(wp.batch * wp.seq)
                                               : static_cast<double>(wp.batch * wp.steps);
    r.tokens = tokens;
    if (r.seconds > 0) r.tokens_per_s = tokens / r.seconds;
  }

  // Each op is compute- or memory-bound by the machine's ridge point.
  const double peak_flops = view.peak_flops(workload.model.dtype);
  const double peak_bw = view.hbm_Bps > 0 ? view.hbm_Bps : view.ddr_Bps;
  r.peak_flops_per_s = peak_flops;
  r.peak_bandwidth_Bps = peak_bw;
  const double ridge = peak_bw > 0 ? peak_flops / peak_bw : 0;
  for (auto& op : r.ops) op.bound = op.arithmetic_intensity() >= ridge ? "compute" : "memory";

  collect_machine_counters(machine, view, workload.model.dtype, r);
  stats::apply_energy(r, tech, energy_inputs(hw.machine));

  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  r.sim_events = 0;
  for (const auto& [name, value] : r.counters) {
    if (name.size() > 20 && name.compare(name.size() - 20, 20, ".process_activations") == 0) {
      r.sim_events += static_cast<std::uint64_t>(value.value);
    }
  }
  r.counters["driver.jobs"] = {static_cast<double>(job_count), "count", "jobs (kernels) run on the machine"};
  r.counters["driver.gemm_tiling_searches"] = {static_cast<double>(tilings.searches()), "count",
                                               "distinct GEMM signatures searched"};
  r.counters["driver.gemm_tiling_cache_hits"] = {static_cast<double>(tilings.hits()), "count",
                                                 "GEMMs that reused a cached tiling"};

  if (!o.json_file.empty()) stats::write_summary_json(r, o.json_file);
  if (store) store->put(run_identity(hw, o, params), r);
  if (trace) trace->close();
  if (!o.quiet) stats::print_summary_text(r, std::cout);
  return kExitOk;
}

}  // namespace npusim
