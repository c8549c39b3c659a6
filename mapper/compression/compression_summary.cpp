#include "mapper/compression/compression_summary.h"

#include <cmath>
#include <set>

#include "mapper/compression/storage.h"

namespace npusim::mapper {
namespace {

using workloads::TensorRole;

double ratio(double part, double whole) { return whole > 0 ? part / whole : 0.0; }

std::string tier_of(const workloads::Tensor& t, const Placement* placement) {
  if (placement && t.id < placement->tensors.size()) return arch::tier_name(placement->tensors[t.id].tier);
  if (t.role == TensorRole::kv_cache && !t.kv_format.tier.empty()) return t.kv_format.tier;
  return "hbm";
}

}  // namespace

CompressionSummary summarize_compression(const workloads::Graph& graph, const Placement* placement) {
  CompressionSummary s;
  std::map<int, LayerQuantization> layers;
  std::set<workloads::TensorId> counted;
  double kept_elements = 0, all_elements = 0, nonzero_macs = 0, weight_macs = 0;

  for (auto id : graph.topological_order()) {
    const auto& op = graph.op(id);
    if (!workloads::is_matmul_like(op.kind) || !op.matmul) continue;
    LayerQuantization& layer = layers[op.layer];
    layer.layer = op.layer;
    if (!op.weight) {
      layer.macs += op.matmul->macs();
      continue;
    }
    const auto& w = graph.tensor(*op.weight);
    const auto& f = w.weight_format;
    const bool low = dtype_bits(f.precision) < 16;
    const double pruned = f.kept_in * f.kept_out;
    const auto macs = static_cast<std::uint64_t>(std::llround(static_cast<double>(op.matmul->macs()) * pruned));
    layer.macs += macs;
    if (low) layer.low_macs += macs;
    weight_macs += static_cast<double>(macs);
    nonzero_macs += static_cast<double>(macs) * f.activation_density;
    if (!counted.insert(w.id).second) continue;
    const auto params = static_cast<std::uint64_t>(std::llround(static_cast<double>(w.elements()) * pruned));
    layer.params += params;
    if (low) layer.low_params += params;
    all_elements += static_cast<double>(params);
    kept_elements += static_cast<double>(params) * kept_fraction(f);
  }

  for (const auto& [index, layer] : layers) {
    s.layers.push_back(layer);
    s.matmul_params += layer.params;
    s.low_precision_params += layer.low_params;
    s.matmul_macs += layer.macs;
    s.low_precision_macs += layer.low_macs;
  }
  double layer_low_params = 0, layer_low_macs = 0;
  for (const auto& layer : s.layers) {
    // A layer is low only if all its weights are; attention MACs do not veto it.
    if (layer.params > 0 && layer.low_params == layer.params) {
      layer_low_params += static_cast<double>(layer.params);
      layer_low_macs += static_cast<double>(layer.macs);
    }
  }
  s.quantization_ratio_params = ratio(static_cast<double>(s.low_precision_params), static_cast<double>(s.matmul_params));
  s.quantization_ratio_macs = ratio(static_cast<double>(s.low_precision_macs), static_cast<double>(s.matmul_macs));
  s.layer_quantization_ratio_params = ratio(layer_low_params, static_cast<double>(s.matmul_params));
  s.layer_quantization_ratio_macs = ratio(layer_low_macs, static_cast<double>(s.matmul_macs));
  s.weight_density = all_elements > 0 ? kept_elements / all_elements : 1.0;
  s.activation_nonzero_mac_fraction = weight_macs > 0 ? nonzero_macs / weight_macs : 1.0;

  for (const auto& t : graph.tensors()) {
    if (t.role == TensorRole::weight) {
      const auto& f = t.weight_format;
      double bytes = static_cast<double>(t.bytes());
      if (t.shape.size() == 2) {
        const std::uint64_t k = static_cast<std::uint64_t>(std::ceil(static_cast<double>(t.shape[0]) * f.kept_in - 1e-9));
        const std::uint64_t n = static_cast<std::uint64_t>(std::ceil(static_cast<double>(t.shape[1]) * f.kept_out - 1e-9));
        bytes = static_cast<double>(k * n) * weight_storage(f, k, n).total() / 8.0;
      }
      s.weight_bytes[tier_of(t, placement)] += bytes;
    } else if (t.role == TensorRole::kv_cache && t.shape.size() == 4 && t.name.find(".append") == std::string::npos) {
      if (t.kv_format.tier.empty()) {
        s.kv_bytes[tier_of(t, placement)] += static_cast<double>(t.bytes());
        continue;
      }
      const KvStorage kv = kv_storage(t.kv_format, t.dtype, t.shape[0], t.shape[1], t.shape[2], t.shape[3]);
      s.kv_bytes[tier_of(t, placement)] += kv.allocated_bytes;
      s.kv_fragmentation_bytes += kv.fragmentation_bytes();
    }
  }
  return s;
}

std::vector<CompressionCounter> compression_counters(const CompressionSummary& s) {
  std::vector<CompressionCounter> out = {
      {"compression.quantization_ratio.params", s.quantization_ratio_params, "fraction",
       "matmul-wise: parameters of matmul weights below 16 bits over all matmul weight parameters"},
      {"compression.quantization_ratio.macs", s.quantization_ratio_macs, "fraction",
       "matmul-wise: MACs against weights below 16 bits over all matmul MACs"},
      {"compression.layer_quantization_ratio.params", s.layer_quantization_ratio_params, "fraction",
       "layer-wise: parameters of layers whose every matmul weight is below 16 bits"},
      {"compression.layer_quantization_ratio.macs", s.layer_quantization_ratio_macs, "fraction",
       "layer-wise: MACs of layers whose every matmul weight is below 16 bits"},
      {"compression.weight_density", s.weight_density, "fraction", "kept over all matmul weight elements"},
      {"compression.activation_nonzero_mac_fraction", s.activation_nonzero_mac_fraction, "fraction",
       "weight MACs whose activation is nonzero: what a GEMV skipping zero rows of B runs (the plan's density; a many-row GEMM keeps more)"},
      {"compression.matmul_params", static_cast<double>(s.matmul_params), "count", "matmul weight parameters"},
      {"compression.low_precision_params", static_cast<double>(s.low_precision_params), "count",
       "matmul weight parameters below 16 bits"},
      {"compression.kv_fragmentation_bytes", s.kv_fragmentation_bytes, "B",
       "unused tail of paged KV blocks (last step)"},
  };
  for (const auto& [tier, bytes] : s.weight_bytes) {
    out.push_back({"compression.weight_bytes." + tier, bytes, "B", "stored weight bytes in " + tier + ", scales and metadata included"});
  }
  for (const auto& [tier, bytes] : s.kv_bytes) {
    out.push_back({"compression.kv_bytes." + tier, bytes, "B", "allocated KV-cache bytes in " + tier + " at the last step"});
  }
  return out;
}

}  // namespace npusim::mapper
