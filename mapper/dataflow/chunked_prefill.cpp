#include "mapper/dataflow/chunked_prefill.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "arch/address_map.h"
#include "common/error.h"
#include "mapper/dataflow/chunk_layout.h"
#include "mapper/dataflow/pipeline_sync.h"

namespace npusim::mapper {
namespace {

// Ops after the last decoder layer (final norm, last-token gather, head):
// only the last chunk runs them, since the step's output is its last token.
std::vector<bool> after_layers(const workloads::Graph& g) {
  std::vector<bool> after(g.num_ops(), false);
  bool seen_layer = false;
  for (auto id : g.topological_order()) {
    const int layer = g.op(id).layer;
    seen_layer = seen_layer || layer >= 0;
    after[id] = layer < 0 && seen_layer;
  }
  return after;
}

struct Chunking {
  std::uint64_t tokens = 0;  // per chunk and sequence
  std::string reason;        // why the step cannot be chunked so; empty when it can
};

Chunking chunking_of(const workloads::Graph& step, std::size_t chunks) {
  Chunking c;
  const auto& ctx = step.context;
  if (ctx.phase != workloads::Phase::prefill || ctx.context != 0) {
    c.reason = "only a prefill from an empty KV cache is split into chunks (a decode step has one token per sequence)";
  } else if (chunks < 2 || ctx.new_tokens % chunks != 0) {
    c.reason = fmt::format("{} chunks do not split the {} tokens of the step evenly", chunks, ctx.new_tokens);
  } else {
    c.tokens = ctx.new_tokens / chunks;
  }
  return c;
}

workloads::Graph checked_chunk(const PrefillChunkBuilder& build, const workloads::Graph& step, std::size_t i,
                               std::uint64_t tokens) {
  workloads::Graph g = build(i * tokens, tokens);
  if (g.context.context != i * tokens || g.context.new_tokens != tokens || g.context.batch != step.context.batch) {
    throw SimulationError(fmt::format("the chunk builder made {} for chunk {} of {} tokens, not {} tokens after {}",
                                      g.name(), i, tokens, tokens, i * tokens));
  }
  return g;
}

std::vector<LayerSegment> whole_step(int layers) {
  LayerSegment all;
  all.first_layer = 0;
  all.last_layer = layers - 1;
  return {all};
}

// The cost model's seconds and the instructions of one chunk's ops by layer
// (as layer_of_ops, with a barrier each), the head's apart since only the
// last chunk runs it, on a stage's share of the machine; and its DRAM bytes.
struct ChunkCost {
  std::vector<double> seconds;                 // by layer, without the head
  std::vector<std::uint64_t> instructions;     // by layer, without the head
  double head_seconds = 0;
  std::uint64_t head_instructions = 0;
  double dram_bytes = 0;       // weights and KV cache, without the head
  double head_weight_bytes = 0;
};

ChunkCost cost_of_chunk(const workloads::Graph& g, const MachineView& m, const MapperOptions& options,
                        std::size_t stages, int layers, GemmTilingCache& cache) {
  ChunkCost c;
  c.seconds.assign(static_cast<std::size_t>(layers), 0.0);
  c.instructions.assign(static_cast<std::size_t>(layers), 0);
  const std::vector<int> layer = pipeline::layer_of_ops(g, layers);
  const std::vector<bool> head = after_layers(g);
  for_each_kernel_job(g, pipeline::stage_view(m, stages), cache, options, [&](Job& job) {
    const double seconds = job.estimated_seconds + pipeline::barrier_seconds(m);
    std::uint64_t instructions = 0;
    for (const auto* cores : {&job.program.cube_cores, &job.program.vector_cores}) {
      for (const auto& core : *cores) instructions += core.instructions.size() + 2;
    }
    if (head[job.op]) {
      c.head_seconds += seconds;
      c.head_instructions += instructions;
    } else {
      c.seconds[static_cast<std::size_t>(layer[job.op])] += seconds;
      c.instructions[static_cast<std::size_t>(layer[job.op])] += instructions;
    }
  });
  for (auto id : g.topological_order()) {
    const auto& op = g.op(id);
    if (head[id]) {
      c.head_weight_bytes += static_cast<double>(op.bytes_read.weight);
    } else {
      c.dram_bytes += static_cast<double>(op.bytes_read.weight + op.bytes_read.kv_cache + op.bytes_written.kv_cache);
    }
  }
  return c;
}

// Waits a stage adds to its first op of a chunk, at most: the hand-off, its
// own chunk before, and back-pressure; per core, so a cut leaves this much
// room under the cap for the waits a job's first ops gain.
constexpr std::uint64_t kWaitsPerChunkStart = 3;

// One job: the layers of `seg` for every chunk, each chunk's ops placed on
// their stage's cores behind the barriers the header lists. Past
// `keep_cap` instructions the program is dropped and only counted on.
struct SegmentBuild {
  arch::Program program;
  bool kept = true;
  std::uint64_t instructions = 0;
  std::vector<std::uint64_t> layer_instructions;  // by layer_of_ops
  std::vector<DataflowStage> stages;
};

SegmentBuild build_segment(const std::vector<workloads::Graph>& graphs, const MachineView& m,
                           const MapperOptions& options, std::size_t stages, std::size_t slots,
                           const pipeline::ChunkLayout& layout, const std::vector<LayerSegment>& segments, std::size_t k,
                           std::uint64_t keep_cap) {
  SegmentBuild b;
  const std::size_t chunks = graphs.size();
  const int layers = pipeline::layer_count(graphs.back());
  const MachineView sub = pipeline::stage_view(m, stages);
  b.layer_instructions.assign(static_cast<std::size_t>(layers), 0);
  arch::Program& program = b.program;
  program.cube_cores.resize(static_cast<std::size_t>(m.cube_cores));
  program.vector_cores.resize(m.split_cores ? static_cast<std::size_t>(m.vector_cores) : 0);
  const std::uint32_t arrivals = pipeline::arrivals_per_op(m, stages);
  // done[s][i]: the barrier of stage s's last op of chunk i.
  std::vector<std::vector<std::uint64_t>> done(stages, std::vector<std::uint64_t>(chunks, 0));
  std::uint32_t next_barrier = 0;
  GemmTilingCache cache(options.search);
  for (std::size_t i = 0; i < chunks; ++i) {
    const workloads::Graph& g = graphs[i];
    const pipeline::ChunkAssignment at = pipeline::assign_chunk_ops(g, layers, segments, stages);
    const std::vector<bool> head = after_layers(g);
    std::unordered_map<const workloads::Op*, bool> runs;
    for (auto id : g.topological_order()) runs[&g.op(id)] = at.segment[id] == k && (!head[id] || i + 1 == chunks);
    std::vector<std::optional<std::uint64_t>> previous(stages);  // the stage's op before, in this chunk
    const auto relocate = [&](Placement& p) { layout.relocate(g, i, at, p); };
    const auto include = [&](const workloads::Op& op) { return runs.at(&op); };
    for_each_kernel_job(g, sub, cache, options, [&](Job& job) {
      const std::size_t s = at.stage[job.op];
      std::vector<std::uint64_t> waits;
      if (previous[s]) {
        waits.push_back(*previous[s]);
      } else {
        if (s > 0) waits.push_back(done[s - 1][i]);
        if (i > 0) waits.push_back(done[s][i - 1]);
        if (s + 1 < stages && i >= slots) waits.push_back(done[s + 1][i - slots]);
      }
      if (next_barrier >= arch::kBarriers) {
        throw SimulationError(fmt::format("{} chunks of {} need more than the {} barriers of the address map", chunks,
                                          g.name(), arch::kBarriers));
      }
      const std::uint64_t barrier = arch::barrier_address(next_barrier++, arrivals);
      previous[s] = barrier;
      done[s][i] = barrier;
      std::uint64_t job_instructions = 0;
      for (const auto* cores : {&job.program.cube_cores, &job.program.vector_cores}) {
        for (const auto& core : *cores) {
          job_instructions += core.instructions.size() + 2 + (core.instructions.empty() ? 0 : waits.size());
        }
      }
      b.instructions += job_instructions;
      b.layer_instructions[static_cast<std::size_t>(at.layer[job.op])] += job_instructions;
      DataflowStage st;
      st.op = job.op;
      st.chunk = i;
      st.name = fmt::format("chunk{}/{}", i, job.name);
      st.cube = workloads::is_matmul_like(g.op(job.op).kind);
      st.first_core = static_cast<int>(s) * sub.cube_cores;
      st.cores = sub.cube_cores;
      b.stages.push_back(st);
      if (b.kept && b.instructions > keep_cap) {
        b.kept = false;
        program = arch::Program{};
      }
      if (!b.kept) return;
      const auto tag = static_cast<std::uint32_t>(program.op_names.size());
      program.op_names.push_back(st.name);
      const auto place = [&](std::vector<arch::CoreProgram>& dst, std::vector<arch::CoreProgram>& src, int first,
                             bool cube_core) {
        for (std::size_t c = 0; c < src.size(); ++c) {
          auto& code = dst.at(static_cast<std::size_t>(first) + c).instructions;
          // A core idle in the op still arrives, so the count stays every
          // core of the stage; one that works waited, so the barrier still
          // follows those it waits for.
          if (!src[c].instructions.empty()) {
            for (auto w : waits) pipeline::wait_at(code, cube_core, w, tag);
          }
          for (auto& in : src[c].instructions) {
            in.op_tag = tag;
            code.push_back(in);
          }
          pipeline::arrive_at(code, m.split_cores, cube_core, barrier, tag);
        }
      };
      place(program.cube_cores, job.program.cube_cores, static_cast<int>(s) * sub.cube_cores, true);
      place(program.vector_cores, job.program.vector_cores, static_cast<int>(s) * sub.vector_cores, false);
    }, include, relocate);
  }
  return b;
}

// Jobs of whole layers, each within `cap` once its first ops' waits are
// added; the reason when a segment would have fewer layers than stages.
std::vector<LayerSegment> cut_for_stages(const std::vector<std::uint64_t>& layer_instructions, std::uint64_t cap,
                                         std::uint64_t wait_room, std::size_t stages, std::string& why) {
  std::uint64_t total = 0;
  for (auto n : layer_instructions) total += n;
  if (total <= cap) return whole_step(static_cast<int>(layer_instructions.size()));
  const std::uint64_t room = cap > wait_room ? cap - wait_room : 0;
  for (std::size_t l = 0; l < layer_instructions.size(); ++l) {
    if (layer_instructions[l] > room) {
      why = fmt::format("layer {} of every chunk holds {} instructions, more than the {} a job may hold in memory at "
                        "once (less {} for the waits)",
                        l, layer_instructions[l], cap, wait_room);
      return {};
    }
  }
  std::vector<LayerSegment> segments = pipeline::cut_into_segments(layer_instructions, room);
  for (const auto& seg : segments) {
    if (static_cast<std::size_t>(seg.last_layer - seg.first_layer + 1) < stages) {
      why = fmt::format("cut into jobs under the {}-instruction cap, layers {}-{} are fewer than the {} stages", cap,
                        seg.first_layer, seg.last_layer, stages);
      return {};
    }
  }
  return segments;
}

std::uint64_t wait_room(const MachineView& m, std::size_t stages, std::size_t chunks) {
  return kWaitsPerChunkStart * chunks * stages * static_cast<std::uint64_t>(m.cube_cores + m.vector_cores);
}

std::string describe(const std::vector<LayerSegment>& segments) {
  std::string ranges;
  for (const auto& seg : segments) {
    ranges += fmt::format("{}{}-{}", ranges.empty() ? "" : ", ", seg.first_layer, seg.last_layer);
  }
  return ranges;
}

}  // namespace

ChunkedPrefillEstimate estimate_chunked_prefill(const workloads::Graph& step, const PrefillChunkBuilder& build_chunk,
                                                const MachineView& m, const MapperOptions& options,
                                                std::size_t stages, std::size_t chunks, std::size_t slots,
                                                std::uint64_t max_job_instructions) {
  ChunkedPrefillEstimate e;
  const Chunking chunking = chunking_of(step, chunks);
  if (!chunking.reason.empty()) {
    e.reason = chunking.reason;
    return e;
  }
  const int layers = pipeline::layer_count(step);
  GemmTilingCache cache(options.search);
  const workloads::Graph first = checked_chunk(build_chunk, step, 0, chunking.tokens);
  const workloads::Graph last = checked_chunk(build_chunk, step, chunks - 1, chunking.tokens);
  for (const auto* g : {&first, &last}) {
    e.reason = pipeline::activations_off_chip(*g, m);
    if (!e.reason.empty()) return e;
  }
  const ChunkCost c0 = cost_of_chunk(first, m, options, stages, layers, cache);
  const ChunkCost cl = cost_of_chunk(last, m, options, stages, layers, cache);
  // Only attention grows with the keys, linearly: chunk i is i/(C-1) of the way.
  const auto between = [&](double a, double b, std::size_t i) {
    return a + (b - a) * static_cast<double>(i) / static_cast<double>(chunks - 1);
  };
  std::vector<std::uint64_t> layer_instructions(static_cast<std::size_t>(layers), 0);
  double dram_bytes = cl.head_weight_bytes;  // the head reads its weights once, for the last chunk
  for (std::size_t i = 0; i < chunks; ++i) {
    dram_bytes += between(c0.dram_bytes, cl.dram_bytes, i);
    for (std::size_t l = 0; l < layer_instructions.size(); ++l) {
      layer_instructions[l] += static_cast<std::uint64_t>(between(static_cast<double>(c0.instructions[l]),
                                                                  static_cast<double>(cl.instructions[l]), i));
    }
  }
  layer_instructions.back() += cl.head_instructions;
  e.segments = cut_for_stages(layer_instructions, max_job_instructions, wait_room(m, stages, chunks), stages,
                              e.reason);
  if (e.segments.empty()) return e;
  // Each job fills and drains; its stages overlap inside it.
  for (std::size_t k = 0; k < e.segments.size(); ++k) {
    const auto& seg = e.segments[k];
    const auto n = static_cast<std::size_t>(seg.last_layer - seg.first_layer + 1);
    std::vector<std::vector<double>> end(stages, std::vector<double>(chunks, 0.0));
    for (std::size_t i = 0; i < chunks; ++i) {
      for (std::size_t s = 0; s < stages; ++s) {
        double start = 0;
        if (s > 0) start = std::max(start, end[s - 1][i]);
        if (i > 0) start = std::max(start, end[s][i - 1]);
        if (s + 1 < stages && i >= slots) start = std::max(start, end[s + 1][i - slots]);
        double work = 0;
        for (auto l = static_cast<std::size_t>(seg.first_layer); l <= static_cast<std::size_t>(seg.last_layer); ++l) {
          if ((l - static_cast<std::size_t>(seg.first_layer)) * stages / n == s) {
            work += between(c0.seconds[l], cl.seconds[l], i);
          }
        }
        if (k + 1 == e.segments.size() && s + 1 == stages && i + 1 == chunks) work += cl.head_seconds;
        if (i == chunks / 2) e.slowest_stage_seconds = std::max(e.slowest_stage_seconds, work);
        end[s][i] = start + work;
      }
    }
    e.schedule_seconds += end[stages - 1][chunks - 1];
  }
  const double dram_Bps = m.hbm_Bps > 0 ? m.hbm_Bps : m.ddr_Bps;
  e.dram_seconds = dram_Bps > 0 ? dram_bytes / dram_Bps : 0.0;
  e.seconds = std::max(e.schedule_seconds, e.dram_seconds);
  return e;
}

DataflowMapping map_chunked_prefill(const workloads::Graph& step, const PrefillChunkBuilder& build_chunk,
                                    const MachineView& m, const MapperOptions& options, std::size_t stages,
                                    std::size_t chunks, std::size_t slots, std::uint64_t max_job_instructions) {
  DataflowMapping d;
  const Chunking chunking = chunking_of(step, chunks);
  const int layers = pipeline::layer_count(step);
  if (!chunking.reason.empty()) {
    d.reason = chunking.reason;
    return d;
  }
  if (slots < 2) {
    d.reason = fmt::format("{} hand-off slot(s): a stage needs at least 2, to fill one while the next reads another",
                           slots);
    return d;
  }
  if (stages == 0 || m.cube_cores % static_cast<int>(stages) != 0 || stages > static_cast<std::size_t>(layers)) {
    d.reason = fmt::format("{} stages do not split {} cube cores and {} layers evenly", stages, m.cube_cores, layers);
    return d;
  }
  std::vector<workloads::Graph> graphs;
  graphs.reserve(chunks);
  for (std::size_t i = 0; i < chunks; ++i) {
    graphs.push_back(checked_chunk(build_chunk, step, i, chunking.tokens));
    d.reason = pipeline::activations_off_chip(graphs.back(), m);
    if (!d.reason.empty()) return d;
  }
  const MachineView sub = pipeline::stage_view(m, stages);
  const pipeline::ChunkLayout layout(graphs, sub, options, stages, slots);
  if (!layout.reason().empty()) {
    d.reason = layout.reason();
    return d;
  }
  // The whole step as one job while it is within the cap; else counted,
  // and cut into jobs of whole layers that for_each_dataflow_job builds.
  const std::vector<LayerSegment> whole = whole_step(layers);
  SegmentBuild b = build_segment(graphs, m, options, stages, slots, layout, whole, 0, max_job_instructions);
  const ChunkedPrefillEstimate e =
      estimate_chunked_prefill(step, build_chunk, m, options, stages, chunks, slots, max_job_instructions);
  std::string cut;
  if (!b.kept) {
    d.segments = cut_for_stages(b.layer_instructions, max_job_instructions, wait_room(m, stages, chunks), stages,
                                d.reason);
    if (d.segments.empty()) {
      d.reason = fmt::format("{} chunks on {} stages hold {} instructions, more than the {} a job may hold in memory at "
                             "once, and cannot be cut: {}",
                             chunks, stages, b.instructions, max_job_instructions, d.reason);
      return d;
    }
    cut = fmt::format(
        "; cut into {} jobs of whole layers ({}), each a pipeline of its own that fills and drains, because the step "
        "as one job holds {} instructions, more than the {} a job may hold in memory at once; between jobs each "
        "chunk's activations wait in a region of their own",
        d.segments.size(), describe(d.segments), b.instructions, max_job_instructions);
  } else {
    d.program = std::move(b.program);
  }
  d.stages = std::move(b.stages);
  d.chunk_graphs = std::move(graphs);
  d.pipeline_stages = stages;
  d.micro_batches = chunks;
  d.rows_per_micro_batch = chunking.tokens * step.context.batch;
  d.handoff_slots = slots;
  d.estimated_seconds = e.seconds;
  d.applies = true;
  d.reason = fmt::format(
      "prefill in {} chunks of {} tokens through {} stage{} of {} cube + {} vector cores, {} hand-off slots per stage; "
      "estimated fill + steady state + drain {:.2f} us (slowest stage of a job {:.2f} us a chunk), DRAM traffic "
      "{:.2f} us with every chunk re-reading its stage's weights{}",
      chunks, chunking.tokens, stages, stages == 1 ? "" : "s", sub.cube_cores, sub.vector_cores, slots,
      e.schedule_seconds * 1e6, e.slowest_stage_seconds * 1e6, e.dram_seconds * 1e6, cut);
  return d;
}

void for_each_chunked_job(const MachineView& m, const MapperOptions& options, const DataflowMapping& d,
                          const std::function<void(const arch::Program&)>& on_job) {
  if (d.segments.empty()) {
    on_job(d.program);
    return;
  }
  const std::size_t stages = d.pipeline_stages;
  const pipeline::ChunkLayout layout(d.chunk_graphs, pipeline::stage_view(m, stages), options, stages,
                                     d.handoff_slots);
  for (std::size_t k = 0; k < d.segments.size(); ++k) {
    SegmentBuild b = build_segment(d.chunk_graphs, m, options, stages, d.handoff_slots, layout, d.segments, k,
                                   std::numeric_limits<std::uint64_t>::max());
    on_job(b.program);
  }
}

const workloads::Op& pipeline_op(const workloads::Graph& step, const DataflowMapping& d, const DataflowStage& st) {
  return d.chunk_graphs.empty() ? step.op(st.op) : d.chunk_graphs.at(st.chunk).op(st.op);
}

}  // namespace npusim::mapper
