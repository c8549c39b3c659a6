#pragma once
// Traced graphs: an ONNX file (scripts/trace_model.py writes one from a
// PyTorch module) becomes a workloads::Graph.
//
// What becomes what:
// - floating-point initializers are weight tensors (their elements are the
//   model's parameters); an Identity of one is a weight of its own, since
//   torch's exporter merges bitwise-equal parameters that way; a Transpose,
//   Cast, Reshape, (Un)Squeeze or Flatten of a weight is the same weight in
//   another layout, so consumers read the weight itself;
// - graph inputs and node outputs are activations, except graph inputs
//   named past_key_values.N.key/value: those are layer N's KV cache, and the
//   graph is then one decode step over it (onnx_kv_cache.h says how the
//   cache, its append and its readers are imported);
// - values that do not depend on any activation or weight (Constant, Shape
//   and the shape arithmetic downstream of them, RoPE tables computed from
//   Range) are compile-time constants: no op, no tensor;
// - every other node becomes one op of the kind onnx_ops.h assigns, with
//   FLOPs, vector ops and bytes from the inferred shapes (a MatMul with a 2-D
//   weight is MatMul with M = all leading dims; one with batch dims on both
//   sides is BatchMatMul; Gemm honours transA/transB); an op type not in
//   that table, a shape that stays unknown, or a file that is not a model
//   is an InputError naming the file (and node and op type).
//
// Names: see onnx_names.h ("/model/layers.0/mlp/down_proj/MatMul" becomes
// op "layers.0.mlp.down_proj", layer 0).
//
// MoE: a data-dependent dispatch cannot be exported as a static graph, so
// traced MoE blocks run every expert on every token (trace_model.py's
// models do, weighting each expert's output by its routing weight, zero
// when unchosen). The importer finds experts by name (layers.N...experts.E.*),
// the router as the MatMul of a module named "gate" or "router" in that
// layer, and top_k as the constant k of the layer's TopK over the experts.
// With `routing`, every op of expert E in layer N runs on the tokens the
// source gives it at `step`: matmul M = count, and the expert's vector ops
// and activation bytes scale by count / tokens, where tokens is the M the
// export gave every expert (the layer's tokens). Conservation of tokens x
// top_k is checked by the routing source. Without `routing`, experts keep
// the exported M: each expert sees every token, as the exported graph says.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/dtype.h"
#include "workloads/graph.h"
#include "workloads/routing.h"

namespace npusim::workloads {

struct OnnxImportOptions {
  // Values of symbolic (dynamic-axis) dims of the graph inputs, by
  // dim_param name, e.g. {"batch", 4}. A symbolic dim without one is an error.
  std::map<std::string, std::uint64_t> dims;
  // Precision simulated for floating-point weights and activations (the KV
  // cache inputs count as activations); unset keeps the file's (fp32 for a
  // default torch export). `npusim run/graph --dtype` sets both.
  std::optional<DType> weight_dtype;
  std::optional<DType> activation_dtype;
  // Tokens per expert per MoE layer: a RoutingTrace loaded from the
  // tracer's routing.json, or a synthetic Router. Null: exported M.
  std::shared_ptr<const RoutingSource> routing;
  std::uint64_t step = 0;  // which step of `routing` this graph is
};

struct OnnxImport {
  Graph graph;
  std::map<std::string, std::string> op_of_node;  // ONNX node name -> op name, for nodes that became ops
};

OnnxImport import_onnx_model(const std::string& path, const OnnxImportOptions& options = {});

// The graph alone; what `npusim graph/run --model FILE.onnx` calls.
Graph import_onnx(const std::string& path, const OnnxImportOptions& options = {});

}  // namespace npusim::workloads
