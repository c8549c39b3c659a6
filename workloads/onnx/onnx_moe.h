#pragma once
// MoE structure of an imported graph, and routing applied to it (the
// scheme is described in onnx_import.h).
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "workloads/graph.h"
#include "workloads/routing.h"

namespace npusim::workloads::onnx_import {

// An op built from one ONNX node, before it enters the graph: routing still
// has to set the experts' M, and Graph ops are immutable once added.
struct PendingOp {
  Op op;
  std::string onnx_name;
  std::string scope;  // HF module path the node came from
};

// A TopK inside a decoder layer (outside its experts): `width` entries of
// which it keeps `k`. The router's is the one whose width is the expert count.
struct TopKCandidate {
  int layer = -1;
  std::uint64_t width = 0;
  std::uint64_t k = 0;
};

struct MoeLayers {
  std::vector<MoeLayerInfo> info;             // by layer
  std::map<int, std::uint64_t> tokens;         // exported M of the layer's expert matmuls
  std::set<int> router_layers;
};

// A module named "gate" or "router" (HF Mixtral, Qwen2-MoE, DeepSeek).
bool is_router_scope(const std::string& scope);

// Experts per layer from the ops' expert indices, top_k from the layer's
// TopK, tokens from the expert matmuls. InputError (naming `path`) when a
// layer has experts but no TopK over them, or experts see different M.
MoeLayers find_moe_layers(const std::vector<PendingOp>& ops, const std::vector<TopKCandidate>& topks,
                          const std::string& path);

// Sets each expert's matmul M to its routed tokens and scales its vector
// work and activation traffic by tokens routed / tokens in the layer.
void apply_routing(const MoeLayers& moe, const RoutingSource& routing, std::uint64_t step,
                   std::vector<PendingOp>& ops, const std::string& path);

}  // namespace npusim::workloads::onnx_import
