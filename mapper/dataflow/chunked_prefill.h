#pragma once
// The layer pipeline of a transformer prefill as a true pipeline: the
// step's T tokens are split into C chunks of T/C tokens (micro-batches)
// that stream through the stages.
//
// Chunk i is the model's graph for T/C new tokens after i*T/C cached ones
// (built by the caller's PrefillChunkBuilder): its attention is causal over
// the chunk and reads the keys and values of chunks 0..i-1 from the KV
// cache, which those chunks' kv_cache_write appended at the same layer, on
// the same stage, earlier in its order. Every chunk's graph therefore sees
// one KV cache: each layer's cache is laid out in C pages of one chunk's
// entries (a paged cache), chunk i appends page i and reads pages 0..i-1,
// the prefix its cache tensor spans. Weights keep their addresses across
// chunks. Activations get addresses by where they go: an activation used
// only inside its stage lives in that stage's private region (a stage runs
// its chunks one after another, so chunk i+1 may reuse chunk i's space),
// one handed to a later stage lives in hand-off slot (i mod Q) of the
// stage that produces it.
//
// Ordering, all through barrier counters (arch/address_map.h), inside a
// job: within a stage and chunk, each op waits for the op before, as in
// the one-micro-batch pipeline; a stage's first op of chunk i waits for
//   - the previous stage's op that hands chunk i over (its last but the KV
//     cache writes, which feed no later op and so come last in the graph's
//     order, running beside the next stage's start),
//   - its own last op of chunk i-1 (the KV pages it appended, its private
//     region), and
//   - the next stage's last op of chunk i-Q (back-pressure: chunk i will
//     overwrite hand-off slot i mod Q, which that stage must have read).
// So stage s runs chunk i while stage s+1 runs chunk i-1: the pipeline
// fills, runs at its slowest stage's pace, and drains, and a stage starts
// chunk i only once the next has finished chunk i-Q.
//
// What chunking costs: every chunk re-reads its stage's weights (the L2 may
// keep some), and a chunk's GEMMs have T/C rows. What it saves: the
// chunks' causal attention spans (C+1)/(2C) of the T x T score and context
// rectangles one micro-batch's graph counts, and the stages overlap. The
// head (final norm, lm_head) runs for the last chunk only: the step's
// output is its last token.
//
// A step past the instruction cap (layer_pipeline.h) is cut into jobs of
// whole layers, each a pipeline of its own over every chunk on all stages
// (the job's layers split among them): it fills and drains once per job,
// and what crosses from one job to the next waits in a region per chunk.
// A cut that would leave a job fewer layers than stages, or a layer past
// the cap, is refused, saying so.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mapper/dataflow/dataflow_mapper.h"
#include "mapper/kernel_mapper.h"

namespace npusim::mapper {

// The cost model's view of one (stages, chunks) choice.
struct ChunkedPrefillEstimate {
  double seconds = 0;           // the larger of the schedule and the DRAM traffic at full bandwidth
  double schedule_seconds = 0;  // fill + steady state + drain, stages overlapping
  double dram_seconds = 0;      // every chunk's weights and KV traffic at the DRAM's bandwidth
  double slowest_stage_seconds = 0;  // the slowest stage's time for one (middle) chunk
  std::vector<LayerSegment> segments;  // the jobs the step runs as (one unless past the cap)
  std::string reason;           // empty when it applies
};

// Estimate for `chunks` chunks on `stages` stages with `slots` hand-off
// slots: each stage's time per chunk from the kernel cost model on the
// stage's cores (chunk 0 and chunk C-1 mapped, the chunks between linear in
// between: only attention grows with the keys), then the schedule
// start(s,i) = max(end(s-1,i), end(s,i-1), end(s+1,i-Q)), which is
// fill + (C-1) x slowest stage + drain when one stage dominates. Stages
// share the DRAM, so the step takes at least its DRAM bytes at full
// bandwidth; each chunk re-reads its stage's weights. A step past the
// instruction cap is cut as map_chunked_prefill cuts it, each job filling
// and draining.
ChunkedPrefillEstimate estimate_chunked_prefill(const workloads::Graph& step, const PrefillChunkBuilder& build_chunk,
                                                const MachineView& machine, const MapperOptions& options,
                                                std::size_t stages, std::size_t chunks, std::size_t slots,
                                                std::uint64_t max_job_instructions);

// The chunked pipeline: one job, or `segments` that for_each_dataflow_job
// builds one at a time. Does not apply (reason set) when the chunks do not
// divide the step, an op's activations do not fit on chip, the tensors'
// tiers do not allow one shared layout, or the cut fails as above.
DataflowMapping map_chunked_prefill(const workloads::Graph& step, const PrefillChunkBuilder& build_chunk,
                                    const MachineView& machine, const MapperOptions& options, std::size_t stages,
                                    std::size_t chunks, std::size_t slots, std::uint64_t max_job_instructions);

// Hands each job of a chunked mapping to `on_job` in order (the
// for_each_dataflow_job of a chunked prefill).
void for_each_chunked_job(const MachineView& machine, const MapperOptions& options, const DataflowMapping& mapping,
                          const std::function<void(const arch::Program&)>& on_job);

// The op a stage of `mapping` runs: in its chunk's graph for a chunked
// prefill, else in the step's graph.
const workloads::Op& pipeline_op(const workloads::Graph& step, const DataflowMapping& mapping,
                                 const DataflowStage& stage);

}  // namespace npusim::mapper
