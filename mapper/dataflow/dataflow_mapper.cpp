#include "mapper/dataflow/dataflow_mapper.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "arch/address_map.h"
#include "mapper/compression/gemm_operands.h"
#include "mapper/dataflow/layer_pipeline.h"
#include "mapper/dataflow/stage_gemm.h"
#include "mapper/fusion/matmul_bias.h"
#include "mapper/gemm/gemm.h"
#include "mapper/kernel_mapper.h"
#include "mapper/vector/vector_lowering.h"
#include "mapper/vector/vector_passes.h"

namespace npusim::mapper {
namespace {

using workloads::OpKind;
using workloads::TensorRole;

// The chain of ops, or the reason the graph is not one.
struct Chain {
  std::vector<workloads::OpId> ops;
  std::uint64_t rows = 0;
  std::string reason;
};

Chain find_chain(const workloads::Graph& g) {
  Chain c;
  std::optional<workloads::TensorId> flowing;
  for (auto id : g.topological_order()) {
    const auto& op = g.op(id);
    if (op.kind == OpKind::Reshape || op.kind == OpKind::Transpose) {
      c.reason = fmt::format("op '{}' is a view; dataflow maps chains of compute ops only", op.name);
      return c;
    }
    std::vector<workloads::TensorId> acts;
    for (auto in : op.inputs) {
      if (g.tensor(in).role == TensorRole::activation) acts.push_back(in);
      if (g.tensor(in).role == TensorRole::kv_cache) {
        c.reason = fmt::format("op '{}' reads a KV cache; dataflow stages hold no cache", op.name);
        return c;
      }
    }
    if (acts.size() != 1 || op.outputs.size() != 1 || (flowing && acts.front() != *flowing)) {
      c.reason = fmt::format("op '{}' ({}) is not fed by exactly the previous op's output", op.name,
                             workloads::op_kind_name(op.kind));
      return c;
    }
    if (workloads::is_matmul_like(op.kind) && (!op.weight || op.matmul->batch != 1)) {
      c.reason = fmt::format("op '{}' is a batched or weightless matmul", op.name);
      return c;
    }
    if (matmul_bias(g, id)) {
      c.reason = fmt::format("op '{}' has a bias, which the dataflow stage GEMM does not add", op.name);
      return c;
    }
    const auto& out = g.tensor(op.outputs.front());
    // Rows are every dimension but the last (graph workloads carry a batch).
    const std::uint64_t rows = out.shape.empty() ? 1 : out.elements() / std::max<std::uint64_t>(1, out.shape.back());
    if (c.rows != 0 && rows != c.rows) {
      c.reason = fmt::format("op '{}' changes the row count ({} -> {})", op.name, c.rows, rows);
      return c;
    }
    c.rows = rows;
    flowing = op.outputs.front();
    c.ops.push_back(id);
  }
  if (c.ops.size() < 2) c.reason = "a pipeline needs at least two ops";
  return c;
}

// Bytes per row of an op's output and input activation.
double row_bytes(const workloads::Graph& g, workloads::TensorId t, std::uint64_t rows) {
  return static_cast<double>(g.tensor(t).bytes()) / static_cast<double>(rows);
}

// Cores per stage: one each, the rest in proportion to work (FLOPs on the
// cube cores, bytes on the vector cores). Empty when there are too few.
struct StageCores {
  std::vector<int> cores;
  int cube_pool = 0;  // the first vector-stage core on coupled cores
  std::string reason;
};

StageCores stage_cores(const workloads::Graph& g, const Chain& chain, const MachineView& m) {
  StageCores sc;
  const bool split = m.split_cores;
  const auto work_of = [&](const workloads::Op& op) {
    return workloads::is_matmul_like(op.kind) ? static_cast<double>(op.flops)
                                              : static_cast<double>(op.bytes_read.total() + op.bytes_written.total());
  };
  double cube_work = 0, vec_work = 0;
  int cube_stages = 0, vec_stages = 0;
  for (auto id : chain.ops) {
    const auto& op = g.op(id);
    const bool cube = workloads::is_matmul_like(op.kind);
    (cube ? cube_work : vec_work) += work_of(op);
    (cube ? cube_stages : vec_stages)++;
  }
  sc.cube_pool = split ? m.cube_cores : m.cube_cores - vec_stages;
  const int vec_pool = split ? m.vector_cores : vec_stages;
  if (cube_stages > sc.cube_pool || (split && vec_stages > vec_pool) || sc.cube_pool <= 0) {
    sc.reason = fmt::format("{} stages need more cores than the machine has", chain.ops.size());
    return sc;
  }
  sc.cores.assign(chain.ops.size(), 1);
  int cube_left = sc.cube_pool - cube_stages, vec_left = split ? vec_pool - vec_stages : 0;
  double cube_work_left = cube_work, vec_work_left = vec_work;
  for (std::size_t s = 0; s < chain.ops.size(); ++s) {
    const auto& op = g.op(chain.ops[s]);
    const bool cube = workloads::is_matmul_like(op.kind);
    const double work = work_of(op);
    double& work_left = cube ? cube_work_left : vec_work_left;
    int& left = cube ? cube_left : vec_left;
    const int extra = work_left > 0 ? static_cast<int>(std::floor(left * work / work_left)) : 0;
    sc.cores[s] += extra;
    left -= extra;
    work_left -= work;
  }
  return sc;
}

// One preload wave as the cost model sees it: its cores each stream a
// slice, and arrive at the next wave's barrier once a fraction of it is in.
struct WaveLoad {
  double cores = 0, slice_bytes = 0, preload_cycles = 0, arrive_fraction = 1;
};

// Cycle each wave's slices are all in. The loads flow as a fluid: a loading
// core streams at most its own blocking-read rate (slice over preload
// cycles) and, when the loading cores ask for more than HBM delivers, they
// share HBM evenly. Wave w starts a memory latency after every core of wave
// w-1 has arrived, so an early arrival overlaps two waves' loads.
std::vector<double> wave_load_finish(const std::vector<WaveLoad>& waves, double hbm_bytes_per_cycle,
                                     double latency_cycles) {
  const double inf = std::numeric_limits<double>::infinity(), eps = 1e-9;
  const std::size_t n = waves.size();
  std::vector<double> start(n, inf), finish(n, inf), in(n, 0.0), rate(n, 0.0);
  std::vector<bool> arrived(n, false);
  if (n == 0) return finish;
  start[0] = 0;
  double now = 0;
  const auto cap = [&](std::size_t w) {
    return waves[w].preload_cycles > 0 ? waves[w].slice_bytes / waves[w].preload_cycles : inf;
  };
  const auto arrive = [&](std::size_t w) {
    arrived[w] = true;
    if (w + 1 < n) start[w + 1] = now + latency_cycles;
  };
  for (;;) {
    std::vector<std::size_t> active;
    for (std::size_t w = 0; w < n; ++w) {
      if (start[w] > now + eps || finish[w] < inf) continue;
      if (waves[w].slice_bytes <= 0) {
        finish[w] = now;
        if (!arrived[w]) arrive(w);
        continue;
      }
      active.push_back(w);
    }
    if (active.empty()) {
      double next = inf;
      for (std::size_t w = 0; w < n; ++w) {
        if (finish[w] == inf && start[w] > now) next = std::min(next, start[w]);
      }
      if (next == inf) break;
      now = next;
      continue;
    }
    // Even shares of HBM, filled up to each wave's per-core cap, lowest first.
    std::sort(active.begin(), active.end(), [&](std::size_t a, std::size_t b) { return cap(a) < cap(b); });
    double hbm_left = hbm_bytes_per_cycle > 0 ? hbm_bytes_per_cycle : inf, cores_left = 0;
    for (auto w : active) cores_left += waves[w].cores;
    for (auto w : active) {
      const double share = hbm_left / std::max(cores_left, 1.0);
      rate[w] = std::min(cap(w), share);
      hbm_left -= rate[w] * waves[w].cores;
      cores_left -= waves[w].cores;
    }
    double step = inf;
    for (std::size_t w = 0; w < n; ++w) {
      if (start[w] > now + eps) step = std::min(step, start[w] - now);
    }
    for (auto w : active) {
      const double target = arrived[w] ? 1.0 : waves[w].arrive_fraction;
      step = std::min(step, std::max(0.0, (target - in[w]) * waves[w].slice_bytes / rate[w]));
    }
    now += step;
    for (auto w : active) {
      in[w] += rate[w] * step / waves[w].slice_bytes;
      if (!arrived[w] && in[w] >= waves[w].arrive_fraction - eps) arrive(w);
      if (in[w] >= 1.0 - eps) finish[w] = now;
    }
  }
  return finish;
}

struct Plan {
  DataflowMapping mapping;
  double seconds = std::numeric_limits<double>::infinity();
};

Plan plan_for(const workloads::Graph& g, const Chain& chain, const MachineView& m, const Placement& placement,
              std::uint64_t rows_per_mb, std::uint32_t wave_starts, std::uint32_t blocks_left_at_arrival) {
  Plan plan;
  DataflowMapping& d = plan.mapping;
  const std::uint64_t T = chain.rows / rows_per_mb;
  d.micro_batches = T;
  d.rows_per_micro_batch = rows_per_mb;
  const bool split = m.split_cores;

  const StageCores sc = stage_cores(g, chain, m);
  if (sc.cores.empty()) {
    d.reason = sc.reason;
    return plan;
  }
  const std::vector<int>& cores = sc.cores;
  const int cube_pool = sc.cube_pool;
  // Weight preload waves: with every stage loading at once the loads share
  // HBM and the first stage's weights are in no sooner than the last's.
  // In waves, each wave of consecutive cube stages starts loading when the
  // one before it has its weights (a cross-core barrier), so early stages
  // compute while later ones load: weights arrive in pipeline order. Bit i
  // of wave_starts opens a new wave at cube stage i.
  std::vector<int> wave(chain.ops.size(), 0);
  std::vector<std::uint32_t> wave_cores{0};
  {
    int cube_index = 0;
    for (std::size_t s = 0; s < chain.ops.size(); ++s) {
      if (!workloads::is_matmul_like(g.op(chain.ops[s]).kind)) continue;
      if (cube_index > 0 && cube_index < 32 && (wave_starts >> cube_index & 1u)) wave_cores.push_back(0);
      wave[s] = static_cast<int>(wave_cores.size()) - 1;
      ++cube_index;
    }
  }
  std::vector<WaveLoad> wave_load(wave_cores.size());
  for (auto& load : wave_load) load.arrive_fraction = blocks_left_at_arrival > 0 ? 0.0 : 1.0;
  int next_cube = 0, next_vec = split ? 0 : cube_pool;

  arch::Program& program = d.program;
  program.cube_cores.resize(static_cast<std::size_t>(m.cube_cores));
  program.vector_cores.resize(split ? static_cast<std::size_t>(m.vector_cores) : 0);
  std::vector<double> first_block_share;  // per stage
  for (std::size_t s = 0; s < chain.ops.size(); ++s) {
    const auto& op = g.op(chain.ops[s]);
    const bool cube = workloads::is_matmul_like(op.kind);
    const workloads::TensorId in = [&] {
      for (auto t : op.inputs) {
        if (g.tensor(t).role == TensorRole::activation) return t;
      }
      return op.inputs.front();
    }();
    const workloads::TensorId out = op.outputs.front();
    const double in_row = row_bytes(g, in, chain.rows), out_row = row_bytes(g, out, chain.rows);
    // Stage s reads queue s-1 (or GM) and writes queue s (or GM).
    const bool first = s == 0, last = s + 1 == chain.ops.size();
    const std::uint64_t in_stride = static_cast<std::uint64_t>(std::ceil(in_row * rows_per_mb));
    const std::uint64_t out_stride = static_cast<std::uint64_t>(std::ceil(out_row * rows_per_mb));
    const std::uint64_t in_base =
        first ? placement.tensors[in].address : arch::stream_address(static_cast<std::uint32_t>(s - 1), 0);
    const std::uint64_t out_base = last ? placement.tensors[out].address : arch::stream_address(static_cast<std::uint32_t>(s), 0);
    if (!last) d.queues.push_back(arch::StreamQueueSpec{out_stride, 2, 0});

    DataflowStage stage;
    stage.op = chain.ops[s];
    stage.name = op.name;
    stage.cube = cube;
    stage.cores = cores[s];
    stage.wave = wave[s];
    const auto tag = static_cast<std::uint32_t>(program.op_names.size());
    program.op_names.push_back(op.name);
    if (cube) {
      stage.first_core = next_cube;
      next_cube += stage.cores;
      GemmProblem p = gemm_problem_for(g, chain.ops[s], placement);
      StageGemm sg;
      sg.rows = rows_per_mb;
      sg.k = p.k;
      sg.n = p.n;
      sg.micro_batches = T;
      sg.a_dtype = p.a_dtype;
      sg.b_dtype = p.b_dtype;
      sg.c_dtype = p.c_dtype;
      sg.b_stored_bits = p.b_stored_bits;
      sg.b_address = p.b_address;
      sg.in_base = in_base;
      sg.in_stride = in_stride;
      sg.out_base = out_base;
      sg.out_stride = out_stride;
      sg.first_core = stage.first_core;
      sg.cores = stage.cores;
      sg.input_streamed = !first;
      const auto w = static_cast<std::size_t>(wave[s]);
      if (w > 0) sg.wait_barrier = arch::barrier_address(static_cast<std::uint32_t>(w - 1), wave_cores[w - 1]);
      if (w + 1 < wave_cores.size()) sg.arrive_barrier = arch::barrier_address(static_cast<std::uint32_t>(w), 1);
      const StageGemmFit fit = fit_stage_gemm(sg, m);
      if (!fit.tiling) {
        d.reason = fmt::format("stage '{}': {}", op.name, fit.reason);
        return plan;
      }
      const auto blocks = ceil_div(fit.tiling->slice, fit.tiling->bn);
      if (blocks_left_at_arrival > 0)
        sg.arrive_after_blocks = static_cast<std::uint32_t>(blocks > blocks_left_at_arrival ? blocks - blocks_left_at_arrival : 1);
      const int working = emit_stage_gemm(sg, *fit.tiling, m, tag, program);
      wave_cores[w] += static_cast<std::uint32_t>(working);
      const StageCost c = estimate_stage_gemm(sg, *fit.tiling, m);
      stage.cycles_per_micro_batch = c.per_micro_batch_cycles;
      stage.handoff_cycles = c.handoff_cycles + m.gm_hit_latency_cycles;
      first_block_share.push_back(1.0 / static_cast<double>(blocks));
      WaveLoad& load = wave_load[w];
      load.preload_cycles = std::max(load.preload_cycles, c.preload_cycles);
      load.slice_bytes = std::max(load.slice_bytes, c.slice_bytes);
      load.cores += working;
      // The wave arrives when its slowest core has its first block in.
      if (blocks_left_at_arrival > 0) load.arrive_fraction = std::max(load.arrive_fraction, sg.arrive_after_blocks * first_block_share.back());
    } else {
      stage.first_core = next_vec;
      next_vec += stage.cores;
      arch::Program part;
      MachineView sub = m;
      (split ? part.vector_cores : part.cube_cores).resize(static_cast<std::size_t>(stage.cores));
      for (std::uint64_t t = 0; t < T; ++t) {
        VectorProblem v;
        v.elements = g.tensor(out).elements() / chain.rows * rows_per_mb;
        v.dtype = g.tensor(out).dtype;
        v.in_bytes_per_element = static_cast<double>(in_stride) / static_cast<double>(v.elements);
        v.out_bytes_per_element = static_cast<double>(out_stride) / static_cast<double>(v.elements);
        v.passes = vector_passes_for(op);
        v.in_address = in_base + t * in_stride;
        v.out_address = out_base + t * out_stride;
        emit_vector(v, sub, tag, part);
      }
      auto& dst = split ? program.vector_cores : program.cube_cores;
      const auto& src = split ? part.vector_cores : part.cube_cores;
      for (int i = 0; i < stage.cores; ++i) {
        auto& code = dst.at(static_cast<std::size_t>(stage.first_core + i)).instructions;
        code.insert(code.end(), src[static_cast<std::size_t>(i)].instructions.begin(), src[static_cast<std::size_t>(i)].instructions.end());
      }
      // MTE2 in and MTE3 out of each worker, with a memory latency per
      // tile, bound an element-wise stage; its traffic stays on chip.
      VectorProblem v;
      v.elements = g.tensor(out).elements() / chain.rows * rows_per_mb;
      v.dtype = g.tensor(out).dtype;
      v.in_bytes_per_element = static_cast<double>(in_stride) / static_cast<double>(v.elements);
      v.out_bytes_per_element = static_cast<double>(out_stride) / static_cast<double>(v.elements);
      v.passes = vector_passes_for(op);
      MachineView workers = m;
      (split ? workers.vector_cores : workers.cube_cores) = stage.cores;
      workers.hbm_Bps = 0;
      workers.gm_latency_cycles = m.gm_hit_latency_cycles;
      stage.cycles_per_micro_batch = estimate_vector_seconds(v, workers) * m.core_clock_hz;
      stage.handoff_cycles = m.gm_hit_latency_cycles;
      first_block_share.push_back(1.0);
    }
    d.stages.push_back(stage);
  }

  // A queue entry is freed once every consumer load has read what it needs.
  for (std::size_t q = 0; q < d.queues.size(); ++q) {
    const std::uint64_t lo = arch::stream_address(static_cast<std::uint32_t>(q), 0), hi = lo + d.queues[q].entry_bytes;
    Bytes reads = 0;
    for (const auto* cores : {&program.cube_cores, &program.vector_cores}) {
      for (const auto& core : *cores) {
        for (const auto& in : core.instructions) {
          if (in.op == arch::Opcode::load && in.gm_address >= lo && in.gm_address < hi) reads += in.bytes;
        }
      }
    }
    d.queues[q].read_bytes_per_entry = reads;
  }
  // The stages of a wave load their weight slices at once, sharing HBM, and
  // end together; a cube stage's first micro-batch can finish no sooner
  // than one column block after its wave's load. From there micro-batch t
  // leaves stage s once stage s has finished micro-batch t-1 and stage s-1
  // has handed it micro-batch t through a queue (memory latency): the
  // pipeline fills, runs at its slowest stage and drains.
  const std::vector<double> loaded =
      wave_load_finish(wave_load, m.hbm_Bps > 0 ? m.hbm_Bps / m.core_clock_hz : 0.0, m.gm_latency_cycles);
  std::vector<double> done(d.stages.size(), 0.0);
  for (std::uint64_t t = 0; t < T; ++t) {
    double upstream = 0;
    for (std::size_t s = 0; s < d.stages.size(); ++s) {
      const double c = d.stages[s].cycles_per_micro_batch;
      double start = std::max(done[s], s > 0 ? upstream + d.stages[s - 1].handoff_cycles : 0.0);
      const double weights_in = loaded[static_cast<std::size_t>(wave[s])];
      if (t == 0 && d.stages[s].cube) start = std::max(start, weights_in + c * first_block_share[s] - c);
      done[s] = start + c;
      upstream = done[s];
    }
  }
  plan.seconds = (done.back() + d.stages.back().handoff_cycles) / m.core_clock_hz;
  d.estimated_seconds = plan.seconds;
  d.applies = true;
  d.weight_waves = wave_cores.size();
  d.reason = fmt::format("{} stages on {} cube + {} vector cores, {} micro-batches of {} rows, {} queues of {} entries, "
                         "weights preloaded in {} wave{}{}",
                         d.stages.size(), next_cube, split ? next_vec : 0, T, rows_per_mb, d.queues.size(), 2,
                         wave_cores.size(), wave_cores.size() == 1 ? "" : "s",
                         wave_cores.size() > 1 && blocks_left_at_arrival > 0
                             ? fmt::format(" (the next starts with {} column block{} to go)", blocks_left_at_arrival,
                                           blocks_left_at_arrival == 1 ? "" : "s")
                             : std::string());
  return plan;
}

// Weight-preload wave splits to weigh (bit i opens a wave at cube stage i):
// all at once, and waves of the fewest leading cube stages whose cores'
// MTE2 streams can take all of HBM's bandwidth (a smaller wave leaves HBM
// idle; a core's stream is blocking chunk reads, each paying the memory
// latency). A short chain's every split is weighed as well: which pays
// depends on how the fill overlaps the loads, which the cost model times.
std::vector<std::uint32_t> wave_splits(const workloads::Graph& graph, const Chain& chain, const MachineView& machine) {
  std::vector<std::uint32_t> choices{0u};
  if (machine.hbm_Bps <= 0) return choices;
  const double chunk = static_cast<double>(std::max<Bytes>(1, machine.gm_chunk));
  const double core_stream_Bps =
      chunk / (chunk / machine.gm_read_Bpc + machine.gm_latency_cycles) * machine.core_clock_hz;
  const StageCores sizing = stage_cores(graph, chain, machine);
  std::uint32_t starts = 0;
  double rate = 0;
  int cube_stages = 0;
  for (std::size_t s = 0; s < sizing.cores.size(); ++s) {
    if (!workloads::is_matmul_like(graph.op(chain.ops[s]).kind)) continue;
    if (rate >= machine.hbm_Bps && cube_stages < 32) {
      starts |= 1u << cube_stages;
      rate = 0;
    }
    rate += sizing.cores[s] * core_stream_Bps;
    ++cube_stages;
  }
  if (starts != 0) choices.push_back(starts);
  constexpr int kEverySplitUpTo = 6;  // cube stages: 2^5 splits
  if (cube_stages <= kEverySplitUpTo) {
    for (std::uint32_t split = 1; split < (1u << cube_stages); split += 2) {
      // Bit 0 never opens a wave; walk the odd codes and drop it.
      const std::uint32_t opens = split & ~1u;
      if (opens != 0 && std::find(choices.begin(), choices.end(), opens) == choices.end()) choices.push_back(opens);
    }
  }
  return choices;
}

// The `keep` best plans by estimate, best first (a plan holds its whole
// program, so the rest are dropped as they are found).
std::vector<DataflowMapping> chain_candidates(const workloads::Graph& graph, const Chain& chain,
                                              const MachineView& machine, const MapperOptions& options,
                                              std::size_t keep, std::string& why) {
  std::vector<DataflowMapping> out;
  if (chain.ops.size() - 1 > arch::kStreamQueues) {
    why = fmt::format("{} stages need more stream queues than the {} the address map has", chain.ops.size(),
                      arch::kStreamQueues);
    return out;
  }
  const Placement placement = place_tensors(graph, machine, options.placement);
  // On-chip budget for queues: half the L2/SRAM, the rest stays a cache.
  const double budget = 0.5 * static_cast<double>(machine.sram_capacity > 0 ? machine.sram_capacity : machine.l2_capacity);
  const std::vector<std::uint32_t> wave_choices = wave_splits(graph, chain, machine);
  why = "no micro-batch size divides the rows";
  for (std::uint64_t rows : {256u, 192u, 128u, 96u, 64u, 48u, 32u, 16u}) {
    if (rows > chain.rows || chain.rows % rows != 0) continue;
    for (std::uint32_t wave_starts : wave_choices) {
      // With waves, a wave may arrive after its whole slice or with one or
      // two column blocks still to come, overlapping the next wave's loads
      // with the end of its own.
      for (std::uint32_t blocks_left : {0u, 1u, 2u}) {
        if (blocks_left > 0 && wave_starts == 0) continue;
        Plan p = plan_for(graph, chain, machine, placement, rows, wave_starts, blocks_left);
        if (!p.mapping.applies) {
          why = p.mapping.reason;
          continue;
        }
        double queue_bytes = 0;
        for (const auto& q : p.mapping.queues) queue_bytes += static_cast<double>(q.entry_bytes * q.entries);
        if (queue_bytes > budget) {
          why = fmt::format("queues of {}-row micro-batches need {:.0f} B on chip, more than the {:.0f} B budget",
                            rows, queue_bytes, budget);
          continue;
        }
        // After its equals: among equal estimates the larger micro-batch and
        // fewer waves, enumerated first, stay first.
        const auto at = std::upper_bound(out.begin(), out.end(), p.mapping.estimated_seconds,
                                         [](double t, const DataflowMapping& d) { return t < d.estimated_seconds; });
        if (static_cast<std::size_t>(at - out.begin()) >= keep) continue;
        p.mapping.placement = placement;
        out.insert(at, std::move(p.mapping));
        if (out.size() > keep) out.pop_back();
      }
    }
  }
  return out;
}

}  // namespace

std::vector<DataflowMapping> dataflow_chain_candidates(const workloads::Graph& graph, const MachineView& machine,
                                                       const MapperOptions& options, std::size_t keep,
                                                       std::string* why) {
  std::string reason;
  const Chain chain = find_chain(graph);
  std::vector<DataflowMapping> out;
  if (chain.reason.empty()) out = chain_candidates(graph, chain, machine, options, keep, reason);
  else reason = chain.reason;
  if (why) *why = reason;
  return out;
}

DataflowMapping map_dataflow(const workloads::Graph& graph, const MachineView& machine, const MapperOptions& options,
                             const DataflowConfirmer& confirm, const PrefillChunkBuilder& build_chunk,
                             double build_below_seconds) {
  DataflowMapping none;
  const Chain chain = find_chain(graph);
  if (!chain.reason.empty()) {
    // Not a chain: pipeline its layers instead, where they fit on chip.
    DataflowMapping layered =
        map_layer_pipeline(graph, machine, options, 0, kMaxJobInstructions, build_chunk, build_below_seconds);
    if (!layered.applies) layered.reason = fmt::format("{}, and as a layer pipeline: {}", chain.reason, layered.reason);
    return layered;
  }
  std::string why;
  const std::size_t keep = confirm ? static_cast<std::size_t>(std::max(1, options.search.confirm_top)) : 1;
  std::vector<DataflowMapping> candidates = chain_candidates(graph, chain, machine, options, keep, why);
  if (candidates.empty()) {
    none.reason = why;
    return none;
  }
  if (options.search.confirm_top <= 0 || !confirm) return std::move(candidates.front());
  // The user asked for the model's top few to be run: keep the fastest in
  // simulation, and say so.
  const std::size_t top = std::min(candidates.size(), static_cast<std::size_t>(options.search.confirm_top));
  std::size_t best = 0;
  for (std::size_t i = 0; i < top; ++i) {
    candidates[i].confirmed_seconds = confirm(candidates[i]);
    if (candidates[i].confirmed_seconds < candidates[best].confirmed_seconds) best = i;
  }
  DataflowMapping chosen = std::move(candidates[best]);
  chosen.confirmed = static_cast<int>(top);
  chosen.reason += fmt::format("; simulated {:.2f} us, fastest of the model's top {} (model rank {})",
                               chosen.confirmed_seconds * 1e6, top, best + 1);
  return chosen;
}

}  // namespace npusim::mapper
