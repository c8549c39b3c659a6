#include "mapper/dataflow/layer_pipeline.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "arch/address_map.h"
#include "common/error.h"
#include "mapper/dataflow/pipeline_sync.h"

namespace npusim::mapper {
namespace {

using pipeline::arrive_at;
using pipeline::barrier_seconds;
using pipeline::cut_into_segments;
using pipeline::layer_of_ops;
using pipeline::stage_of_ops;
using pipeline::stage_view;
using pipeline::wait_at;

// The cost model's time for `stages` stages: one micro-batch, so the ops
// run one after another, each on its stage's cores, plus a barrier each.
double estimate(const workloads::Graph& g, const MachineView& m, const MapperOptions& options, std::size_t stages) {
  GemmTilingCache cache(options.search);
  double seconds = 0;
  for_each_kernel_job(g, stage_view(m, stages), cache, options, [&](Job& job) {
    seconds += job.estimated_seconds + barrier_seconds(m);
  });
  return seconds;
}


using OpFilter = std::function<bool(const workloads::Op&)>;

struct PipelineBuild {
  arch::Program program;  // every mapped op's code while `kept`
  bool kept = true;
  std::vector<DataflowStage> stages;
  std::vector<std::uint64_t> layer_instructions;  // by layer_of_ops
  std::uint64_t instructions = 0;
  double seconds = 0;
  Placement placement;
  std::string refused;  // a layer alone passed the cap: mapping stopped there
};

// Thrown out of the job callback to stop mapping the rest of the graph.
struct LayerPastCap {};

// Maps the ops `include` admits (all when empty) into one job on `stages`
// stages, each op ordered behind the one before by a cross-core barrier.
// Past `cap` instructions the program is dropped and only counted on, so
// memory holds at most the cap and one op; a layer alone past the cap
// stops the mapping at that op.
PipelineBuild build_pipeline(const workloads::Graph& g, const MachineView& m, const MapperOptions& options,
                             std::size_t stages, int layers, const OpFilter& include, std::uint64_t cap) {
  PipelineBuild b;
  const MachineView sub = stage_view(m, stages);
  const std::vector<std::size_t> stage = stage_of_ops(g, layers, stages);
  const std::vector<int> layer = layer_of_ops(g, layers);
  b.layer_instructions.assign(static_cast<std::size_t>(layers), 0);
  arch::Program& program = b.program;
  program.cube_cores.resize(static_cast<std::size_t>(m.cube_cores));
  program.vector_cores.resize(m.split_cores ? static_cast<std::size_t>(m.vector_cores) : 0);
  const std::uint32_t group_cores = pipeline::arrivals_per_op(m, stages);
  std::optional<std::uint64_t> previous;  // the barrier of the op before
  std::uint32_t next_barrier = 0;
  std::size_t mapped = 0;
  GemmTilingCache cache(options.search);
  try {
    b.placement = for_each_kernel_job(g, sub, cache, options, [&](Job& job) {
      ++mapped;
      std::uint64_t job_instructions = 0;
      for (const auto* cores : {&job.program.cube_cores, &job.program.vector_cores}) {
        for (const auto& core : *cores) job_instructions += core.instructions.size() + 2;
      }
      const auto l = static_cast<std::size_t>(layer[job.op]);
      b.layer_instructions[l] += job_instructions;
      b.instructions += job_instructions;
      if (b.layer_instructions[l] > cap) {
        b.refused = fmt::format("layer {} alone holds more than the {} instructions a job may hold in memory at once "
                                "(mapping stopped at op '{}', the {}th mapped, having counted {})",
                                l, cap, job.name, mapped, b.layer_instructions[l]);
        throw LayerPastCap{};
      }
      if (b.kept && b.instructions > cap) {
        b.kept = false;
        program = arch::Program{};
      }
      const std::size_t s = stage[job.op];
      b.seconds += job.estimated_seconds + barrier_seconds(m);
      DataflowStage st;
      st.op = job.op;
      st.name = job.name;
      st.cube = workloads::is_matmul_like(g.op(job.op).kind);
      st.first_core = static_cast<int>(s) * sub.cube_cores;
      st.cores = sub.cube_cores;
      b.stages.push_back(std::move(st));
      if (!b.kept) return;
      const auto tag = static_cast<std::uint32_t>(program.op_names.size());
      program.op_names.push_back(job.name);
      const std::uint64_t barrier = arch::barrier_address(next_barrier++, group_cores);
      const auto place = [&](std::vector<arch::CoreProgram>& dst, std::vector<arch::CoreProgram>& src, int first,
                             bool cube_core) {
        for (std::size_t i = 0; i < src.size(); ++i) {
          auto& code = dst.at(static_cast<std::size_t>(first) + i).instructions;
          // A core with no work in the op has nothing to wait for; it still
          // arrives, so the count stays every core of the stage. (That core
          // arrives early, but one that works waited, so the op's barrier
          // still follows the one before.)
          if (previous && !src[i].instructions.empty()) wait_at(code, cube_core, *previous, tag);
          for (auto& in : src[i].instructions) {
            in.op_tag = tag;
            code.push_back(in);
          }
          arrive_at(code, m.split_cores, cube_core, barrier, tag);
        }
      };
      place(program.cube_cores, job.program.cube_cores, static_cast<int>(s) * sub.cube_cores, true);
      place(program.vector_cores, job.program.vector_cores, static_cast<int>(s) * sub.vector_cores, false);
      previous = barrier;
    }, include);
  } catch (const LayerPastCap&) {
    b.program = arch::Program{};
    b.kept = false;
  }
  return b;
}

// The stage counts to weigh: the one asked for, or those among 1-4 that
// divide the cube cores and leave every stage a layer; empty with the
// reason when the one asked for does not.
std::vector<std::size_t> stage_candidates(const MachineView& m, int layers, std::size_t stages, std::string& why) {
  if (stages > 0) {
    if (m.cube_cores % static_cast<int>(stages) != 0 || stages > static_cast<std::size_t>(layers)) {
      why = fmt::format("{} stages do not split {} cube cores and {} layers evenly", stages, m.cube_cores, layers);
      return {};
    }
    return {stages};
  }
  std::vector<std::size_t> candidates;
  for (std::size_t s = 1; s <= 4; ++s) {
    if (m.cube_cores % static_cast<int>(s) == 0 && s <= static_cast<std::size_t>(layers)) candidates.push_back(s);
  }
  return candidates;
}

// The step as one micro-batch on `stages` stages (0: the fastest by the
// cost model).
DataflowMapping map_one_micro_batch(const workloads::Graph& g, const MachineView& m, const MapperOptions& options,
                                    std::size_t stages, int layers, std::uint64_t max_job_instructions,
                                    const std::string& why_one) {
  DataflowMapping d;
  // Activations stay on chip: every op's must fit the share of the L2/SRAM
  // that dataflow may use (the same budget as the stream queues).
  d.reason = pipeline::activations_off_chip(g, m);
  if (!d.reason.empty()) return d;
  if (g.num_ops() >= arch::kBarriers) {
    d.reason = fmt::format("{} ops need more barriers than the {} the address map has", g.num_ops(), arch::kBarriers);
    return d;
  }
  const std::vector<std::size_t> candidates = stage_candidates(m, layers, stages, d.reason);
  if (candidates.empty()) return d;
  double best = std::numeric_limits<double>::infinity();
  for (std::size_t s : candidates) {
    const double seconds = candidates.size() == 1 ? 0.0 : estimate(g, m, options, s);
    if (seconds < best) {
      best = seconds;
      stages = s;
    }
  }

  PipelineBuild b = build_pipeline(g, m, options, stages, layers, {}, max_job_instructions);
  if (!b.refused.empty()) {
    d.reason = b.refused;
    return d;
  }
  d.placement = std::move(b.placement);
  d.stages = std::move(b.stages);
  d.pipeline_stages = stages;
  d.micro_batches = 1;
  d.rows_per_micro_batch = 0;
  d.estimated_seconds = b.seconds;
  d.applies = true;
  const MachineView sub = stage_view(m, stages);
  d.reason = fmt::format(
      "{} ops of {} layers in {} stage{} of {} cube + {} vector cores, ordered by cross-core barriers, activations on "
      "chip through the L2; one micro-batch per step ({}), so the stages do not overlap and more stages would only "
      "idle cores",
      d.stages.size(), layers, stages, stages == 1 ? "" : "s", sub.cube_cores, sub.vector_cores, why_one);
  if (b.kept) {
    d.program = std::move(b.program);
    return d;
  }
  d.segments = cut_into_segments(b.layer_instructions, max_job_instructions);
  std::string ranges;
  for (const auto& seg : d.segments) {
    ranges += fmt::format("{}{}-{}", ranges.empty() ? "" : ", ", seg.first_layer, seg.last_layer);
  }
  d.reason += fmt::format(
      "; cut into {} jobs of whole layers ({}), because the step as one job holds {} instructions, more than the {} a "
      "job may hold in memory at once: a job boundary between layers is the same all-core synchronisation as the "
      "barrier it replaces",
      d.segments.size(), ranges, b.instructions, max_job_instructions);
  return d;
}

// Chunk counts to weigh for a prefill of `tokens` tokens: the one asked
// for, or powers of two from 2 while a chunk keeps at least 64 tokens (a
// chunk's GEMMs need rows to keep the cube busy) and at most 16 chunks.
std::vector<std::size_t> chunk_candidates(std::uint64_t tokens, std::uint64_t asked) {
  if (asked > 1) return {static_cast<std::size_t>(asked)};
  std::vector<std::size_t> out;
  for (std::size_t c = 2; c <= 16 && tokens % c == 0 && tokens / c >= 64; c *= 2) out.push_back(c);
  return out;
}

}  // namespace

DataflowMapping map_layer_pipeline(const workloads::Graph& g, const MachineView& m, const MapperOptions& options,
                                   std::size_t stages, std::uint64_t max_job_instructions,
                                   const PrefillChunkBuilder& build_chunk, double build_below_seconds) {
  const int layers = pipeline::layer_count(g);
  if (layers == 0) {
    DataflowMapping d;
    d.reason = "the graph has no decoder layers to pipeline";
    return d;
  }
  if (stages == 0) stages = static_cast<std::size_t>(options.pipeline.stages);
  const auto& ctx = g.context;
  const std::uint64_t asked = options.pipeline.prefill_chunks;
  std::string why_one;
  if (ctx.phase != workloads::Phase::prefill) {
    why_one = fmt::format("a decode step has {} token{} per sequence, nothing to split", ctx.new_tokens,
                          ctx.new_tokens == 1 ? "" : "s");
  } else if (!build_chunk) {
    why_one = "the graph came with no way to rebuild it in chunks of tokens (a traced or explicit graph, a routing "
              "trace or a compression plan), so its tokens are not split";
  } else if (asked == 1) {
    why_one = "pipeline.prefill_chunks: 1 was asked for";
  }
  if (!why_one.empty()) return map_one_micro_batch(g, m, options, stages, layers, max_job_instructions, why_one);

  // A prefill that can be chunked: every (stages, chunks) by the cost
  // model, one micro-batch among them unless chunks were asked for.
  std::string why;
  const std::vector<std::size_t> stage_options = stage_candidates(m, layers, stages, why);
  if (stage_options.empty()) {
    DataflowMapping d;
    d.reason = why;
    return d;
  }
  const std::size_t slots = static_cast<std::size_t>(options.pipeline.handoff_slots);
  struct Candidate {
    std::size_t stages = 0, chunks = 1;
    double seconds = 0;
  };
  std::vector<Candidate> weighed;
  std::string rejected;
  for (std::size_t s : stage_options) {
    if (asked == 0 && pipeline::activations_off_chip(g, m).empty()) {
      weighed.push_back({s, 1, estimate(g, m, options, s)});
    }
    for (std::size_t c : chunk_candidates(ctx.new_tokens, asked)) {
      const ChunkedPrefillEstimate e =
          estimate_chunked_prefill(g, build_chunk, m, options, s, c, slots, max_job_instructions);
      if (e.reason.empty()) weighed.push_back({s, c, e.seconds});
      else if (rejected.empty()) rejected = fmt::format("{} chunks on {} stages: {}", c, s, e.reason);
    }
  }
  std::sort(weighed.begin(), weighed.end(),
            [](const Candidate& a, const Candidate& b) { return a.seconds < b.seconds; });
  std::string summary;
  for (std::size_t i = 0; i < weighed.size() && i < 4; ++i) {
    summary += fmt::format("{}{}x{} {:.2f} us", summary.empty() ? "" : ", ", weighed[i].stages, weighed[i].chunks,
                           weighed[i].seconds * 1e6);
  }
  DataflowMapping d;
  d.reason = weighed.empty() ? (rejected.empty() ? pipeline::activations_off_chip(g, m) : rejected) : std::string{};
  if (!weighed.empty() && weighed.front().seconds >= build_below_seconds) {
    // Building a large step's pipeline costs a mapping pass over every
    // chunk; one that would not be chosen is not built.
    d.reason = fmt::format(
        "its fastest by the cost model, {} stage{} x {} chunk{}, is estimated {:.2f} us, no faster than "
        "kernel-by-kernel's {:.2f} us, so it was not built (each chunk re-reads its stage's weights; stages x chunks, "
        "fastest first: {})",
        weighed.front().stages, weighed.front().stages == 1 ? "" : "s", weighed.front().chunks,
        weighed.front().chunks == 1 ? "" : "s", weighed.front().seconds * 1e6, build_below_seconds * 1e6, summary);
    return d;
  }
  // The fastest that can be built (one past the instruction cap cannot).
  std::string skipped;
  for (const Candidate& c : weighed) {
    d = c.chunks == 1 ? map_one_micro_batch(g, m, options, c.stages, layers, max_job_instructions,
                                            "the cost model found one micro-batch fastest")
                      : map_chunked_prefill(g, build_chunk, m, options, c.stages, c.chunks, slots,
                                            max_job_instructions);
    if (d.applies) break;
    skipped += fmt::format("; {} stages x {} chunks skipped: {}", c.stages, c.chunks, d.reason);
  }
  if (d.applies && weighed.size() > 1) {
    d.reason += fmt::format(" (cost model, stages x chunks, fastest first: {}{})", summary, skipped);
  } else if (!d.applies && !skipped.empty()) {
    d.reason = skipped.substr(2);
  }
  return d;
}

void for_each_dataflow_job(const workloads::Graph& g, const MachineView& m, const MapperOptions& options,
                           const DataflowMapping& d, const std::function<void(const arch::Program&)>& on_job) {
  if (!d.chunk_graphs.empty()) {
    for_each_chunked_job(m, options, d, on_job);
    return;
  }
  if (d.segments.empty()) {
    on_job(d.program);
    return;
  }
  int layers = 0;
  for (auto id : g.topological_order()) layers = std::max(layers, g.op(id).layer + 1);
  const std::vector<int> layer = layer_of_ops(g, layers);
  std::unordered_map<const workloads::Op*, int> layer_at;
  for (auto id : g.topological_order()) layer_at[&g.op(id)] = layer[id];
  for (const auto& seg : d.segments) {
    const OpFilter in_segment = [&](const workloads::Op& op) {
      const int l = layer_at.at(&op);
      return l >= seg.first_layer && l <= seg.last_layer;
    };
    PipelineBuild b = build_pipeline(g, m, options, d.pipeline_stages, layers, in_segment,
                                     std::numeric_limits<std::uint64_t>::max());
    if (b.instructions != seg.instructions) {
      throw SimulationError(fmt::format("layers {}-{} of {} mapped to {} instructions, {} when the step was cut",
                                        seg.first_layer, seg.last_layer, g.name(), b.instructions, seg.instructions));
    }
    on_job(b.program);
  }
}

}  // namespace npusim::mapper
