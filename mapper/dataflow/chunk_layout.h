#pragma once
// Where the tensors of a chunked prefill's chunk graphs live
// (chunked_prefill.h): one layout that every chunk's graph is moved onto,
// so the chunks share weights and one paged KV cache, and each chunk's
// activations go to a region by where they are read.
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mapper/dataflow/dataflow_mapper.h"
#include "mapper/machine_view.h"
#include "mapper/mapper_options.h"
#include "mapper/placement.h"
#include "workloads/graph.h"

namespace npusim::mapper::pipeline {

// Which job (segment of layers) and which stage in it runs each op: the
// segment's layers in `stages` equal runs, the embedding with the first
// layer and the head with the last.
struct ChunkAssignment {
  std::vector<int> layer;            // by op, as layer_of_ops
  std::vector<std::size_t> segment;  // by op
  std::vector<std::size_t> stage;    // by op
};

ChunkAssignment assign_chunk_ops(const workloads::Graph& g, int layers, const std::vector<LayerSegment>& segments,
                                 std::size_t stages);

// Laid out from the chunks' graphs (the last, which holds every weight and
// the most cached entries, as the reference) on a stage's share of the
// machine:
//   - weights where placement puts the reference's;
//   - each layer's KV cache as C pages of one chunk's entries where the
//     reference's activations began: chunk i's cache tensor (i pages) at
//     the first page, its appended entries at page i;
//   - after the pages, activation regions as large as the widest chunk's
//     activations (and fusion workspace): stage s's private region s,
//     stage s's hand-off slot q at stages + s * slots + q, and chunk i's
//     region between jobs at stages * (1 + slots) + i.
class ChunkLayout {
 public:
  ChunkLayout(const std::vector<workloads::Graph>& chunks, const MachineView& stage_machine,
              const MapperOptions& options, std::size_t stages, std::size_t slots);

  // Why the chunks cannot share one layout (a tensor spilled or in another
  // tier, a prefetched KV cache, too little capacity); empty when they can.
  const std::string& reason() const { return reason_; }
  std::uint64_t regions() const { return stages_ + stages_ * slots_ + chunks_; }

  // Moves chunk `chunk`'s tensors (graph g, placed as `p` by placement)
  // onto the layout. A tensor goes with its producer (a graph input with
  // its first consumer): to the chunk's region when a later job reads it,
  // to a hand-off slot when another stage does, else to its stage's region.
  void relocate(const workloads::Graph& g, std::size_t chunk, const ChunkAssignment& at, Placement& p) const;

 private:
  std::vector<std::uint64_t> activation_regions(const workloads::Graph& g, std::size_t chunk,
                                                const ChunkAssignment& at) const;

  std::size_t stages_, slots_, chunks_;
  std::string reason_;
  arch::Tier tier_ = arch::Tier::hbm;
  std::unordered_map<std::string, TensorPlace> weights_;
  std::map<std::string, Bytes> pages_;              // cache -> one chunk's entries
  std::map<std::string, std::uint64_t> kv_region_;  // cache -> its first page
  std::uint64_t activation_base_ = 0;
  Bytes span_ = 0;
};

}  // namespace npusim::mapper::pipeline
