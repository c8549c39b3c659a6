#include "mapper/compression/gemm_operands.h"

#include <algorithm>
#include <cmath>

#include "mapper/compression/storage.h"

namespace npusim::mapper {
namespace {

using workloads::Graph;
using workloads::OpId;
using workloads::OpKind;
using workloads::TensorRole;

std::uint64_t shrink(std::uint64_t v, double kept) {
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(static_cast<double>(v) * kept - 1e-9)));
}

bool is_attention(OpKind kind) { return kind == OpKind::AttentionScore || kind == OpKind::AttentionContext; }

// The annotated KV cache an attention matmul reads, if any.
std::optional<workloads::TensorId> kv_input(const Graph& graph, const workloads::Op& op) {
  for (auto in : op.inputs) {
    const auto& t = graph.tensor(in);
    if (t.role == TensorRole::kv_cache && !t.kv_format.tier.empty() && t.shape.size() == 4) return in;
  }
  return std::nullopt;
}

// Heads kept by structured pruning: o_proj's kept input channels are the
// concatenated heads, so attention in the same layer shrinks with them.
double kept_heads(const Graph& graph, const workloads::Op& op) {
  const auto dot = op.name.rfind('.');
  if (dot == std::string::npos) return 1.0;
  const auto o_proj = graph.find_op(op.name.substr(0, dot) + ".o_proj");
  if (!o_proj || !graph.op(*o_proj).weight) return 1.0;
  return graph.tensor(*graph.op(*o_proj).weight).weight_format.kept_in;
}

// A cache's stored format for tokens cached before `first_token`.
workloads::KvCacheFormat from_token(workloads::KvCacheFormat f, std::uint64_t first_token) {
  f.full_precision_tokens =
      static_cast<std::uint32_t>(f.full_precision_tokens > first_token ? f.full_precision_tokens - first_token : 0);
  return f;
}

void apply_attention_formats(const Graph& graph, const workloads::Op& op, GemmProblem& p) {
  p.batch = shrink(p.batch, kept_heads(graph, op));
  const auto cache_id = kv_input(graph, op);
  if (!cache_id) return;
  const auto& cache = graph.tensor(*cache_id);
  const std::uint64_t cached = cache.shape[2], width = cache.shape[3];
  const std::uint64_t keys = op.kind == OpKind::AttentionScore ? p.n : p.k;
  const std::uint64_t fresh = keys > cached ? keys - cached : 0;
  const KvStorage s = kv_storage(cache.kv_format, cache.dtype, 1, 1, cached, width);
  const double fresh_bytes = static_cast<double>(fresh * width) * dtype_bits(p.a_dtype) / 8.0;
  p.b_dtype = p.a_dtype;  // the cube computes at the query's precision
  p.b_stored_bits = (s.moved_bytes + fresh_bytes) * 8.0 / static_cast<double>(keys * width);
}

// Every consumer of `tensor` is a weight matmul asking for the same
// quantized A precision: that precision.
std::optional<DType> consumers_quantize_to(const Graph& graph, OpId producer, workloads::TensorId tensor) {
  std::optional<DType> want;
  bool any = false;
  for (OpId c : graph.successors(producer)) {
    const auto& op = graph.op(c);
    if (std::find(op.inputs.begin(), op.inputs.end(), tensor) == op.inputs.end()) continue;
    if (!workloads::is_matmul_like(op.kind) || !op.weight) return std::nullopt;
    const auto& f = graph.tensor(*op.weight).weight_format;
    if (!f.activation || dtype_bits(*f.activation) >= dtype_bits(graph.tensor(tensor).dtype)) return std::nullopt;
    if (want && *want != *f.activation) return std::nullopt;
    want = f.activation;
    any = true;
  }
  return any ? want : std::nullopt;
}

VectorProblem on_chip(std::uint64_t elements, DType dtype) {
  VectorProblem v;
  v.elements = elements;
  v.dtype = dtype;
  v.in_bytes_per_element = 0;
  v.out_bytes_per_element = 0;
  return v;
}

}  // namespace

double active_input_channels(const workloads::WeightFormat& f, std::uint64_t rows) {
  if (f.activation_density >= 1.0) return 1.0;
  return 1.0 - std::pow(1.0 - f.activation_density, static_cast<double>(rows));
}

bool shrinks_gemm(const workloads::WeightFormat& f) {
  return f.kept_in < 1.0 || f.kept_out < 1.0 || f.activation_density < 1.0;
}

std::optional<double> executed_gemm_flops(const Graph& graph, OpId id, const GemmProblem& p) {
  const auto& op = graph.op(id);
  if (!op.weight || !shrinks_gemm(graph.tensor(*op.weight).weight_format)) return std::nullopt;
  return 2.0 * static_cast<double>(p.batch * p.m * p.n * p.k);
}

std::vector<VectorPass> weight_expansion_passes(const workloads::WeightFormat& f) {
  std::vector<VectorPass> passes;
  if (f.decompress_passes > 0) passes.push_back({arch::VectorOpKind::decompress, f.decompress_passes});
  if (f.dequantize_passes > 0) passes.push_back({arch::VectorOpKind::dequantize, f.dequantize_passes});
  return passes;
}

bool expands_on_vector_path(const workloads::WeightFormat& f) {
  return f.dequantize_passes > 0 || (f.decompress_passes > 0 && !f.decompress_in_load_path);
}

bool any_weight_expands_on_vector_path(const Graph& graph) {
  for (OpId id : graph.topological_order()) {
    const auto& op = graph.op(id);
    if (workloads::is_matmul_like(op.kind) && op.weight && expands_on_vector_path(graph.tensor(*op.weight).weight_format)) {
      return true;
    }
  }
  return false;
}

bool kv_cache_expands_on_vector_path(const Graph& graph, OpId id) {
  const auto& op = graph.op(id);
  if (op.weight || !is_attention(op.kind) || !op.matmul) return false;
  const auto cache_id = kv_input(graph, op);
  return cache_id && graph.tensor(*cache_id).kv_format.expand_passes > 0;
}

std::vector<VectorPass> kv_expansion_passes(const Graph& graph, OpId id) {
  if (!kv_cache_expands_on_vector_path(graph, id)) return {};
  const auto& op = graph.op(id);
  const auto& cache = graph.tensor(*kv_input(graph, op));
  const std::uint64_t cached = cache.shape[2];
  const std::uint64_t keys = op.kind == OpKind::AttentionScore ? op.matmul->n : op.matmul->k;
  const std::uint64_t quantized = cached - std::min<std::uint64_t>(cached, cache.kv_format.full_precision_tokens);
  if (quantized == 0 || keys == 0) return {};
  // Only the quantized tokens need dequantizing: the pivots (the first
  // full_precision_tokens) and the fresh tokens are stored at the cube's
  // precision and are only copied into the slot. A panel is a contiguous
  // run of elements split evenly among the AIVs, not a run of tokens, so
  // every element of a panel gets the quantized fraction of a pass (the
  // element count the alongside path dequantizes, spread over all panels).
  const double fraction = std::min(1.0, static_cast<double>(quantized) / static_cast<double>(keys));
  return {{arch::VectorOpKind::dequantize, cache.kv_format.expand_passes * fraction}};
}

void route_operand_expansion(const Graph& graph, OpId id, std::uint64_t workspace_address, GemmProblem& p) {
  const auto& op = graph.op(id);
  if (!op.weight) {
    auto passes = kv_expansion_passes(graph, id);
    if (passes.empty()) return;
    p.b_expand_passes = std::move(passes);
    p.b_workspace_address = workspace_address;
    return;
  }
  const auto& f = graph.tensor(*op.weight).weight_format;
  if (!expands_on_vector_path(f)) return;
  p.b_expand_passes = weight_expansion_passes(f);
  p.b_workspace_address = workspace_address;
}

void apply_operand_formats(const Graph& graph, OpId id, GemmProblem& p) {
  const auto& op = graph.op(id);
  if (!op.weight) {
    if (is_attention(op.kind)) apply_attention_formats(graph, op, p);
    return;
  }
  const auto& f = graph.tensor(*op.weight).weight_format;
  p.k = shrink(p.k, f.kept_in * active_input_channels(f, p.batch * p.m));
  p.n = shrink(p.n, f.kept_out);
  if (f.cube_precision) p.a_dtype = *f.cube_precision;
  p.b_dtype = f.cube_precision.value_or(f.precision);
  p.b_stored_bits = weight_storage(f, p.k, p.n).total();
  p.sparsity = !f.cube_sparse ? arch::CubeSparsity::dense
               : f.m == 4     ? arch::CubeSparsity::sparse_2_4
                              : arch::CubeSparsity::sparse_4_8;
}

OperandWork operand_work(const Graph& graph, OpId id, const GemmProblem& p) {
  const auto& op = graph.op(id);
  OperandWork work;
  const std::uint64_t b_items = std::max<std::uint64_t>(1, p.batch / std::max<std::uint64_t>(1, p.b_shared_by));
  if (!op.weight) {
    const auto cache_id = is_attention(op.kind) ? kv_input(graph, op) : std::nullopt;
    if (!cache_id) return work;
    const auto& cache = graph.tensor(*cache_id);
    // Dequantized through the workspace by the GEMM's own lowering on split cores.
    if (cache.kv_format.expand_passes <= 0 || p.b_expanded_by_vector()) return work;
    const std::uint64_t cached = cache.shape[2], width = cache.shape[3];
    const std::uint64_t quantized = cached - std::min<std::uint64_t>(cached, cache.kv_format.full_precision_tokens);
    VectorProblem v = on_chip(b_items * quantized * width, p.b_dtype);
    v.passes = {{arch::VectorOpKind::dequantize, cache.kv_format.expand_passes}};
    work.alongside.push_back(v);
    return work;
  }
  const auto& f = graph.tensor(*op.weight).weight_format;
  if (f.activation_density < 1.0) {
    // Thresholding A and compacting its surviving channels (vcmp, then a
    // mask gather) before the GEMM loads only their weight rows.
    const auto k_in = shrink(graph.tensor(*op.weight).shape.front(), f.kept_in);
    VectorProblem select = on_chip(p.batch * p.m * k_in, p.a_dtype);
    select.passes = {{arch::VectorOpKind::compare, 1.0}, {arch::VectorOpKind::gather_mask, 1.0}};
    work.alongside.push_back(select);
  }
  // Expanded through the workspace by the GEMM's own lowering on split
  // cores; otherwise on the panels the GEMM's loads bring on chip.
  if (!p.b_expanded_by_vector()) {
    VectorProblem expand = on_chip(b_items * p.k * p.n, p.b_dtype);
    expand.passes = weight_expansion_passes(f);
    if (!expand.passes.empty()) work.alongside.push_back(expand);
  }

  const std::uint64_t k_full = graph.tensor(*op.weight).shape.front();
  if (f.cube_precision && is_integer(*f.cube_precision) && f.precision == *f.cube_precision && f.group_size > 0 &&
      f.group_size < k_full) {
    const double groups = static_cast<double>(ceil_div(p.k, f.group_size));
    VectorProblem rescale = on_chip(p.batch * p.m * p.n, DType::fp32);
    rescale.passes = {{arch::VectorOpKind::mul, groups}, {arch::VectorOpKind::add, groups}};
    work.alongside.push_back(rescale);
  }
  if (f.activation && f.cube_precision && *f.activation != *f.cube_precision) {
    VectorProblem widen = on_chip(p.batch * p.m * p.k, p.a_dtype);
    widen.passes = {{arch::VectorOpKind::dequantize, 1.0}};
    work.alongside.push_back(widen);
  }
  return work;
}

std::optional<DType> fixpipe_output_dtype(const Graph& graph, OpId id) {
  const auto& op = graph.op(id);
  if (op.outputs.empty()) return std::nullopt;
  return consumers_quantize_to(graph, id, op.outputs.front());
}

VectorOpExtras vector_op_extras(const Graph& graph, OpId id) {
  const auto& op = graph.op(id);
  VectorOpExtras extras;
  if (op.outputs.empty() || workloads::is_matmul_like(op.kind)) return extras;
  const auto& out = graph.tensor(op.outputs.front());
  if (op.kind == OpKind::KvCacheWrite) {
    const auto& f = out.kv_format;
    if (out.shape.size() != 4 || f.tier.empty() || f.precision == out.dtype) return extras;
    // The tokens written start at position `context`; pivots among them stay full precision.
    const workloads::KvCacheFormat written = from_token(f, graph.context.context);
    const KvStorage s = kv_storage(written, out.dtype, out.shape[0], out.shape[1], out.shape[2], out.shape[3]);
    extras.passes = {{arch::VectorOpKind::quantize, 1.0}};
    extras.out_bytes_scale = s.used_bytes / static_cast<double>(out.bytes());
    return extras;
  }
  if (auto q = consumers_quantize_to(graph, id, out.id)) {
    extras.passes = {{arch::VectorOpKind::quantize, 1.0}};
    extras.out_bytes_scale = dtype_bits(*q) / dtype_bits(out.dtype);
  }
  return extras;
}

}  // namespace npusim::mapper
