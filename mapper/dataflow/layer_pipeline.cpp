#include "mapper/dataflow/layer_pipeline.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "arch/address_map.h"
#include "common/error.h"

namespace npusim::mapper {
namespace {

using arch::Buffer;
using arch::Instruction;
using arch::Opcode;
using arch::Pipe;

constexpr Bytes kFlagBytes = 32;  // one flag word, to arrive at or poll a barrier

// The stage of each op: decoder layers in equal runs, ops outside any layer
// with the first stage before the layers and with the last after them.
std::vector<std::size_t> stage_of_ops(const workloads::Graph& g, int layers, std::size_t stages) {
  std::vector<std::size_t> stage(g.num_ops(), 0);
  bool seen_layer = false;
  for (auto id : g.topological_order()) {
    const int layer = g.op(id).layer;
    if (layer >= 0) {
      seen_layer = true;
      stage[id] = static_cast<std::size_t>(layer) * stages / static_cast<std::size_t>(layers);
    } else {
      stage[id] = seen_layer ? stages - 1 : 0;
    }
  }
  return stage;
}

// The layer whose job an op goes with when a step is cut: its own, or for
// an op outside the layers the first (before them) or the last (after).
std::vector<int> layer_of_ops(const workloads::Graph& g, int layers) {
  std::vector<int> of(g.num_ops(), 0);
  bool seen_layer = false;
  for (auto id : g.topological_order()) {
    const int layer = g.op(id).layer;
    seen_layer = seen_layer || layer >= 0;
    of[id] = layer >= 0 ? layer : seen_layer ? layers - 1 : 0;
  }
  return of;
}

MachineView stage_view(const MachineView& m, std::size_t stages) {
  MachineView v = m;
  v.cube_cores = m.cube_cores / static_cast<int>(stages);
  v.vector_cores = m.split_cores ? m.vector_cores / static_cast<int>(stages) : 0;
  return v;
}

Instruction flag_transfer(Opcode op, Pipe pipe, Buffer src, Buffer dst, std::uint64_t address, std::uint32_t tag) {
  Instruction in;
  in.op = op;
  in.pipe = pipe;
  in.src = src;
  in.dst = dst;
  in.bytes = kFlagBytes;
  in.gm_address = address;
  in.op_tag = tag;
  return in;
}

// Before the op: the core's first load waits for every core of the op before.
void wait_at(std::vector<Instruction>& code, bool cube_core, std::uint64_t barrier, std::uint32_t tag) {
  code.push_back(flag_transfer(Opcode::load, Pipe::mte2, Buffer::gm, cube_core ? Buffer::l1 : Buffer::ub, barrier, tag));
}

// After the op: the core arrives from each pipe that writes to GM. A pipe
// runs its queue in order, so the arrival lands after every store the op
// made on it (AIC: FixPipe, AIV: MTE3, a coupled core: both).
void arrive_at(std::vector<Instruction>& code, bool split, bool cube_core, std::uint64_t barrier, std::uint32_t tag) {
  if (cube_core) {
    Instruction arrive = flag_transfer(Opcode::fixpipe, Pipe::fixpipe, Buffer::l0c, Buffer::gm, barrier, tag);
    arrive.dtype = DType::fp32;
    arrive.out_dtype = DType::fp16;
    code.push_back(arrive);
  }
  if (!cube_core || !split) code.push_back(flag_transfer(Opcode::store, Pipe::mte3, Buffer::ub, Buffer::gm, barrier, tag));
}

// The cost model's time for `stages` stages: one micro-batch, so the ops
// run one after another, each on its stage's cores, plus a barrier each.
double estimate(const workloads::Graph& g, const MachineView& m, const MapperOptions& options, std::size_t stages) {
  GemmTilingCache cache(options.search);
  double seconds = 0;
  for_each_kernel_job(g, stage_view(m, stages), cache, options, [&](Job& job) {
    seconds += job.estimated_seconds + 2.0 * m.gm_hit_latency_cycles / m.core_clock_hz;
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
  // Arrivals per op: one per AIC and AIV, two per coupled core.
  const auto group_cores =
      static_cast<std::uint32_t>(m.split_cores ? sub.cube_cores + sub.vector_cores : 2 * sub.cube_cores);
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
      b.seconds += job.estimated_seconds + 2.0 * m.gm_hit_latency_cycles / m.core_clock_hz;
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

// Consecutive layers in the fewest jobs of near-equal instructions, each at
// most `cap` (every layer alone is within it).
std::vector<LayerSegment> cut_into_segments(const std::vector<std::uint64_t>& layer_instructions, std::uint64_t cap) {
  std::uint64_t total = 0;
  for (auto n : layer_instructions) total += n;
  const std::size_t layers = layer_instructions.size();
  for (std::size_t jobs = static_cast<std::size_t>((total + cap - 1) / cap); jobs <= layers; ++jobs) {
    // A layer goes to the job its middle instruction falls in at an even split.
    std::vector<LayerSegment> segments;
    std::uint64_t before = 0;
    std::size_t last_job = 0;
    bool fits = true;
    for (std::size_t l = 0; l < layers; ++l) {
      const double middle = static_cast<double>(before) + static_cast<double>(layer_instructions[l]) / 2.0;
      const auto job = std::min(jobs - 1, static_cast<std::size_t>(middle * static_cast<double>(jobs) /
                                                                   static_cast<double>(total)));
      if (segments.empty() || job != last_job) {
        LayerSegment seg;
        seg.first_layer = static_cast<int>(l);
        segments.push_back(seg);
        last_job = job;
      }
      segments.back().last_layer = static_cast<int>(l);
      segments.back().instructions += layer_instructions[l];
      fits = fits && segments.back().instructions <= cap;
      before += layer_instructions[l];
    }
    if (fits) return segments;
  }
  std::vector<LayerSegment> one_each(layers);
  for (std::size_t l = 0; l < layers; ++l) {
    one_each[l].first_layer = one_each[l].last_layer = static_cast<int>(l);
    one_each[l].instructions = layer_instructions[l];
  }
  return one_each;
}

}  // namespace

DataflowMapping map_layer_pipeline(const workloads::Graph& g, const MachineView& m, const MapperOptions& options,
                                   std::size_t stages, std::uint64_t max_job_instructions) {
  DataflowMapping d;
  int layers = 0;
  for (auto id : g.topological_order()) layers = std::max(layers, g.op(id).layer + 1);
  if (layers == 0) {
    d.reason = "the graph has no decoder layers to pipeline";
    return d;
  }
  // Activations stay on chip: every op's must fit the share of the L2/SRAM
  // that dataflow may use (the same budget as the stream queues).
  const double budget = 0.5 * static_cast<double>(m.sram_capacity > 0 ? m.sram_capacity : m.l2_capacity);
  for (auto id : g.topological_order()) {
    const auto& op = g.op(id);
    const double act = static_cast<double>(op.bytes_read.activation + op.bytes_written.activation);
    if (act > budget) {
      d.reason = fmt::format("op '{}' moves {:.0f} B of activations, more than the {:.0f} B on chip", op.name, act,
                             budget);
      return d;
    }
  }
  if (g.num_ops() >= arch::kBarriers) {
    d.reason = fmt::format("{} ops need more barriers than the {} the address map has", g.num_ops(), arch::kBarriers);
    return d;
  }
  std::vector<std::size_t> candidates;
  if (stages > 0) {
    if (m.cube_cores % static_cast<int>(stages) != 0 || stages > static_cast<std::size_t>(layers)) {
      d.reason = fmt::format("{} stages do not split {} cube cores and {} layers evenly", stages, m.cube_cores, layers);
      return d;
    }
    candidates = {stages};
  } else {
    for (std::size_t s = 1; s <= 4; ++s) {
      if (m.cube_cores % static_cast<int>(s) == 0 && s <= static_cast<std::size_t>(layers)) candidates.push_back(s);
    }
  }
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
      "chip through the L2; one micro-batch per step (its tokens cannot be split), so more stages would only idle "
      "cores",
      d.stages.size(), layers, stages, stages == 1 ? "" : "s", sub.cube_cores, sub.vector_cores);
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

void for_each_dataflow_job(const workloads::Graph& g, const MachineView& m, const MapperOptions& options,
                           const DataflowMapping& d, const std::function<void(const arch::Program&)>& on_job) {
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
