// `npusim run`: configs -> workload graphs -> mapper -> machine -> stats.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "arch/machine.h"
#include "common/dtype.h"
#include "common/error.h"
#include "mapper/dataflow/chunked_prefill.h"
#include "mapper/dataflow/dataflow_mapper.h"
#include "mapper/dataflow/layer_pipeline.h"
#include "mapper/compression/run_plan.h"
#include "mapper/kernel_mapper.h"
#include "mapper/mode_choice.h"
#include "npusim/version.h"
#include "sim/commands.h"
#include "sim/config/hw_config.h"
#include "sim/run/collect.h"
#include "sim/run/mapper_setup.h"
#include "sim/run/probe_runs.h"
#include "sim/run/progress.h"
#include "sim/run/sampling.h"
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

// The sampling flags, checked against the fidelity and mapping they need.
SamplingOptions sampling_options(const RunOptions& o) {
  SamplingOptions s;
  const bool sampled = o.fidelity == "sampled";
  auto take = [&](const std::optional<std::int64_t>& value, const char* flag, std::uint64_t& into) {
    if (!value) return;
    if (!sampled) throw InputError(fmt::format("{} applies only to --fidelity sampled", flag));
    // One sample has no spread, so it could not estimate its own error.
    if (*value < 2) throw InputError(fmt::format("{} must be at least 2, got {}", flag, *value));
    into = static_cast<std::uint64_t>(*value);
  };
  take(o.sample_layers, "--sample-layers", s.layers_per_class);
  take(o.sample_steps, "--sample-steps", s.steps);
  if (sampled && o.mapping != "kernel") {
    throw InputError(fmt::format("--fidelity sampled needs --mapping kernel (got --mapping {}): a dataflow job "
                                 "pipelines every layer at once, so no layer can be left out",
                                 o.mapping));
  }
  return s;
}

// SystemC process resumptions of the machine as simulated (not extrapolated).
std::uint64_t simulated_events(const arch::Machine& machine) {
  static const std::string kSuffix = ".process_activations";
  std::uint64_t events = 0;
  for (const StatGroup* group : machine_stat_groups(machine)) {
    for (const Counter& c : group->counters()) {
      const std::string name = group->name() + "." + c.name;
      if (name.size() > kSuffix.size() && name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
        events += c.value;
      }
    }
  }
  return events;
}

workloads::WorkloadParams workload_params(const RunOptions& o) {
  workloads::WorkloadParams p;
  p.phase = o.phase == "prefill" ? workloads::Phase::prefill : workloads::Phase::decode;
  p.batch = o.batch;
  p.seq = o.seq.value_or(2048);
  p.steps = o.steps;
  p.routing_trace = o.routing_file;
  if (o.dtype) p.weight_dtype = p.activation_dtype = dtype_from_name(*o.dtype);
  return p;
}

// Everything that determines the result, canonically, for the results key.
std::string run_identity(const HwConfig& hw, const RunOptions& o, const workloads::WorkloadParams& p) {
  const SamplingOptions sampling = sampling_options(o);
  const std::string fidelity = o.fidelity == "sampled" ? fmt::format("sampled layers={} steps={}", sampling.layers_per_class,
                                                                     sampling.steps)
                                                       : o.fidelity;
  return fmt::format("npusim {}\n--hw\n{}\n--tech\n{}\n--model\n{}\n--routing\n{}\nphase={} batch={} seq={} steps={} "
                     "mapping={} fidelity={}{} compression={}\n--mapper\n{}\n",
                     kVersion, describe_hw_config(hw), file_text(hw.tech_file), file_text(o.model_file),
                     o.routing_file.empty() ? "" : file_text(o.routing_file), o.phase, p.batch, p.seq, p.steps,
                     o.mapping, fidelity, o.dtype ? " dtype=" + *o.dtype : std::string(),
                     o.compression_file.empty() ? std::string("none") : "\n" + file_text(o.compression_file),
                     o.mapper_file.empty() ? std::string("default") : file_text(o.mapper_file));
}

// --skip-stored: a sweep that is resumed asks the results database before
// simulating a point it may already hold.
bool already_stored(const HwConfig& hw, const RunOptions& o, const workloads::WorkloadParams& p) {
  if (o.db_file.empty()) throw InputError("--skip-stored needs --db: it looks the run up in that database");
  if (!std::filesystem::exists(o.db_file)) return false;
  // Read-write: a concurrent sweep worker may have created the file and not
  // yet its schema; opening for writing waits for or creates the schema.
  const stats::ResultStore store(o.db_file, stats::ResultStore::Mode::read_write);
  const auto stored = store.lookup(stats::ResultStore::key(run_identity(hw, o, p)));
  if (!stored) return false;
  if (!o.quiet) std::cout << fmt::format("already stored in {}: run {} ({})\n", o.db_file, stored->run_hash, stored->status);
  return true;
}

// A traced graph keeps its file's precision unless --dtype changes it, and a
// default torch export is fp32, which cubes usually lack: say so, and what
// to do, before the mapper meets the first matmul it cannot tile.
void check_traced_precision(const workloads::Workload& w, const mapper::MachineView& view, const RunOptions& o) {
  if (w.model.family != "onnx" || o.dtype) return;
  for (const auto& graph : w.graphs) {
    for (auto id : graph.topological_order()) {
      const auto& op = graph.op(id);
      if (!workloads::is_matmul_like(op.kind) || op.inputs.empty()) continue;
      DType a = graph.tensor(op.inputs.front()).dtype;
      if (op.weight) {
        const auto act = std::find_if(op.inputs.begin(), op.inputs.end(), [&](auto in) { return in != *op.weight; });
        if (act != op.inputs.end()) a = graph.tensor(*act).dtype;
        // A compression plan that quantizes the activations decides instead.
        if (const auto& quantized = graph.tensor(*op.weight).weight_format.activation) a = *quantized;
      }
      if (view.cube_shape.count(a)) continue;
      std::string modes;
      for (const auto& [t, shape] : view.cube_shape) modes += (modes.empty() ? "" : ", ") + std::string(dtype_name(t));
      throw InputError(fmt::format("{}: op '{}' computes in {}, and the cube has no {} mode (it has {}); pass --dtype "
                                   "(e.g. --dtype fp16) to simulate the traced graph at a precision the cube has",
                                   o.model_file, op.name, dtype_name(a), dtype_name(a), modes));
    }
  }
}

}  // namespace

int command_run(const RunOptions& o) {
  const SamplingOptions sampling_opts = sampling_options(o);
  const auto wall_start = std::chrono::steady_clock::now();
  const HwConfig hw = load_hw_config(o.hw_file);
  const stats::TechTable tech = stats::load_tech_table(hw.tech_file);
  const workloads::WorkloadParams params = workload_params(o);
  if (o.skip_stored && already_stored(hw, o, params)) return kExitOk;
  workloads::Workload workload = load_workload(o.model_file, params);
  const auto compression = mapper::apply_compression_file(o.compression_file, workload.graphs, hw.machine.core);
  const mapper::MachineView view = run_machine_view(hw);
  check_traced_precision(workload, view, o);
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
      auto program_of = [&]() {
        arch::Program program;
        program.cube_cores.resize(static_cast<std::size_t>(view.cube_cores));
        program.vector_cores.resize(static_cast<std::size_t>(view.vector_cores));
        return program;
      };
      double seconds = 0;
      if (t.split_k > 1) {  // the output zeroing job that runs first
        arch::Program zeroing = program_of();
        mapper::emit_vector(mapper::gemm_output_zeroing(p), view, 0, zeroing);
        const arch::JobTiming timing = probe->run(zeroing);
        seconds += ticks_to_seconds(timing.end - timing.start);
      }
      arch::Program program = program_of();
      mapper::emit_gemm(p, t, view, 0, program);
      const arch::JobTiming timing = probe->run(program);
      return seconds + ticks_to_seconds(timing.end - timing.start);
    };
  }
  mapper::GemmTilingCache tilings(mapper_options.search, confirm);
  mapper::DataflowConfirmer confirm_dataflow;
  std::size_t dataflow_confirmations = 0;
  if (probe && probe->streams()) {
    confirm_dataflow = [&](const mapper::DataflowMapping& candidate) {
      ++dataflow_confirmations;
      return simulate_dataflow_candidate(*probe, view, candidate);
    };
  }

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

  // A generated model's prefill can be rebuilt in chunks of tokens, for a
  // layer pipeline that streams them through its stages. Not a traced graph
  // or explicit one (their shapes are fixed), nor one whose routing comes
  // from a trace (it covers the step's tokens, not a chunk's) or that a
  // compression plan rewrote (the chunks would miss its formats).
  mapper::PrefillChunkBuilder build_chunk;
  std::shared_ptr<workloads::RoutingSource> chunk_routing;
  if (workload.params.phase == workloads::Phase::prefill && workload.model.family != "onnx" &&
      workload.model.family != "graph" && workload.params.routing_trace.empty() && !compression) {
    chunk_routing = workloads::make_routing(workload.model, workload.params);
    build_chunk = [&workload, chunk_routing](std::uint64_t context, std::uint64_t tokens) {
      return workloads::build_prefill_chunk_graph(workload.model, workload.params, context, tokens, *chunk_routing);
    };
  }

  std::unique_ptr<SampledRun> sampled;
  if (o.fidelity == "sampled") sampled = std::make_unique<SampledRun>(machine, sampling_opts, workload.graphs.size());
  std::size_t next_sampled_step = 0;

  Progress progress(o.quiet);
  const int op_track = trace ? trace->track("ops", "jobs") : -1;
  Tick simulated = 0;  // sum of job spans: confirmation runs do not count
  std::size_t job_count = 0, dataflow_graphs = 0;
  double estimated = 0;
  for (std::size_t step = 0; step < workload.graphs.size(); ++step) {
    const auto& graph = workload.graphs[step];
    std::function<bool(const workloads::Op&)> include;
    if (sampled) {
      const auto& steps = sampled->simulated_steps();
      if (next_sampled_step >= steps.size() || steps[next_sampled_step] != step) {
        sampled->skip_step(graph);
        continue;
      }
      ++next_sampled_step;
      sampled->begin_step(graph);
      include = [&](const workloads::Op& op) { return sampled->simulates(op); };
    }
    // Kernel-by-kernel jobs are mapped and run one at a time (a model's
    // programs together do not fit in memory); the estimate is only needed
    // up front when dataflow is a real alternative. For auto on a prefill
    // that may be pipelined in chunks it comes first, so a chunked pipeline
    // that would lose is not built (a pass over every chunk of a large model).
    double kernel_estimate = 0;
    bool kernel_estimated = false;
    const auto estimate_kernel = [&]() {
      mapper::for_each_kernel_job(graph, view, tilings, mapper_options,
                                  [&](mapper::Job& job) { kernel_estimate += job.estimated_seconds; });
      kernel_estimated = true;
    };
    if (o.mapping == "auto" && build_chunk && machine.streams()) estimate_kernel();
    mapper::DataflowMapping dataflow;
    if (o.mapping != "kernel" && !machine.streams()) {
      dataflow.reason = hw.file + ": no network port serves the HBM tier, where the stream queues and barriers of "
                                  "dataflow are routed";
    } else if (o.mapping != "kernel") {
      dataflow = mapper::map_dataflow(graph, view, mapper_options, confirm_dataflow, build_chunk,
                                      kernel_estimated ? kernel_estimate
                                                       : std::numeric_limits<double>::infinity());
    }
    if (dataflow.applies && !kernel_estimated) estimate_kernel();
    const mapper::ModeChoice mode = mapper::choose_mode(o.mapping, kernel_estimate, dataflow);
    if (step == 0) r.mapping_reason = mode.reason;
    if (mode.dataflow) {
      ++dataflow_graphs;
      estimated += dataflow.estimated_seconds;
      if (!machine.streams()) {
        throw InputError(hw.file + ": dataflow needs stream queues, and no network port serves the HBM tier they are "
                                   "routed through");
      }
      // A step cut into jobs of whole layers runs them back to back, each
      // built only when its turn comes.
      arch::JobTiming timing;
      Tick step_ticks = 0;
      bool first_job = true;
      mapper::for_each_dataflow_job(graph, view, mapper_options, dataflow, [&](const arch::Program& program) {
        machine.streams()->configure(dataflow.queues);
        const arch::JobTiming job = machine.run(program);
        if (machine.streams()->live_entries() != 0) {
          throw SimulationError(fmt::format("dataflow job of {} left {} stream entries unread", graph.name(),
                                            machine.streams()->live_entries()));
        }
        simulated += job.end - job.start;
        step_ticks += job.end - job.start;
        ++job_count;
        if (first_job) timing.start = job.start;
        timing.end = job.end;
        first_job = false;
      });
      stats::OpResult res;
      res.name = "dataflow:" + graph.name();
      res.kind = "DataflowPipeline";
      for (const auto& st : dataflow.stages) {
        const auto& op = mapper::pipeline_op(graph, dataflow, st);
        res.flops += static_cast<double>(op.flops);
        res.bytes += static_cast<double>(op.bytes_read.total() + op.bytes_written.total());
      }
      res.seconds = ticks_to_seconds(step_ticks);
      r.flops += res.flops;
      r.ops.push_back(std::move(res));
      if (trace) trace->slice(op_track, graph.name().c_str(), timing.start, timing.end);
      progress.update(step, workload.graphs.size(), 1, 1, -1);
      continue;
    }
    std::size_t j = 0;
    const std::size_t ops = graph.num_ops();
    const mapper::Placement placement = mapper::for_each_kernel_job(graph, view, tilings, mapper_options, [&](mapper::Job& job) {
      estimated += job.estimated_seconds;
      const arch::JobTiming timing = machine.run(job.program);
      simulated += timing.end - timing.start;
      ++job_count;
      const auto& op = graph.op(job.op);
      if (sampled) sampled->record_job(op.layer, timing.end - timing.start);
      stats::OpResult res;
      res.name = job.name;
      res.kind = job.kind.empty() ? workloads::op_kind_name(op.kind) : job.kind;
      res.layer = op.layer;
      // A fused job does the work of every op it covers, less the traffic of
      // the intermediates it keeps on chip, unless it says what it executes
      // (causal tile skipping, split-KV partials).
      double graph_flops = 0;
      for (auto covered : job.covers.empty() ? std::vector<workloads::OpId>{job.op} : job.covers) {
        if (job.share_of_op) break;  // the op's main job counts its work
        const auto& c = graph.op(covered);
        graph_flops += static_cast<double>(c.flops);
        res.bytes += static_cast<double>(c.bytes_read.total() + c.bytes_written.total());
      }
      res.bytes -= static_cast<double>(job.kept_on_chip);
      if (job.bytes) res.bytes = *job.bytes;
      res.flops = job.flops.value_or(graph_flops);
      if (sampled) sampled->record_flops(op.layer, res.flops - graph_flops);
      res.seconds = ticks_to_seconds(timing.end - timing.start);
      r.flops += res.flops;
      r.ops.push_back(std::move(res));
      if (trace) trace->slice(op_track, job.name.c_str(), timing.start, timing.end);
      progress.update(step, workload.graphs.size(), ++j, ops, op.layer);  // ops bounds the job count
    }, include);
    if (sampled) sampled->end_step();
    // The plan's summary knew each tensor's intended tier; the last step's
    // placement knows where it went (e.g. experts spilled to DDR).
    if (compression && step + 1 == workload.graphs.size()) {
      for (auto it = r.counters.begin(); it != r.counters.end();) {
        const bool by_tier = it->first.rfind("compression.weight_bytes.", 0) == 0 ||
                             it->first.rfind("compression.kv_bytes.", 0) == 0;
        it = by_tier ? r.counters.erase(it) : std::next(it);
      }
      for (const auto& c : mapper::compression_counters(mapper::summarize_compression(graph, &placement))) {
        r.counters[c.name] = {c.value, c.unit, c.description};
      }
    }
  }
  r.mapping = dataflow_graphs == 0 ? "kernel" : dataflow_graphs == workload.graphs.size() ? "dataflow" : "mixed";
  progress.finish();
  CounterExtrapolation extrapolation;
  if (sampled) {
    // The run's time and counters are the sampled estimate of the whole run.
    simulated = static_cast<Tick>(std::llround(sampled->estimated_seconds() * static_cast<double>(kTicksPerSecond)));
    extrapolation = sampled->extrapolation();
    r.flops += sampled->skipped_flops();
    r.sampling = sampled->report();
  }
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

  collect_machine_counters(machine, view, workload.model.dtype, r, sampled ? &extrapolation : nullptr);
  stats::apply_energy(r, tech, energy_inputs(hw.machine));

  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  r.sim_events = simulated_events(machine);
  r.counters["driver.jobs"] = {static_cast<double>(job_count), "count", "jobs (kernels) run on the machine"};
  r.counters["driver.gemm_tiling_searches"] = {static_cast<double>(tilings.searches()), "count",
                                               "distinct GEMM signatures searched"};
  r.counters["driver.estimated_seconds"] = {estimated, "s", "the cost model's estimate of the run, for comparison"};
  r.counters["driver.dataflow_graphs"] = {static_cast<double>(dataflow_graphs), "count",
                                          "step graphs run as a layer pipeline"};
  r.counters["driver.gemm_tiling_confirmations"] = {static_cast<double>(tilings.confirmations()), "count",
                                                    "tilings simulated to confirm the cost model's choice"};
  r.counters["driver.dataflow_confirmations"] = {static_cast<double>(dataflow_confirmations), "count",
                                                 "dataflow candidates simulated to confirm the cost model's choice"};
  r.counters["driver.gemm_tiling_cache_hits"] = {static_cast<double>(tilings.hits()), "count",
                                                 "GEMMs that reused a cached tiling"};

  if (!o.json_file.empty()) stats::write_summary_json(r, o.json_file);
  if (store) store->put(run_identity(hw, o, params), r);
  if (trace) trace->close();
  if (!o.quiet) stats::print_summary_text(r, std::cout);
  return kExitOk;
}

}  // namespace npusim
