#pragma once
// Where every tensor of a graph lives: a tier and an address in the global
// address space (arch/address_map.h). Weights and the KV cache are resident
// for the whole run; activations live from their producer to their last
// consumer, so their space is reused as the graph proceeds.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "arch/address_map.h"
#include "mapper/machine_view.h"
#include "workloads/graph.h"

namespace npusim::mapper {

struct TensorPlace {
  arch::Tier tier = arch::Tier::hbm;
  std::uint64_t address = 0;
};

struct Placement {
  std::vector<TensorPlace> tensors;  // indexed by TensorId
  std::map<std::string, Bytes> resident_bytes;  // tier name -> weights + KV held there
  std::map<std::string, Bytes> peak_bytes;      // tier name -> peak including activations
};

// Places weights and KV in HBM while they fit, then DDR when the machine has
// it; activations in HBM. A tensor that fits nowhere is an InputError naming
// the tensor and the tiers tried.
Placement place_tensors(const workloads::Graph& graph, const MachineView& machine);

}  // namespace npusim::mapper
