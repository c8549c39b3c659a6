#include "mapper/dataflow/chunked_prefill.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "arch/address_map.h"
#include "common/error.h"
#include "mapper/dataflow/pipeline_sync.h"
#include "mapper/fusion/workspace.h"

namespace npusim::mapper {
namespace {

using workloads::TensorRole;

constexpr Bytes kRegionAlignment = 4096;  // as placement aligns what it places

Bytes round_up(Bytes bytes, Bytes to) { return (bytes + to - 1) / to * to; }

constexpr const char* kAppendSuffix = ".append";

bool is_append(const std::string& name) {
  const std::string suffix = kAppendSuffix;
  return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string cache_of(const std::string& name) {
  return is_append(name) ? name.substr(0, name.size() - std::string(kAppendSuffix).size()) : name;
}

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

// Per stage, the cost model's seconds for the chunk's ops (with a barrier
// each), the head's separately; and the chunk's DRAM bytes.
struct ChunkCost {
  std::vector<double> layers_seconds;  // by stage, without the head
  std::vector<double> head_seconds;    // by stage
  double dram_bytes = 0;               // weights and KV cache
};

ChunkCost cost_of_chunk(const workloads::Graph& g, const MachineView& m, const MapperOptions& options,
                        std::size_t stages, GemmTilingCache& cache) {
  ChunkCost c;
  c.layers_seconds.assign(stages, 0.0);
  c.head_seconds.assign(stages, 0.0);
  const std::vector<std::size_t> stage = pipeline::stage_of_ops(g, pipeline::layer_count(g), stages);
  const std::vector<bool> head = after_layers(g);
  for_each_kernel_job(g, pipeline::stage_view(m, stages), cache, options, [&](Job& job) {
    auto& at = head[job.op] ? c.head_seconds : c.layers_seconds;
    at[stage[job.op]] += job.estimated_seconds + pipeline::barrier_seconds(m);
  });
  for (auto id : g.topological_order()) {
    if (head[id]) continue;
    const auto& op = g.op(id);
    c.dram_bytes += static_cast<double>(op.bytes_read.weight + op.bytes_read.kv_cache + op.bytes_written.kv_cache);
  }
  return c;
}

// One layout shared by every chunk's graph (the header says which).
class SharedLayout {
 public:
  SharedLayout(const workloads::Graph& last_chunk, const std::vector<workloads::Graph>& chunks, const MachineView& sub,
               const MapperOptions& options, std::size_t stages, std::size_t slots)
      : stages_(stages), slots_(slots) {
    const Bytes workspace = fusion_workspace_bytes(sub);
    const Placement ref = place_tensors(last_chunk, sub, options.placement, workspace);
    std::optional<arch::Tier> tier;
    std::uint64_t lowest = std::numeric_limits<std::uint64_t>::max();
    for (const auto& t : last_chunk.tensors()) {
      const TensorPlace& p = ref.tensors.at(t.id);
      if (t.role == TensorRole::weight) {
        weights_[t.name] = p;
        continue;
      }
      if (p.spilled || (tier && *tier != p.tier)) {
        reason_ = fmt::format("tensor '{}' is in tier {}{}, and one layout of the chunks' KV cache and activations "
                              "needs them all in one tier", t.name, arch::tier_name(p.tier), p.spilled ? " (spilled)" : "");
        return;
      }
      tier = p.tier;
      if (t.role == TensorRole::activation) lowest = std::min(lowest, p.address);
      if (t.role == TensorRole::kv_cache && is_append(t.name)) pages_[cache_of(t.name)] = t.bytes();
    }
    if (!ref.staged_address.empty()) {
      reason_ = "the KV cache is prefetched into staging slots, which the chunks' shared layout does not model";
      return;
    }
    if (!tier) {
      reason_ = "the step has no KV cache or activations to lay out";
      return;
    }
    tier_ = *tier;
    if (ref.workspace_bytes > 0) lowest = std::min(lowest, ref.workspace_address);
    // The KV pages where the reference placed its activations, and the
    // activation regions after them.
    std::uint64_t at = lowest;
    for (const auto& [cache, page] : pages_) {
      kv_region_[cache] = at;
      at += round_up(page * chunks.size(), kRegionAlignment);
    }
    for (const auto& g : chunks) {
      const Placement p = place_tensors(g, sub, options.placement, workspace);
      span_ = std::max(span_, extent(g, p).second - extent(g, p).first);
    }
    span_ = round_up(span_, kRegionAlignment);
    activation_base_ = at;
    const std::uint64_t end = at + regions() * span_;
    const std::uint64_t capacity_end = arch::tier_base(tier_) + capacity(sub, tier_);
    if (end > capacity_end) {
      reason_ = fmt::format("the KV pages and {} activation regions of {} B need {} B of tier {} past its capacity",
                            regions(), span_, end - capacity_end, arch::tier_name(tier_));
    }
  }

  const std::string& reason() const { return reason_; }
  std::uint64_t regions() const { return stages_ + stages_ * slots_; }

  // Moves chunk `chunk`'s tensors (graph g, placed as `p`) onto the layout.
  void relocate(const workloads::Graph& g, std::size_t chunk, const std::vector<std::size_t>& stage_of_op,
                Placement& p) const {
    const auto [lowest, highest] = extent(g, p);
    if (highest - lowest > span_) {
      throw SimulationError(fmt::format("{}: activations span {} B, past the {} B region laid out for them", g.name(),
                                        highest - lowest, span_));
    }
    const std::vector<std::uint64_t> region = activation_regions(g, chunk, stage_of_op);
    for (const auto& t : g.tensors()) {
      TensorPlace& place = p.tensors.at(t.id);
      if (t.role == TensorRole::weight) {
        place = weights_.at(t.name);
      } else if (t.role == TensorRole::kv_cache) {
        const std::string cache = cache_of(t.name);
        place.tier = tier_;
        place.address = kv_region_.at(cache) + (is_append(t.name) ? chunk * pages_.at(cache) : 0);
      } else {
        place.tier = tier_;
        place.address = activation_base_ + region[t.id] * span_ + (place.address - lowest);
      }
    }
    if (p.workspace_bytes > 0) p.workspace_address = activation_base_ + (p.workspace_address - lowest);
  }

 private:
  static Bytes capacity(const MachineView& m, arch::Tier tier) {
    switch (tier) {
      case arch::Tier::sram: return m.sram_capacity;
      case arch::Tier::ddr: return m.ddr_capacity;
      case arch::Tier::hbm: return m.hbm_capacity;
    }
    return 0;
  }

  // The lowest and one past the highest address of the activations and workspace.
  static std::pair<std::uint64_t, std::uint64_t> extent(const workloads::Graph& g, const Placement& p) {
    std::uint64_t lo = std::numeric_limits<std::uint64_t>::max(), hi = 0;
    for (const auto& t : g.tensors()) {
      if (t.role != TensorRole::activation) continue;
      lo = std::min(lo, p.tensors.at(t.id).address);
      hi = std::max(hi, p.tensors.at(t.id).address + t.bytes());
    }
    if (p.workspace_bytes > 0) {
      lo = std::min(lo, p.workspace_address);
      hi = std::max(hi, p.workspace_address + p.workspace_bytes);
    }
    return {lo, hi};
  }

  // Stage s's private region is s; hand-off slot q of stage s is
  // stages + s * slots + q. A tensor goes to its producer's stage (a graph
  // input to its first consumer's), in a hand-off slot when another stage
  // reads it.
  std::vector<std::uint64_t> activation_regions(const workloads::Graph& g, std::size_t chunk,
                                                const std::vector<std::size_t>& stage_of_op) const {
    std::vector<std::optional<std::size_t>> owner(g.num_tensors());
    std::vector<bool> crosses(g.num_tensors(), false);
    for (auto id : g.topological_order()) {
      for (auto t : g.op(id).outputs) owner[t] = stage_of_op[id];
    }
    for (auto id : g.topological_order()) {
      for (auto t : g.op(id).inputs) {
        if (!owner[t]) owner[t] = stage_of_op[id];
        crosses[t] = crosses[t] || *owner[t] != stage_of_op[id];
      }
    }
    std::vector<std::uint64_t> region(g.num_tensors(), 0);
    for (std::size_t t = 0; t < region.size(); ++t) {
      const std::size_t s = owner[t].value_or(0);
      region[t] = crosses[t] ? stages_ + s * slots_ + chunk % slots_ : s;
    }
    return region;
  }

  std::size_t stages_, slots_;
  std::string reason_;
  arch::Tier tier_ = arch::Tier::hbm;
  std::unordered_map<std::string, TensorPlace> weights_;
  std::map<std::string, Bytes> pages_;                 // cache -> one chunk's entries
  std::map<std::string, std::uint64_t> kv_region_;     // cache -> its first page
  std::uint64_t activation_base_ = 0;
  Bytes span_ = 0;
};

}  // namespace

ChunkedPrefillEstimate estimate_chunked_prefill(const workloads::Graph& step, const PrefillChunkBuilder& build_chunk,
                                                const MachineView& m, const MapperOptions& options,
                                                std::size_t stages, std::size_t chunks, std::size_t slots) {
  ChunkedPrefillEstimate e;
  const Chunking chunking = chunking_of(step, chunks);
  if (!chunking.reason.empty()) {
    e.reason = chunking.reason;
    return e;
  }
  GemmTilingCache cache(options.search);
  const workloads::Graph first = checked_chunk(build_chunk, step, 0, chunking.tokens);
  const workloads::Graph last = checked_chunk(build_chunk, step, chunks - 1, chunking.tokens);
  for (const auto* g : {&first, &last}) {
    e.reason = pipeline::activations_off_chip(*g, m);
    if (!e.reason.empty()) return e;
  }
  const ChunkCost c0 = cost_of_chunk(first, m, options, stages, cache);
  const ChunkCost cl = cost_of_chunk(last, m, options, stages, cache);
  // Only attention grows with the keys, linearly: chunk i is i/(C-1) of the way.
  const auto between = [&](double a, double b, std::size_t i) {
    return a + (b - a) * static_cast<double>(i) / static_cast<double>(chunks - 1);
  };
  std::vector<std::vector<double>> end(stages, std::vector<double>(chunks, 0.0));
  double dram_bytes = 0;
  for (std::size_t i = 0; i < chunks; ++i) {
    dram_bytes += between(c0.dram_bytes, cl.dram_bytes, i);
    for (std::size_t s = 0; s < stages; ++s) {
      double start = 0;
      if (s > 0) start = std::max(start, end[s - 1][i]);
      if (i > 0) start = std::max(start, end[s][i - 1]);
      if (s + 1 < stages && i >= slots) start = std::max(start, end[s + 1][i - slots]);
      double work = between(c0.layers_seconds[s], cl.layers_seconds[s], i);
      if (i + 1 == chunks) work += cl.head_seconds[s];
      if (i == chunks / 2) e.slowest_stage_seconds = std::max(e.slowest_stage_seconds, work);
      end[s][i] = start + work;
    }
  }
  // The head reads its weights once, for the last chunk.
  const std::vector<bool> head = after_layers(last);
  for (auto id : last.topological_order()) {
    if (head[id]) dram_bytes += static_cast<double>(last.op(id).bytes_read.weight);
  }
  e.schedule_seconds = end[stages - 1][chunks - 1];
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
  const SharedLayout layout(graphs.back(), graphs, sub, options, stages, slots);
  if (!layout.reason().empty()) {
    d.reason = layout.reason();
    return d;
  }

  arch::Program& program = d.program;
  program.cube_cores.resize(static_cast<std::size_t>(m.cube_cores));
  program.vector_cores.resize(m.split_cores ? static_cast<std::size_t>(m.vector_cores) : 0);
  const std::uint32_t arrivals = pipeline::arrivals_per_op(m, stages);
  // done[s][i]: the barrier of stage s's last op of chunk i.
  std::vector<std::vector<std::uint64_t>> done(stages, std::vector<std::uint64_t>(chunks, 0));
  std::uint32_t next_barrier = 0;
  std::uint64_t instructions = 0;
  bool past_cap = false;
  std::size_t cap_chunk = 0;
  GemmTilingCache cache(options.search);
  for (std::size_t i = 0; i < chunks && !past_cap; ++i) {
    const workloads::Graph& g = graphs[i];
    const std::vector<std::size_t> stage = pipeline::stage_of_ops(g, layers, stages);
    const std::vector<bool> head = after_layers(g);
    std::unordered_map<const workloads::Op*, bool> runs;
    for (auto id : g.topological_order()) runs[&g.op(id)] = !head[id] || i + 1 == chunks;
    std::vector<std::optional<std::uint64_t>> previous(stages);  // stage's op before, in this chunk
    const auto relocate = [&](Placement& p) { layout.relocate(g, i, stage, p); };
    const auto include = [&](const workloads::Op& op) { return runs.at(&op); };
    for_each_kernel_job(g, sub, cache, options, [&](Job& job) {
      if (past_cap) return;
      const std::size_t s = stage[job.op];
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
                                          step.name(), arch::kBarriers));
      }
      const std::uint64_t barrier = arch::barrier_address(next_barrier++, arrivals);
      const auto tag = static_cast<std::uint32_t>(program.op_names.size());
      program.op_names.push_back(fmt::format("chunk{}/{}", i, job.name));
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
          instructions += src[c].instructions.size() + waits.size() + 2;
        }
      };
      place(program.cube_cores, job.program.cube_cores, static_cast<int>(s) * sub.cube_cores, true);
      place(program.vector_cores, job.program.vector_cores, static_cast<int>(s) * sub.vector_cores, false);
      previous[s] = barrier;
      done[s][i] = barrier;
      DataflowStage st;
      st.op = job.op;
      st.chunk = i;
      st.name = program.op_names.back();
      st.cube = workloads::is_matmul_like(g.op(job.op).kind);
      st.first_core = static_cast<int>(s) * sub.cube_cores;
      st.cores = sub.cube_cores;
      d.stages.push_back(std::move(st));
      if (instructions > max_job_instructions) {
        past_cap = true;
        cap_chunk = i;
        program = arch::Program{};
      }
    }, include, relocate);
  }
  if (past_cap) {
    d.stages.clear();
    d.reason = fmt::format(
        "{} chunks on {} stages hold more than the {} instructions a job may hold in memory at once (passed in chunk "
        "{}'s mapping); a chunked pipeline is not cut into jobs, since its stages overlap only inside one job",
        chunks, stages, max_job_instructions, cap_chunk);
    return d;
  }
  const ChunkedPrefillEstimate e = estimate_chunked_prefill(step, build_chunk, m, options, stages, chunks, slots);
  d.chunk_graphs = std::move(graphs);
  d.pipeline_stages = stages;
  d.micro_batches = chunks;
  d.rows_per_micro_batch = chunking.tokens * step.context.batch;
  d.handoff_slots = slots;
  d.estimated_seconds = e.seconds;
  d.applies = true;
  d.reason = fmt::format(
      "prefill in {} chunks of {} tokens through {} stage{} of {} cube + {} vector cores, {} hand-off slots per stage, "
      "in one job of {} instructions; estimated fill + steady state + drain {:.2f} us (slowest stage {:.2f} us a "
      "chunk), DRAM traffic {:.2f} us with every chunk re-reading its stage's weights",
      chunks, chunking.tokens, stages, stages == 1 ? "" : "s", sub.cube_cores, sub.vector_cores, slots, instructions,
      e.schedule_seconds * 1e6, e.slowest_stage_seconds * 1e6, e.dram_seconds * 1e6);
  return d;
}

const workloads::Op& pipeline_op(const workloads::Graph& step, const DataflowMapping& d, const DataflowStage& st) {
  return d.chunk_graphs.empty() ? step.op(st.op) : d.chunk_graphs.at(st.chunk).op(st.op);
}

}  // namespace npusim::mapper
