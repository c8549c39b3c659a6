#include "workloads/onnx/onnx_import.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <onnx/checker.h>

#include "common/error.h"
#include "workloads/graph_builder.h"
#include "workloads/onnx/onnx_file.h"
#include "workloads/onnx/onnx_int_eval.h"
#include "workloads/onnx/onnx_kv_cache.h"
#include "workloads/onnx/onnx_moe.h"
#include "workloads/onnx/onnx_names.h"
#include "workloads/onnx/onnx_ops.h"
#include "workloads/onnx/onnx_values.h"

namespace npusim::workloads {
namespace onnx_import {
namespace {

using Ints = std::vector<std::int64_t>;

// Torch writes weights in module layout and lets these reshape them for the
// consumer; the stored weight is the same bytes whichever layout it is in.
const std::set<std::string>& weight_view_ops() {
  static const std::set<std::string> ops = {"Transpose", "Cast", "CastLike", "Reshape", "Squeeze", "Unsqueeze",
                                            "Flatten"};
  return ops;
}

// kv_view: a view of the KV cache (no op; consumers read the cache);
// kv_append: the Concat that appends a step's keys or values to it.
enum class NodeClass { constant, weight_view, weight_copy, kv_view, kv_append, op };

std::uint64_t product(const Ints& dims, std::size_t begin, std::size_t end) {
  std::uint64_t n = 1;
  for (std::size_t i = begin; i < end; ++i) n *= static_cast<std::uint64_t>(dims[i]);
  return n;
}

class Importer {
 public:
  Importer(std::string path, const OnnxImportOptions& options) : path_(std::move(path)), options_(options) {}

  OnnxImport run() {
    model_ = read_model_file(path_);
    check_nodes();
    try {
      onnx::checker::check_model(model_);
    } catch (const std::exception& e) {
      throw InputError(fmt::format("{}: invalid ONNX model: {}", path_, e.what()));
    }
    values_ = resolve_values(model_, options_.dims, path_);
    OnnxImport out{Graph(graph_name()), {}};
    graph_ = &out.graph;
    add_weights();
    add_graph_inputs();
    classify_nodes();
    name_ops();
    build_ops();
    MoeLayers moe = find_moe_layers(pending_, topk_candidates_, path_);
    if (options_.routing) apply_routing(moe, *options_.routing, options_.step, pending_, path_);
    for (auto& p : pending_) {
      if (moe.router_layers.count(p.op.layer) && is_router_scope(p.scope) && p.op.kind == OpKind::MatMul) {
        p.op.kind = OpKind::Router;
      }
      out.op_of_node.emplace(p.onnx_name, p.op.name);
      graph_->add_op(std::move(p.op));
    }
    graph_->moe_layers = moe.info;
    set_context();
    return out;
  }

 private:
  std::string graph_name() const {
    const auto slash = path_.find_last_of('/');
    return slash == std::string::npos ? path_ : path_.substr(slash + 1);
  }

  const onnx::NodeProto& node(std::size_t i) const { return model_.graph().node(static_cast<int>(i)); }

  // Before ONNX's checker, so these errors name the node in npusim's format.
  void check_nodes() const {
    std::set<std::string> defined;
    for (const auto& init : model_.graph().initializer()) defined.insert(init.name());
    for (const auto& input : model_.graph().input()) defined.insert(input.name());
    for (const auto& n : model_.graph().node()) {
      for (const auto& in : n.input()) {
        if (!in.empty() && !defined.count(in)) {
          fail_at_node(path_, n, fmt::format("has input '{}', which is neither a graph input, an initializer nor an "
                                             "output of an earlier node",
                                             in));
        }
      }
      defined.insert(n.output().begin(), n.output().end());
      const bool default_domain = n.domain().empty() || n.domain() == "ai.onnx";
      if (!default_domain || !op_rule(n.op_type())) {
        fail_at_node(path_, n, fmt::format("is not supported{}; npusim imports these ai.onnx op types: {}",
                                           default_domain ? "" : fmt::format(" (domain '{}')", n.domain()),
                                           supported_op_types()));
      }
    }
  }

  DType dtype_of(const std::string& value, std::int32_t elem, TensorRole role) const {
    switch (elem) {
      case onnx::TensorProto_DataType_FLOAT:
      case onnx::TensorProto_DataType_FLOAT16:
      case onnx::TensorProto_DataType_BFLOAT16: {
        const auto& override_dtype = role == TensorRole::weight ? options_.weight_dtype : options_.activation_dtype;
        if (override_dtype) return *override_dtype;
        if (elem == onnx::TensorProto_DataType_FLOAT) return DType::fp32;
        return elem == onnx::TensorProto_DataType_FLOAT16 ? DType::fp16 : DType::bf16;
      }
      // npusim has no 64-bit integer type; indices and masks are tiny next
      // to the activations, so int32 is close enough for their traffic.
      case onnx::TensorProto_DataType_INT64:
      case onnx::TensorProto_DataType_INT32:
      case onnx::TensorProto_DataType_UINT32:
      case onnx::TensorProto_DataType_INT16:
      case onnx::TensorProto_DataType_UINT16: return DType::int32;
      case onnx::TensorProto_DataType_INT8:
      case onnx::TensorProto_DataType_UINT8:
      case onnx::TensorProto_DataType_BOOL: return DType::int8;
      default:
        throw InputError(fmt::format("{}: value '{}' has element type {}, which npusim does not model", path_, value,
                                     onnx::TensorProto_DataType_Name(elem)));
    }
  }

  static bool is_float(std::int32_t elem) {
    return elem == onnx::TensorProto_DataType_FLOAT || elem == onnx::TensorProto_DataType_FLOAT16 ||
           elem == onnx::TensorProto_DataType_BFLOAT16 || elem == onnx::TensorProto_DataType_DOUBLE;
  }

  static std::vector<std::uint64_t> to_dims(const Ints& shape) {
    std::vector<std::uint64_t> out;
    for (auto d : shape) out.push_back(static_cast<std::uint64_t>(d));
    return out;
  }

  TensorId add_weight(const std::string& name, const ValueInfo& v) {
    Tensor t;
    t.name = name;
    t.shape = to_dims(*v.shape);
    t.dtype = dtype_of(name, v.elem_type, TensorRole::weight);
    t.role = TensorRole::weight;
    t.layer = layer_of(name);
    t.expert = expert_of(name);
    t.weight_format.precision = t.dtype;
    return graph_->add_tensor(std::move(t));
  }

  void add_weights() {
    for (const auto& init : model_.graph().initializer()) {
      // Integer initializers are shape arithmetic (axes, shapes), not parameters.
      if (is_float(init.data_type())) weight_of_[init.name()] = add_weight(init.name(), values_.at(init.name()));
      else constants_.insert(init.name());
    }
  }

  TensorId add_activation(const std::string& name, int layer) {
    const ValueInfo& v = values_[name];
    Tensor t;
    t.name = name;
    t.shape = to_dims(*v.shape);
    t.dtype = dtype_of(name, v.elem_type, TensorRole::activation);
    t.layer = layer;
    const TensorId id = graph_->add_tensor(std::move(t));
    activation_of_[name] = id;
    return id;
  }

  void add_graph_inputs() {
    for (const auto& input : model_.graph().input()) {
      if (weight_of_.count(input.name()) || constants_.count(input.name())) continue;
      if (auto kv = parse_past_kv_name(input.name())) add_past_kv(input.name(), *kv);
      else add_activation(input.name(), -1);
    }
  }

  void add_past_kv(const std::string& name, const PastKvName& kv) {
    const ValueInfo& v = values_.at(name);
    if (!v.shape || v.shape->size() != 4) {
      throw InputError(fmt::format("{}: KV-cache input '{}' has {} dims; expected [batch, kv_heads, cached tokens, "
                                   "head_dim]",
                                   path_, name, v.shape ? v.shape->size() : 0));
    }
    if (!is_float(v.elem_type)) {
      throw InputError(fmt::format("{}: KV-cache input '{}' has element type {}; expected a floating-point cache",
                                   path_, name, onnx::TensorProto_DataType_Name(v.elem_type)));
    }
    Tensor t;
    t.name = name;
    t.shape = to_dims(*v.shape);
    t.dtype = dtype_of(name, v.elem_type, TensorRole::kv_cache);
    t.role = TensorRole::kv_cache;
    t.layer = kv.layer;
    t.kv_format.precision = t.dtype;
    const TensorId id = graph_->add_tensor(std::move(t));
    past_input_[name] = id;
    past_kv_[id] = kv;
    kv_sources_[name] = {name};
  }

  // The values a consumer of `value` reads: for a view of the KV cache, the
  // cache and the step's new entries; otherwise the value itself.
  std::vector<std::string> sources_of(const std::string& value) const {
    auto it = kv_sources_.find(value);
    return it == kv_sources_.end() ? std::vector<std::string>{value} : it->second;
  }

  bool is_constant(const std::string& value) const { return value.empty() || constants_.count(value) != 0; }

  void classify_nodes() {
    const auto& nodes = model_.graph().node();
    classes_.resize(static_cast<std::size_t>(nodes.size()));
    for (int i = 0; i < nodes.size(); ++i) {
      const auto& n = nodes[i];
      const NodeClass c = classify(n);
      classes_[static_cast<std::size_t>(i)] = c;
      for (const auto& out : n.output()) {
        if (c == NodeClass::constant && !out.empty()) constants_.insert(out);
      }
      if (c == NodeClass::weight_view) weight_of_[n.output(0)] = weight_of_.at(n.input(0));
      if (c == NodeClass::kv_view || c == NodeClass::kv_append) {
        std::vector<std::string> sources;
        for (const auto& in : n.input()) {
          if (is_constant(in)) continue;
          for (const auto& src : sources_of(in)) {
            if (std::find(sources.begin(), sources.end(), src) == sources.end()) sources.push_back(src);
          }
        }
        for (const auto& out : n.output()) {
          if (!out.empty()) kv_sources_[out] = sources;
        }
      }
      if (c == NodeClass::weight_copy) {
        ValueInfo v = values_.at(n.input(0));
        weight_of_[n.output(0)] = add_weight(n.output(0), v);
      }
    }
  }

  NodeClass classify(const onnx::NodeProto& n) const {
    const OpRule rule = *op_rule(n.op_type());
    // A Shape reads only its input's shape, which is static here.
    if (n.op_type() == "Shape" || n.op_type() == "Size") return NodeClass::constant;
    const bool all_constant = std::all_of(n.input().begin(), n.input().end(),
                                          [&](const std::string& in) { return is_constant(in); });
    if (all_constant) return NodeClass::constant;
    if (rule.cost == Cost::shape_only) {
      fail_at_node(path_, n, "computes a shape from activation values, which a static graph cannot represent");
    }
    const bool reads_cache = std::any_of(n.input().begin(), n.input().end(),
                                         [&](const std::string& in) { return kv_sources_.count(in) != 0; });
    if (reads_cache) {
      const bool appends = n.op_type() == "Concat" &&
                           std::any_of(n.input().begin(), n.input().end(),
                                       [&](const std::string& in) { return past_input_.count(in) != 0; });
      if (appends) return NodeClass::kv_append;
      if (rule.cost == Cost::view) return NodeClass::kv_view;
      return NodeClass::op;
    }
    const bool rest_constant = std::all_of(n.input().begin() + 1, n.input().end(),
                                           [&](const std::string& in) { return is_constant(in); });
    if (weight_of_.count(n.input(0)) && rest_constant) {
      if (n.op_type() == "Identity") return NodeClass::weight_copy;
      if (weight_view_ops().count(n.op_type())) return NodeClass::weight_view;
    }
    return NodeClass::op;
  }

  void name_ops() {
    std::map<std::string, int> cube_ops_in_scope;
    for (std::size_t i = 0; i < classes_.size(); ++i) {
      if (!becomes_op(i)) continue;
      scoped_.emplace(i, parse_node_name(node(i).name()));
      if (classes_[i] == NodeClass::kv_append) {
        scoped_.at(i).leaf = past_kv_.at(appended_cache(i)).key ? "key_cache_write" : "value_cache_write";
      }
      const auto rule = *op_rule(node(i).op_type());
      if (rule.cost == Cost::matmul || rule.cost == Cost::gemm) ++cube_ops_in_scope[scoped_.at(i).scope];
    }
    std::set<std::string> taken;
    for (auto& [i, s] : scoped_) {
      const auto rule = *op_rule(node(i).op_type());
      const bool cube = rule.cost == Cost::matmul || rule.cost == Cost::gemm;
      std::string name;
      if (s.scope.empty()) name = s.leaf.empty() ? fmt::format("{}_{}", node(i).op_type(), i) : s.leaf;
      else if (cube && cube_ops_in_scope[s.scope] == 1) name = s.scope;
      else name = s.scope + "/" + s.leaf;
      const std::string base = name;
      for (int k = 2; taken.count(name); ++k) name = fmt::format("{}_{}", base, k);
      taken.insert(name);
      op_names_[i] = name;
    }
  }

  bool becomes_op(std::size_t i) const { return classes_[i] == NodeClass::op || classes_[i] == NodeClass::kv_append; }

  // The past-KV input a kv_append node extends.
  TensorId appended_cache(std::size_t i) const {
    for (const auto& in : node(i).input()) {
      if (auto it = past_input_.find(in); it != past_input_.end()) return it->second;
    }
    throw std::logic_error("kv_append node without a past-KV input");
  }

  const Ints& shape_of(const onnx::NodeProto& n, const std::string& value) const {
    auto it = values_.find(value);
    if (it == values_.end() || !it->second.shape) {
      fail_at_node(path_, n, fmt::format("has no static shape for value '{}' after shape inference", value));
    }
    return *it->second.shape;
  }

  // The graph tensor a node input names, or nullopt for a constant.
  std::optional<TensorId> tensor_of(const std::string& value) const {
    if (auto w = weight_of_.find(value); w != weight_of_.end()) return w->second;
    if (auto a = activation_of_.find(value); a != activation_of_.end()) return a->second;
    if (auto kv = past_input_.find(value); kv != past_input_.end()) return kv->second;
    return std::nullopt;
  }

  void build_ops() {
    for (std::size_t i = 0; i < classes_.size(); ++i) {
      if (!becomes_op(i)) continue;
      const auto& n = node(i);
      const ScopedName& s = scoped_.at(i);
      PendingOp p;
      p.onnx_name = n.name();
      p.scope = s.scope;
      p.op.name = op_names_.at(i);
      p.op.layer = s.layer;
      p.op.expert = s.expert;
      const OpRule rule = *op_rule(n.op_type());
      p.op.kind = rule.kind;
      if (rule.kind == OpKind::Activation) {
        p.op.activation = n.op_type() == "Relu"   ? ActivationFunction::relu
                          : n.op_type() == "Gelu" ? ActivationFunction::gelu
                                                  : ActivationFunction::other;
      }
      for (const auto& in : n.input()) {
        for (const auto& src : sources_of(in)) {
          if (auto t = tensor_of(src); t && std::find(p.op.inputs.begin(), p.op.inputs.end(), *t) == p.op.inputs.end()) {
            p.op.inputs.push_back(*t);
          }
        }
      }
      if (classes_[i] == NodeClass::kv_append) {
        build_cache_append(n, appended_cache(i), p.op);
        pending_.push_back(std::move(p));
        continue;
      }
      for (const auto& out : n.output()) {
        if (out.empty()) continue;
        shape_of(n, out);
        p.op.outputs.push_back(add_activation(out, s.layer));
      }
      if (rule.cost == Cost::matmul || rule.cost == Cost::gemm) set_matmul(n, rule.cost, p.op);
      else count_work(n, rule, p.op);
      if (n.op_type() == "TopK" && s.layer >= 0 && s.expert < 0) note_topk(n, s.layer);
      pending_.push_back(std::move(p));
    }
  }

  void set_matmul(const onnx::NodeProto& n, Cost cost, Op& op) {
    Ints a = shape_of(n, n.input(0));
    Ints b = shape_of(n, n.input(1));
    MatmulShape mm;
    if (cost == Cost::gemm) {
      if (a.size() != 2 || b.size() != 2) fail_at_node(path_, n, "has inputs that are not 2-D; Gemm needs 2-D A and B");
      const bool ta = int_attribute(n, "transA", 0) != 0;
      const bool tb = int_attribute(n, "transB", 0) != 0;
      mm.m = static_cast<std::uint64_t>(ta ? a[1] : a[0]);
      mm.k = static_cast<std::uint64_t>(ta ? a[0] : a[1]);
      mm.n = static_cast<std::uint64_t>(tb ? b[0] : b[1]);
      if (static_cast<std::int64_t>(mm.k) != (tb ? b[1] : b[0])) fail_at_node(path_, n, "has inner dimensions that differ");
    } else {
      if (a.empty() || b.empty()) fail_at_node(path_, n, "has a scalar operand");
      if (a.size() == 1) a.insert(a.begin(), 1);  // numpy: a vector is one row
      if (b.size() == 1) b.push_back(1);
      if (a[a.size() - 1] != b[b.size() - 2]) {
        fail_at_node(path_, n, fmt::format("has inner dimensions that differ ({} vs {})", a.back(), b[b.size() - 2]));
      }
      mm.k = static_cast<std::uint64_t>(a.back());
      mm.n = static_cast<std::uint64_t>(b.back());
      if (b.size() == 2) {
        // A plain linear layer: every leading dim of A is a row of M.
        mm.m = product(a, 0, a.size() - 1);
      } else {
        op.kind = OpKind::BatchMatMul;
        mm.m = static_cast<std::uint64_t>(a[a.size() - 2]);
        const std::size_t rank = std::max(a.size(), b.size());
        for (std::size_t d = 2; d < rank; ++d) {
          const std::int64_t da = d < a.size() ? a[a.size() - 1 - d] : 1;
          const std::int64_t db = d < b.size() ? b[b.size() - 1 - d] : 1;
          mm.batch *= static_cast<std::uint64_t>(std::max(da, db));
        }
      }
    }
    op.matmul = mm;
    op.flops = 2 * mm.macs();
    if (auto w = weight_of_.find(n.input(1)); w != weight_of_.end()) op.weight = w->second;
    else if (auto w0 = weight_of_.find(n.input(0)); w0 != weight_of_.end()) op.weight = w0->second;
    mark_attention(op);
    count_bytes(op);
  }

  // A matmul over the cache is attention over it (see onnx_kv_cache.h):
  // query heads that share a KV head become rows of one matmul per KV head.
  void mark_attention(Op& op) const {
    for (TensorId t : op.inputs) {
      auto kv = past_kv_.find(t);
      if (kv == past_kv_.end()) continue;
      op.kind = kv->second.key ? OpKind::AttentionScore : OpKind::AttentionContext;
      const Tensor& cache = graph_->tensor(t);
      MatmulShape& mm = *op.matmul;
      const std::uint64_t cache_heads = cache.shape[0] * cache.shape[1];
      if (cache_heads != 0 && mm.batch > cache_heads && mm.batch % cache_heads == 0) {
        mm.m *= mm.batch / cache_heads;
        mm.batch = cache_heads;
      }
      return;
    }
  }

  // The step's entries land in the cache: the op reads them and writes them
  // as cache; the rest of the cache stays where it is.
  void build_cache_append(const onnx::NodeProto& n, TensorId cache_id, Op& op) {
    const Tensor& cache = graph_->tensor(cache_id);
    op.inputs.erase(std::remove_if(op.inputs.begin(), op.inputs.end(),
                                   [&](TensorId t) { return graph_->tensor(t).role == TensorRole::kv_cache; }),
                    op.inputs.end());
    if (op.inputs.empty()) fail_at_node(path_, n, fmt::format("appends nothing to KV-cache input '{}'", cache.name));
    const Ints& out_shape = shape_of(n, n.output(0));
    std::int64_t axis = int_attribute(n, "axis", 0);
    if (axis < 0) axis += static_cast<std::int64_t>(out_shape.size());
    if (axis != 2 || out_shape.size() != 4) {
      fail_at_node(path_, n, fmt::format("appends to KV-cache input '{}' along axis {} of a {}-D value; expected the "
                                         "token axis 2 of [batch, kv_heads, tokens, head_dim]",
                                         cache.name, axis, out_shape.size()));
    }
    Tensor appended;
    appended.name = n.output(0) + ".append";
    appended.shape = to_dims(out_shape);
    appended.shape[2] -= cache.shape[2];
    appended.dtype = cache.dtype;
    appended.role = TensorRole::kv_cache;
    appended.layer = cache.layer;
    appended.kv_format.precision = cache.dtype;
    // add_tensor may move the graph's tensors, so `cache` is not read after it.
    op.layer = cache.layer;
    op.outputs.push_back(graph_->add_tensor(std::move(appended)));
    op.kind = OpKind::KvCacheWrite;
    count_bytes(op);
  }

  void count_bytes(Op& op) const {
    for (TensorId t : op.inputs) op.bytes_read[graph_->tensor(t).role] += graph_->tensor(t).bytes();
    for (TensorId t : op.outputs) op.bytes_written[graph_->tensor(t).role] += graph_->tensor(t).bytes();
  }

  void count_work(const onnx::NodeProto& n, const OpRule& rule, Op& op) const {
    if (rule.cost == Cost::view) return;  // folded by the mapper: no work, no traffic
    if (rule.cost == Cost::gather) {
      // Only the gathered rows of the table move, plus the indices.
      const TensorId out = op.outputs.front();
      if (auto data = tensor_of(n.input(0))) op.bytes_read[graph_->tensor(*data).role] += graph_->tensor(out).bytes();
      if (auto idx = tensor_of(n.input(1))) op.bytes_read[graph_->tensor(*idx).role] += graph_->tensor(*idx).bytes();
      op.bytes_written.activation += graph_->tensor(out).bytes();
      if (auto w = weight_of_.find(n.input(0)); w != weight_of_.end()) op.weight = w->second;
      return;
    }
    std::uint64_t elements = 0;
    for (TensorId t : op.inputs) elements = std::max(elements, graph_->tensor(t).elements());
    for (TensorId t : op.outputs) elements = std::max(elements, graph_->tensor(t).elements());
    op.vector_ops = static_cast<std::uint64_t>(vector_ops_per_element(rule.kind) * static_cast<double>(elements));
    count_bytes(op);
  }

  void note_topk(const onnx::NodeProto& n, int layer) {
    auto k = values_.find(n.input(1));
    if (k == values_.end() || !k->second.ints || k->second.ints->size() != 1) return;
    const Ints& in = shape_of(n, n.input(0));
    std::int64_t axis = int_attribute(n, "axis", -1);
    if (axis < 0) axis += static_cast<std::int64_t>(in.size());
    topk_candidates_.push_back({layer, static_cast<std::uint64_t>(in[static_cast<std::size_t>(axis)]),
                                static_cast<std::uint64_t>((*k->second.ints)[0])});
  }

  void set_context() {
    GraphContext& c = graph_->context;
    c.phase = Phase::prefill;
    c.step = options_.step;
    // A graph that reads a KV cache is a decode step over that many cached tokens.
    std::optional<std::pair<std::string, std::uint64_t>> cached;
    for (const auto& [name, id] : past_input_) {
      const std::uint64_t tokens = graph_->tensor(id).shape[2];
      if (cached && cached->second != tokens) {
        throw InputError(fmt::format("{}: KV-cache inputs '{}' and '{}' cache {} and {} tokens; one decode step has "
                                     "one context length",
                                     path_, cached->first, name, cached->second, tokens));
      }
      cached = std::make_pair(name, tokens);
    }
    if (cached) {
      c.phase = Phase::decode;
      c.context = cached->second;
    }
    // The first graph input is the token ids ([batch, seq]) or hidden
    // states ([batch, seq, hidden]) of a traced decoder.
    for (const auto& input : model_.graph().input()) {
      if (!activation_of_.count(input.name())) continue;
      const Ints& shape = *values_.at(input.name()).shape;
      if (shape.size() >= 2) {
        c.batch = static_cast<std::uint64_t>(shape[0]);
        c.new_tokens = static_cast<std::uint64_t>(shape[1]);
      } else if (shape.size() == 1) {
        c.new_tokens = static_cast<std::uint64_t>(shape[0]);
      }
      break;
    }
  }

  std::string path_;
  OnnxImportOptions options_;
  onnx::ModelProto model_;
  ValueTable values_;
  Graph* graph_ = nullptr;
  std::set<std::string> constants_;
  std::unordered_map<std::string, TensorId> weight_of_;
  std::unordered_map<std::string, TensorId> activation_of_;
  std::map<std::string, TensorId> past_input_;  // past_key_values.N.key/value inputs (onnx_kv_cache.h)
  std::unordered_map<TensorId, PastKvName> past_kv_;
  std::unordered_map<std::string, std::vector<std::string>> kv_sources_;  // cache views -> what they read
  std::vector<NodeClass> classes_;
  std::map<std::size_t, ScopedName> scoped_;
  std::map<std::size_t, std::string> op_names_;
  std::vector<PendingOp> pending_;
  std::vector<TopKCandidate> topk_candidates_;
};

}  // namespace
}  // namespace onnx_import

OnnxImport import_onnx_model(const std::string& path, const OnnxImportOptions& options) {
  return onnx_import::Importer(path, options).run();
}

Graph import_onnx(const std::string& path, const OnnxImportOptions& options) {
  return import_onnx_model(path, options).graph;
}

}  // namespace npusim::workloads
