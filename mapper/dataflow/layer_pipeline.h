#pragma once
// Layer-pipelined dataflow for graphs that are not a plain op chain:
// transformer layers, with residual branches, several inputs per op and
// attention over a KV cache.
//
// The core groups (an AIC and its AIVs) are split into `stages` equal
// shares, and the decoder layers into as many runs of consecutive layers
// (the embedding goes with the first, the head with the last). Each stage
// runs its layers' ops in order on its own cores, each op lowered as
// kernel-by-kernel lowers it on a machine of the stage's size: weights and
// the KV cache stream from where placement put them, attention reads its
// cache inside the stage. All stages run in one job. In place of the job
// boundary, an op's cores arrive at a cross-core barrier (address_map.h)
// once their pipes have drained, and the next op's cores wait there before
// their first load; the last op of a stage hands the residual stream to the
// next stage the same way, through the L2, on chip.
//
// A decode step, or a graph that cannot be rebuilt in chunks of tokens
// (ONNX), is one micro-batch: batch-1 decode has one token, and the graph
// folds sequences into M, so the stages fill and drain once per step and
// never overlap. More stages therefore only leave cores idle, and the cost
// model chooses one unless told otherwise; the mapping states this. A
// prefill whose chunks the caller can build is split into chunks that do
// overlap (chunked_prefill.h), when the cost model finds that faster or the
// mapper options ask for it. Graphs whose activations do not fit on chip
// are rejected naming the op.
//
// A job's program is held in memory whole, so a step past a cap of
// instructions is not kept as one job: the count is taken while the ops
// are mapped (one op's program at a time once past the cap), and the step
// is cut into jobs of whole layers, each under the cap, that
// for_each_dataflow_job builds and hands over one after another. Since a
// step's ops already run one after another, each waiting at the barrier of
// the op before for every core, a job boundary between two layers is the
// same all-core synchronisation as the barrier it replaces. A layer that
// alone passes the cap is refused as soon as it does, naming the op.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>

#include "mapper/dataflow/chunked_prefill.h"
#include "mapper/dataflow/dataflow_mapper.h"
#include "mapper/kernel_mapper.h"

namespace npusim::mapper {

// Instructions a job may hold before the step is cut: Llama-2-70B decode
// (80 layers) as one job was killed for memory on a 23 GB host under a 60 M
// cap, while Llama-3-8B decode (35 M instructions) ran.
inline constexpr std::uint64_t kMaxJobInstructions = 40'000'000;

// stages = 0: options.pipeline.stages, and when that is 0 too, the count
// the cost model finds fastest among the divisors of the cube-core count
// that leave every stage a layer. A prefill with a
// `build_chunk` is split into options.pipeline.prefill_chunks chunks
// (chunked_prefill.h); 0 lets the cost model weigh every stage and chunk
// count, one micro-batch included, and the mapping names the fastest few;
// when even the fastest is estimated no faster than `build_below_seconds`
// (kernel-by-kernel's time, for --mapping auto), it is not built and the
// mapping does not apply, saying so.
DataflowMapping map_layer_pipeline(const workloads::Graph& graph, const MachineView& machine,
                                   const MapperOptions& options, std::size_t stages = 0,
                                   std::uint64_t max_job_instructions = kMaxJobInstructions,
                                   const PrefillChunkBuilder& build_chunk = {},
                                   double build_below_seconds = std::numeric_limits<double>::infinity());

// Hands each job of a dataflow mapping to `on_job` in order: the mapping's
// program, or, for a step cut into segments, each segment's program, built
// when its turn comes and dropped after. `graph`, `machine` and `options`
// must be those the mapping was made from.
void for_each_dataflow_job(const workloads::Graph& graph, const MachineView& machine, const MapperOptions& options,
                           const DataflowMapping& mapping, const std::function<void(const arch::Program&)>& on_job);

}  // namespace npusim::mapper
