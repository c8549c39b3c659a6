#pragma once
// What a plan did to a model, computed from the annotated graph (never typed
// in): the quantization ratio (fraction at low precision, < 16 bits) by
// parameters and by MACs, at matmul-wise and layer-wise granularity, weight
// density, and the bytes of weights and KV cache in each tier.
//
// Matmul-wise: a matmul's weight is low precision or not. Layer-wise: a layer
// counts as low only when every matmul weight in it is, which is how a
// layer-granular plan would have to quantize (ops outside decoder layers,
// such as lm_head, form one group). Parameters count each matmul weight
// tensor once, after structured pruning; MACs are the graph's matmul MACs
// after pruning, attention included (never low: its operands are
// activations and the KV cache, reported separately).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mapper/placement.h"
#include "workloads/graph.h"

namespace npusim::mapper {

struct LayerQuantization {
  int layer = -1;  // -1: outside decoder layers
  std::uint64_t params = 0, low_params = 0;
  std::uint64_t macs = 0, low_macs = 0;
};

struct CompressionSummary {
  std::uint64_t matmul_params = 0;
  std::uint64_t low_precision_params = 0;
  std::uint64_t matmul_macs = 0;
  std::uint64_t low_precision_macs = 0;
  double quantization_ratio_params = 0;  // matmul-wise
  double quantization_ratio_macs = 0;
  double layer_quantization_ratio_params = 0;  // layer-wise
  double layer_quantization_ratio_macs = 0;
  double weight_density = 1;                // kept / all matmul weight elements
  double activation_nonzero_mac_fraction = 1;  // MACs whose A element is nonzero, over all weight MACs
  std::map<std::string, double> weight_bytes;  // tier -> stored bytes, scales and metadata included
  std::map<std::string, double> kv_bytes;      // tier -> allocated bytes, fragmentation included
  double kv_fragmentation_bytes = 0;
  std::vector<LayerQuantization> layers;
};

// `placement` gives each weight's tier; without it weights count in HBM and
// caches in their annotated tier (HBM when unannotated).
CompressionSummary summarize_compression(const workloads::Graph& graph, const Placement* placement = nullptr);

// The summary as named counters (name, value, unit, description), for a
// result's counter map until the summary has fields of its own.
struct CompressionCounter {
  std::string name;
  double value = 0;
  std::string unit;
  std::string description;
};
std::vector<CompressionCounter> compression_counters(const CompressionSummary& summary);

}  // namespace npusim::mapper
