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
// A graph step is one micro-batch: its tokens are not split (attention
// needs every earlier key, and the graph folds sequences into M), so the
// stages fill and drain once per step and never overlap. More stages
// therefore only leave cores idle, and the cost model chooses one unless
// told otherwise; the mapping states this. Graphs whose activations do not
// fit on chip are rejected naming the op.
#include <cstddef>

#include "mapper/dataflow/dataflow_mapper.h"
#include "mapper/kernel_mapper.h"

namespace npusim::mapper {

// stages = 0: the count the cost model finds fastest among the divisors of
// the cube-core count that leave every stage a layer.
DataflowMapping map_layer_pipeline(const workloads::Graph& graph, const MachineView& machine,
                                   const MapperOptions& options, std::size_t stages = 0);

}  // namespace npusim::mapper
