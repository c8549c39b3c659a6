// `npusim run`: configs -> workload graphs -> mapper -> machine -> stats.
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "arch/machine.h"
#include "common/error.h"
#include "mapper/dataflow/dataflow_mapper.h"
#include "mapper/compression/run_plan.h"
#include "mapper/kernel_mapper.h"
#include "mapper/mode_choice.h"
#include "npusim/version.h"
#include "sim/commands.h"
#include "sim/config/hw_config.h"
#include "sim/run/collect.h"
#include "sim/run/mapper_setup.h"
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
                     "mapping={} fidelity={} compression={}\n",
                     kVersion, describe_hw_config(hw), file_text(hw.tech_file), file_text(o.model_file),
                     o.routing_file.empty() ? "" : file_text(o.routing_file), o.phase, p.batch, p.seq, p.steps,
                     o.mapping, o.fidelity,
                     o.compression_file.empty() ? std::string("none") : "\n" + file_text(o.compression_file));
}

}  // namespace

int command_run(const RunOptions& o) {
  refuse_unbuilt(o);
  const auto wall_start = std::chrono::steady_clock::now();
  const HwConfig hw = load_hw_config(o.hw_file);
  const stats::TechTable tech = stats::load_tech_table(hw.tech_file);
  const workloads::WorkloadParams params = workload_params(o);
  workloads::Workload workload = load_workload(o.model_file, params);
  const auto compression = mapper::apply_compression_file(o.compression_file, workload.graphs, hw.machine.core);
  const mapper::MachineView view = run_machine_view(hw);
  const mapper::MapperOptions mapper_options = run_mapper_options(o.mapper_file);

  std::unique_ptr<stats::ChromeTraceWriter> trace;
  if (!o.trace_file.empty()) trace = std::make_unique<stats::ChromeTraceWriter>(o.trace_file);
  std::unique_ptr<stats::ResultStore> store;
  if (!o.db_file.empty()) store = std::make_unique<stats::ResultStore>(o.db_file, stats::ResultStore::Mode::read_write);

  arch::Machine machine("npu", hw.machine);
  machine.set_trace(trace.get());
  // Confirming tilings in simulation runs them on a second, otherwise idle
  // machine, so the run's own counters and time stay the workload's.
  std::unique_ptr<arch::Machine> probe;
  mapper::GemmConfirmer confirm;
  if (mapper_options.search.confirm_top > 0) {
    probe = std::make_unique<arch::Machine>("probe", hw.machine);
    confirm = [&](const mapper::GemmProblem& p, const mapper::GemmTiling& t) {
      arch::Program program;
      program.cube_cores.resize(static_cast<std::size_t>(view.cube_cores));
      program.vector_cores.resize(static_cast<std::size_t>(view.vector_cores));
      mapper::emit_gemm(p, t, view, 0, program);
      const arch::JobTiming timing = probe->run(program);
      return ticks_to_seconds(timing.end - timing.start);
    };
  }
  mapper::GemmTilingCache tilings(mapper_options.search, confirm);

  stats::RunResult r;
  r.npusim_version = kVersion;
  r.hw = hw.name;
  r.model = workload.model.name;
  r.phase = o.phase;
  r.batch = workload.params.batch;
  r.seq = workload.params.seq;
  r.steps = workload.params.steps;
  r.compression = compression ? compression->name : "none";
  for (const auto& c : compression ? compression->counters : std::vector<mapper::CompressionCounter>{}) {
    r.counters[c.name] = {c.value, c.unit, c.description};
  }
  r.fidelity = o.fidelity;
  r.core_clock_hz = hw.machine.core.clock.hz();

  Progress progress(o.quiet);
  const int op_track = trace ? trace->track("ops", "jobs") : -1;
  Tick simulated = 0;  // sum of job spans: confirmation runs do not count
  std::size_t job_count = 0, dataflow_graphs = 0;
  double estimated = 0;
  for (std::size_t step = 0; step < workload.graphs.size(); ++step) {
    const auto& graph = workload.graphs[step];
    mapper::DataflowMapping dataflow;
    if (o.mapping != "kernel" && !machine.streams()) {
      dataflow.reason = hw.file + ": no network port serves the HBM tier, where the stream queues and barriers of "
                                  "dataflow are routed";
    } else if (o.mapping != "kernel") {
      dataflow = mapper::map_dataflow(graph, view, mapper_options);
    }
    // Kernel-by-kernel jobs are mapped and run one at a time (a model's
    // programs together do not fit in memory); the estimate is only needed
    // up front when dataflow is a real alternative, and such graphs are small.
    double kernel_estimate = 0;
    if (dataflow.applies) {
      mapper::for_each_kernel_job(graph, view, tilings, mapper_options,
                                  [&](mapper::Job& job) { kernel_estimate += job.estimated_seconds; });
    }
    const mapper::ModeChoice mode = mapper::choose_mode(o.mapping, kernel_estimate, dataflow);
    if (step == 0) r.mapping_reason = mode.reason;
    if (mode.dataflow) {
      ++dataflow_graphs;
      estimated += dataflow.estimated_seconds;
      if (!machine.streams()) {
        throw InputError(hw.file + ": dataflow needs stream queues, and no network port serves the HBM tier they are "
                                   "routed through");
      }
      machine.streams()->configure(dataflow.queues);
      const arch::JobTiming timing = machine.run(dataflow.program);
      if (machine.streams()->live_entries() != 0) {
        throw SimulationError(fmt::format("dataflow job of {} left {} stream entries unread", graph.name(),
                                          machine.streams()->live_entries()));
      }
      simulated += timing.end - timing.start;
      ++job_count;
      stats::OpResult res;
      res.name = "dataflow:" + graph.name();
      res.kind = "DataflowPipeline";
      for (const auto& st : dataflow.stages) {
        const auto& op = graph.op(st.op);
        res.flops += static_cast<double>(op.flops);
        res.bytes += static_cast<double>(op.bytes_read.total() + op.bytes_written.total());
      }
      res.seconds = ticks_to_seconds(timing.end - timing.start);
      r.flops += res.flops;
      r.ops.push_back(std::move(res));
      if (trace) trace->slice(op_track, graph.name().c_str(), timing.start, timing.end);
      progress.update(step, workload.graphs.size(), 1, 1, -1);
      continue;
    }
    std::size_t j = 0;
    const std::size_t ops = graph.num_ops();
    mapper::for_each_kernel_job(graph, view, tilings, mapper_options, [&](mapper::Job& job) {
      estimated += job.estimated_seconds;
      const arch::JobTiming timing = machine.run(job.program);
      simulated += timing.end - timing.start;
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
      progress.update(step, workload.graphs.size(), ++j, ops, op.layer);  // ops bounds the job count
    });
  }
  r.mapping = dataflow_graphs == 0 ? "kernel" : dataflow_graphs == workload.graphs.size() ? "dataflow" : "mixed";
  progress.finish();
  r.seconds = ticks_to_seconds(simulated);
  r.cycles = hw.machine.core.clock.to_cycles_ceil(simulated);
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
  r.counters["driver.estimated_seconds"] = {estimated, "s", "the cost model's estimate of the run, for comparison"};
  r.counters["driver.dataflow_graphs"] = {static_cast<double>(dataflow_graphs), "count",
                                          "step graphs run as a layer pipeline"};
  r.counters["driver.gemm_tiling_confirmations"] = {static_cast<double>(tilings.confirmations()), "count",
                                                    "tilings simulated to confirm the cost model's choice"};
  r.counters["driver.gemm_tiling_cache_hits"] = {static_cast<double>(tilings.hits()), "count",
                                                 "GEMMs that reused a cached tiling"};

  if (!o.json_file.empty()) stats::write_summary_json(r, o.json_file);
  if (store) store->put(run_identity(hw, o, params), r);
  if (trace) trace->close();
  if (!o.quiet) stats::print_summary_text(r, std::cout);
  return kExitOk;
}

}  // namespace npusim
