#pragma once
// Layer-pipelined dataflow: the graph's chain of ops becomes a pipeline of
// stages, each on its own cores (cube stages on AICs, element-wise stages on
// AIVs), all running in one job. Activations flow stage to stage through
// bounded on-chip queues (arch/stream/) in micro-batches of rows: a stage
// blocks on an empty input queue and on a full output queue, so the
// pipeline fills, runs at the pace of its slowest stage, and drains. Weights
// stay resident in the stage cores' L1 (stage_gemm.h), preloaded during the
// fill in pipeline order when the cost model says waves pay.
//
// Applies to graphs that are a chain (each op consumes the previous op's
// output plus weights) whose matmuls are unbatched. Other graphs with
// decoder layers go to the layer pipeline (layer_pipeline.h); anything else
// is rejected with the reason.
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "arch/stream/stream_queues.h"
#include "mapper/machine_view.h"
#include "mapper/mapper_options.h"
#include "mapper/placement.h"
#include "workloads/graph.h"

namespace npusim::mapper {

struct DataflowStage {
  workloads::OpId op = 0;
  std::string name;
  bool cube = true;  // a GEMM on cube cores, else element-wise on vector cores
  int first_core = 0, cores = 0;
  int wave = 0;  // weight-preload wave of a cube stage
  double cycles_per_micro_batch = 0;  // cost model: the pace of the stage
  double handoff_cycles = 0;          // cost model: a micro-batch's last work to its arrival downstream
  std::size_t chunk = 0;  // a chunked prefill's chunk: `op` is in DataflowMapping::chunk_graphs[chunk]
};

// Consecutive decoder layers [first_layer, last_layer] that a step too
// large for one job runs as one job of its own (layer_pipeline.h).
struct LayerSegment {
  int first_layer = 0, last_layer = 0;
  std::uint64_t instructions = 0;
};

struct DataflowMapping {
  bool applies = false;
  std::string reason;  // why not, when !applies; else a one-line description
  arch::Program program;  // the one job; empty when the step is cut into `segments`
  // A layer pipeline cut into jobs of whole layers, built one at a time by
  // for_each_dataflow_job; empty when `program` is the step.
  std::vector<LayerSegment> segments;
  std::size_t pipeline_stages = 0;  // a layer pipeline's stage count, to build its segments the same way
  // A chunked prefill (chunked_prefill.h): each chunk's graph, whose ops
  // `stages` name, and the hand-off slots between two stages; empty and 0
  // when the step graph's own ops run.
  std::vector<workloads::Graph> chunk_graphs;
  std::size_t handoff_slots = 0;
  std::vector<arch::StreamQueueSpec> queues;
  std::vector<DataflowStage> stages;
  std::uint64_t micro_batches = 0, rows_per_micro_batch = 0;
  std::size_t weight_waves = 1;  // preload waves, ordered by cross-core barriers
  double estimated_seconds = 0;
  // When the user asked for the model's top candidates to be simulated
  // (search.confirm_top): how many were, and the chosen one's time.
  int confirmed = 0;
  double confirmed_seconds = 0;
  Placement placement;
};

// The graph of one prefill chunk: `new_tokens` tokens per sequence after
// `context` already cached (GraphContext), everything else as the step.
// Given to the mapper by a caller that knows the model (a traced graph has
// no such builder), so a prefill can be pipelined in chunks.
using PrefillChunkBuilder = std::function<workloads::Graph(std::uint64_t context, std::uint64_t new_tokens)>;

// Simulated seconds of one candidate mapping (the driver runs it on an idle
// machine; the mapper never simulates).
using DataflowConfirmer = std::function<double(const DataflowMapping&)>;

// With options.search.confirm_top > 0 and a confirmer, an op chain's top
// candidates by the cost model are simulated and the fastest is kept.
// A prefill pipelined in chunks is not built when its estimate is no
// faster than `build_below_seconds` (layer_pipeline.h).
DataflowMapping map_dataflow(const workloads::Graph& graph, const MachineView& machine,
                             const MapperOptions& options = MapperOptions{}, const DataflowConfirmer& confirm = {},
                             const PrefillChunkBuilder& build_chunk = {},
                             double build_below_seconds = std::numeric_limits<double>::infinity());

// The `keep` best of the mappings the chain mapper weighs (micro-batch
// size, preload waves, early arrival) by the cost model, best first; empty,
// with the reason in *why, when the graph is not an op chain or none fits.
std::vector<DataflowMapping> dataflow_chain_candidates(const workloads::Graph& graph, const MachineView& machine,
                                                       const MapperOptions& options, std::size_t keep,
                                                       std::string* why = nullptr);

}  // namespace npusim::mapper
