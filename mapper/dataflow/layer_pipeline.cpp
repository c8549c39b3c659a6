#include "mapper/dataflow/layer_pipeline.h"

#include <algorithm>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "arch/address_map.h"

namespace npusim::mapper {
namespace {

using arch::Buffer;
using arch::Instruction;
using arch::Opcode;
using arch::Pipe;

constexpr Bytes kFlagBytes = 32;  // one flag word, to arrive at or poll a barrier
// A step is one job, so all its ops' programs are held at once (kernel-by-
// kernel holds one op's). Past this many instructions the
// mapping is refused rather than exhaust the host's memory: Llama-2-70B
// decode (80 layers) was killed for memory on a 23 GB host under a 60 M cap,
// while Llama-3-8B decode (35 M instructions run) fit.
constexpr std::uint64_t kMaxInstructions = 40'000'000;

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

}  // namespace

DataflowMapping map_layer_pipeline(const workloads::Graph& g, const MachineView& m, const MapperOptions& options,
                                   std::size_t stages) {
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

  const MachineView sub = stage_view(m, stages);
  const std::vector<std::size_t> stage = stage_of_ops(g, layers, stages);
  arch::Program& program = d.program;
  program.cube_cores.resize(static_cast<std::size_t>(m.cube_cores));
  program.vector_cores.resize(m.split_cores ? static_cast<std::size_t>(m.vector_cores) : 0);
  // Arrivals per op: one per AIC and AIV, two per coupled core.
  const auto group_cores =
      static_cast<std::uint32_t>(m.split_cores ? sub.cube_cores + sub.vector_cores : 2 * sub.cube_cores);
  std::optional<std::uint64_t> previous;  // the barrier of the op before
  std::uint32_t next_barrier = 0;
  double seconds = 0;
  std::uint64_t instructions = 0;
  GemmTilingCache cache(options.search);
  d.placement = for_each_kernel_job(g, sub, cache, options, [&](Job& job) {
    const std::size_t s = stage[job.op];
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
    for (const auto* cores : {&job.program.cube_cores, &job.program.vector_cores}) {
      for (const auto& core : *cores) instructions += core.instructions.size() + 2;
    }
    seconds += job.estimated_seconds + 2.0 * m.gm_hit_latency_cycles / m.core_clock_hz;
    DataflowStage st;
    st.op = job.op;
    st.name = job.name;
    st.cube = workloads::is_matmul_like(g.op(job.op).kind);
    st.first_core = static_cast<int>(s) * sub.cube_cores;
    st.cores = sub.cube_cores;
    d.stages.push_back(std::move(st));
  });
  if (instructions > kMaxInstructions) {
    DataflowMapping refused;
    refused.reason = fmt::format("the step as one job holds {} instructions, more than the {} a mapping may hold in "
                                 "memory at once",
                                 instructions, kMaxInstructions);
    return refused;
  }
  d.micro_batches = 1;
  d.rows_per_micro_batch = 0;
  d.estimated_seconds = seconds;
  d.applies = true;
  d.reason = fmt::format(
      "{} ops of {} layers in {} stage{} of {} cube + {} vector cores, ordered by cross-core barriers, activations on "
      "chip through the L2; one micro-batch per step (its tokens cannot be split), so more stages would only idle "
      "cores",
      d.stages.size(), layers, stages, stages == 1 ? "" : "s", sub.cube_cores, sub.vector_cores);
  return d;
}

}  // namespace npusim::mapper
