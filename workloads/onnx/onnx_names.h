#pragma once
// ONNX node names -> npusim op names.
//
// torch.onnx.export (torch >= 1.13) scopes node names by module path:
// "/model/layers.0/mlp/down_proj/MatMul" is the MatMul inside module
// model.layers.0.mlp.down_proj. npusim's generators name ops after the
// Hugging Face module path without the "model." wrapper
// ("layers.0.mlp.down_proj"), and compression rules match those names, so:
//   - the scope is the name minus its leading "/" and its last component,
//     with "/" turned into "." ("model.layers.0.mlp.down_proj");
//   - a leading "model." is dropped, as HF's *ForCausalLM wrappers add it;
//   - the cube op of a scope that holds exactly one takes the bare scope
//     name; every other op is "<scope>/<last component>"
//     ("layers.0.input_layernorm/Pow"), and an unscoped node keeps its name.
// The layer is the N of a "layers.N" (or "h.N", "blocks.N", "layer.N")
// component and the expert the E of "experts.E"; -1 when absent.
#include <string>

namespace npusim::workloads::onnx_import {

struct ScopedName {
  std::string scope;  // HF module path; empty for unscoped nodes
  std::string leaf;   // the exporter's per-op suffix ("MatMul_1"), or the whole name
  int layer = -1;
  int expert = -1;
};

ScopedName parse_node_name(const std::string& onnx_name);

// Layer and expert of a dotted parameter name ("model.layers.3.mlp.experts.5.up_proj.weight").
int layer_of(const std::string& dotted);
int expert_of(const std::string& dotted);

}  // namespace npusim::workloads::onnx_import
