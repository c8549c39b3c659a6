#include "mapper/compression/apply_plan.h"

#include <cmath>

#include <fmt/format.h>

#include "common/error.h"
#include "mapper/compression/name_glob.h"
#include "mapper/compression/storage.h"

namespace npusim::mapper {
namespace {

using workloads::Graph;
using workloads::SparsityPattern;
using workloads::StorageFormat;
using workloads::TensorRole;

// The first rule any of whose patterns matches the op's name.
std::optional<std::size_t> first_rule(const CompressionPlan& plan, const std::string& name) {
  for (std::size_t i = 0; i < plan.rules.size(); ++i) {
    for (const auto& p : plan.rules[i].patterns) {
      if (name_glob_match(p, name)) return i;
    }
  }
  return std::nullopt;
}

// The dtype of the A operand of a weight matmul: its first non-weight input.
DType activation_dtype(const Graph& graph, const workloads::Op& op) {
  for (auto in : op.inputs) {
    if (in != *op.weight) return graph.tensor(in).dtype;
  }
  return graph.tensor(*op.weight).dtype;
}

bool cube_takes_pattern(const workloads::WeightFormat& f, const CompressionTarget& target) {
  if (!target.sparse.supported || f.sparsity != SparsityPattern::n_m || f.storage != StorageFormat::n_m_compressed) {
    return false;
  }
  return (f.n == 2 && f.m == 4) || (f.n == 4 && f.m == 8);
}

void annotate_weight(const CompressionRule& rule, const CompressionPlan& plan, Graph& graph, const workloads::Op& op,
                     const CompressionTarget& target) {
  const auto& tensor = graph.tensor(*op.weight);
  const DType a_dtype = rule.activations.value_or(activation_dtype(graph, op));
  workloads::WeightFormat& f = graph.weight_format(*op.weight);
  f.precision = rule.weights.value_or(tensor.dtype);
  f.sparsity = rule.sparsity;
  f.density = rule.density;
  f.n = rule.n;
  f.m = rule.m;
  f.storage = rule.storage;
  // Weights are [in, out]: a per-channel scale covers one column of K inputs.
  const std::uint64_t k = tensor.shape.empty() ? 1 : tensor.shape.front();
  f.group_size = rule.group == CompressionRule::Group::channel ? static_cast<std::uint32_t>(k)
                 : rule.group == CompressionRule::Group::size  ? rule.group_size
                                                               : 0;
  f.zero_points = rule.zero_points;
  f.activation = rule.activations;
  f.activation_density = rule.activation_density;
  f.kept_in = rule.kept_in;
  f.kept_out = rule.kept_out;

  const DType compute = cube_compute_precision(a_dtype, f.precision, target);
  f.cube_precision = compute;
  f.cube_sparse = cube_takes_pattern(f, target);
  // The cube reads its own precision: anything else is dequantized on the
  // vector unit (scales applied in the same pass).
  f.dequantize_passes = f.precision != compute ? 1.0 : 0.0;
  // A compressed sparse format the cube cannot read is expanded to dense.
  const bool compressed = f.storage != StorageFormat::dense;
  if (compressed && !f.cube_sparse) {
    f.decompress_passes = plan.decompression.unit == DecompressionPlan::Unit::engine
                              ? target.vector_decompress_elements_per_cycle / plan.decompression.engine_elements_per_cycle
                              : 1.0;
  } else {
    f.decompress_passes = 0;
  }
  f.decompress_in_load_path = f.decompress_passes > 0 && plan.decompression.unit == DecompressionPlan::Unit::engine;
}

void annotate_kv(const KvPlan& kv, Graph& graph, workloads::TensorId id, const CompressionTarget& target) {
  const DType own = graph.tensor(id).dtype;
  workloads::KvCacheFormat& f = graph.kv_format(id);
  f.layout = kv.paged ? workloads::KvLayoutKind::paged : workloads::KvLayoutKind::contiguous;
  f.block_tokens = kv.block_tokens;
  f.precision = kv.precision.value_or(own);
  f.major = kv.major;
  f.scales = kv.scales;
  f.group_size = kv.group_size;
  f.zero_points = kv.zero_points;
  f.full_precision_tokens = kv.full_precision_tokens;
  f.tier = kv.tier;
  f.prefetch = kv.prefetch;
  // Attention computes at the query's precision (the cache's own dtype is
  // the activation dtype, workloads/annotations.h); a cache stored otherwise
  // is dequantized on the vector unit as it streams in.
  const DType compute = cube_compute_precision(own, f.precision, target);
  f.expand_passes = f.precision != compute ? 1.0 : 0.0;
}

}  // namespace

CompressionTarget compression_target(const arch::CoreConfig& core) {
  CompressionTarget t;
  t.cube = core.cube_shapes;
  t.sparse = core.sparse;
  t.vector_dequantize_elements_per_cycle = core.vector.dequantize_elements_per_cycle;
  t.vector_decompress_elements_per_cycle = core.vector.decompress_elements_per_cycle;
  return t;
}

DType cube_compute_precision(DType activation, DType weight, const CompressionTarget& target) {
  if (target.cube.count(activation) && dtype_bits(activation) >= dtype_bits(weight)) {
    return activation;
  }
  for (DType t : {DType::fp16, DType::bf16, DType::fp32}) {
    if (target.cube.count(t)) return t;
  }
  throw InputError(fmt::format("the cube has no {} mode and no fp16, bf16 or fp32 mode to dequantize to",
                               dtype_name(activation)));
}

void apply_compression_plan(const CompressionPlan& plan, std::vector<Graph>& graphs, const CompressionTarget& target) {
  std::vector<std::size_t> claimed(plan.rules.size(), 0);
  for (Graph& graph : graphs) {
    for (auto id : graph.topological_order()) {
      const auto& op = graph.op(id);
      if (!workloads::is_matmul_like(op.kind) || !op.weight) continue;
      const auto rule = first_rule(plan, op.name);
      if (!rule) continue;
      ++claimed[*rule];
      annotate_weight(plan.rules[*rule], plan, graph, op, target);
    }
    if (plan.kv_cache) {
      for (const auto& t : graph.tensors()) {
        if (t.role == TensorRole::kv_cache) annotate_kv(*plan.kv_cache, graph, t.id, target);
      }
    }
  }
  for (std::size_t i = 0; i < plan.rules.size(); ++i) {
    if (claimed[i] > 0) continue;
    std::string patterns;
    for (const auto& p : plan.rules[i].patterns) patterns += (patterns.empty() ? "" : ", ") + p;
    bool shadowed = false;
    for (const auto& graph : graphs) {
      for (auto id : graph.topological_order()) {
        const auto& op = graph.op(id);
        if (!workloads::is_matmul_like(op.kind) || !op.weight) continue;
        for (const auto& p : plan.rules[i].patterns) shadowed = shadowed || name_glob_match(p, op.name);
      }
    }
    throw InputError(fmt::format("{}: rule [{}] {} (the names are matmul ops such as layers.0.mlp.down_proj; "
                                 "first matching rule wins)",
                                 plan.rules[i].where, patterns,
                                 shadowed ? "matches only ops an earlier rule already claimed"
                                          : "matches no matmul of the model"));
  }
}

}  // namespace npusim::mapper
