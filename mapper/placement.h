#pragma once
// Where every tensor of a graph lives: a tier and an address in the global
// address space (arch/address_map.h), by capacity and the placement policy
// (mapper_options.h); a compression plan's kv_cache.tier, recorded on the
// cache tensors, overrides the policy's home tier for the KV cache. Weights
// and the KV cache are resident for the whole run; activations live from
// their producer to their last consumer, so their space is reused as the
// graph proceeds.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "arch/address_map.h"
#include "mapper/machine_view.h"
#include "mapper/mapper_options.h"
#include "workloads/graph.h"

namespace npusim::mapper {

struct TensorPlace {
  arch::Tier tier = arch::Tier::hbm;
  std::uint64_t address = 0;
  bool spilled = false;  // placed in its rule's spill tier
};

struct Placement {
  std::vector<TensorPlace> tensors;  // indexed by TensorId
  // KV prefetch (a compression plan's kv_cache.prefetch): a DDR-resident
  // cache that attention reads is copied, one layer ahead, into one of two
  // HBM staging slots (layer parity), and attention reads that copy.
  std::map<workloads::TensorId, std::uint64_t> staged_address;  // cache tensor -> its staging copy
  std::map<workloads::TensorId, Bytes> staged_bytes;            // cache tensor -> bytes copied
  Bytes kv_staging_bytes = 0;                                   // both slots, reserved in HBM
  // Where an op reads the tensor: its staging copy if it has one.
  std::uint64_t read_address(workloads::TensorId id) const;
  std::map<std::string, Bytes> resident_bytes;  // tier name -> weights + KV held there
  std::map<std::string, Bytes> peak_bytes;      // tier name -> peak including activations
  std::size_t spilled_tensors = 0;
  // The fused lowerings' per-core staging region (mapper/fusion/workspace.h).
  std::uint64_t workspace_address = 0;
  Bytes workspace_bytes = 0;
  // The split-core weight expansion's per-core slots
  // (mapper/gemm/gemm_expansion.h); 0 bytes when no weight needs it.
  std::uint64_t expansion_workspace_address = 0;
  Bytes expansion_workspace_bytes = 0;
  std::string describe() const;  // "hbm 13.5 GB, ddr 80.1 GB resident; 3 spilled"
};

// Throws InputError naming the tensor and tier when a tensor does not fit
// its policy tier and the policy configures no spill tier (or that is full).
// `workspace_bytes` reserves the fused lowerings' staging region for the
// whole run, in the activations' tier; `expansion_workspace_bytes` the
// split-core weight expansion's slots, a range of its own after it.
Placement place_tensors(const workloads::Graph& graph, const MachineView& machine,
                        const PlacementPolicy& policy = PlacementPolicy{}, Bytes workspace_bytes = 0,
                        Bytes expansion_workspace_bytes = 0);

// Routed experts of each MoE layer ranked by the tokens routed to them (the
// policy's profile if it has one, else this graph's routing); true, by
// tensor, for the hottest `hot_expert_fraction` (at least one per layer).
std::vector<bool> hot_experts(const workloads::Graph& graph, const PlacementPolicy& policy);

}  // namespace npusim::mapper
