#pragma once
// KV prefetch in kernel-by-kernel execution (a compression plan's
// kv_cache.prefetch; placement.h reserves the two HBM staging slots).
//
// Layer i's DDR-resident cache is copied into its staging slot by the jobs
// that run before layer i's first attention read and after the slot's
// previous occupant (layer i - 2) was last read: the rest of layer i - 1 and
// layer i's own projections. The copy is spread over those jobs in
// proportion to the bytes each op moves (decode is memory-bound, so that is
// roughly their time) and runs on the vector cores' MTE2 (DDR -> UB) and
// MTE3 (UB -> HBM) paths, which a cube job leaves idle: it overlaps the
// cube's work, costs DDR read and HBM write bandwidth, and lengthens a job
// whose share it cannot hide. Attention then reads the staging copy.
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "common/units.h"
#include "mapper/placement.h"
#include "mapper/vector/vector_lowering.h"
#include "workloads/graph.h"

namespace npusim::mapper {

struct KvCopy {
  std::uint64_t from = 0;  // DDR address in the cache's home
  std::uint64_t to = 0;    // HBM address in the staging slot
  Bytes bytes = 0;
};

// The copies each job carries, by op. `runs_as_job` says which ops become
// jobs. Throws InputError when a layer's attention has no job before it to
// carry the copy.
std::map<workloads::OpId, std::vector<KvCopy>> schedule_kv_prefetch(
    const workloads::Graph& graph, const Placement& placement,
    const std::function<bool(workloads::OpId)>& runs_as_job);

// One copy as vector-core work: bytes streamed GM -> UB -> GM, no passes.
VectorProblem kv_copy_problem(const KvCopy& copy);

}  // namespace npusim::mapper
