#pragma once
// Totals over a graph, and its JSON and Graphviz forms.
//
// Parameters are counted from the weight tensors of the graph, each tensor
// once however many ops read it: the embedding table and lm_head are both
// counted when untied (a tied lm_head reads the embedding tensor and adds
// nothing), and norm weights and biases are included. Active parameters per
// token are the total minus, in each MoE layer, the routed experts a token
// does not visit: routed-expert weights of a layer count top_k / num_experts
// (every expert of a layer has the same size, so this is exact). Shared
// experts, routers, attention and the embedding table are active.
#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "workloads/graph.h"

namespace npusim::workloads {

struct GraphSummary {
  std::uint64_t parameters = 0;
  std::uint64_t active_parameters = 0;
  std::uint64_t flops = 0;       // cube FLOPs (2 x MACs)
  std::uint64_t vector_ops = 0;  // vector-unit element operations
  RoleBytes bytes_read;
  RoleBytes bytes_written;
  std::map<std::string, std::uint64_t> ops_by_kind;  // kind name -> count
  std::uint64_t ops = 0;
  std::uint64_t tensors = 0;
};

std::uint64_t parameter_count(const Graph& graph);
std::uint64_t active_parameter_count(const Graph& graph);
std::uint64_t total_flops(const Graph& graph);
GraphSummary summarize(const Graph& graph);

// Stable field names: parameters, active_parameters, flops, vector_ops,
// bytes_by_role {read, written} x {weight, activation, kv_cache},
// ops_by_kind {kind: count}, ops, tensors, context {phase, batch,
// new_tokens, context, step}.
nlohmann::json summary_json(const Graph& graph);

// One node per op (name, kind, FLOPs) and one edge per tensor passed between
// ops (name, shape); weights and caches appear as the ops' annotations.
void write_dot(const Graph& graph, std::ostream& out);

}  // namespace npusim::workloads
