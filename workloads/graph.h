#pragma once
// The workload graph: what is computed, with no knowledge of the machine.
//
// Representation. Ops are the vertices of a boost::adjacency_list. Tensors
// are first-class and live in a table owned by the graph (TensorId indexes
// it); an op names its input and output tensors by id. Every edge u -> v
// carries the TensorId of one tensor that u produces and v consumes, so the
// Boost graph is the dependency structure and the table is the data.
// Weights, KV-cache regions and graph inputs have no producer and therefore
// no in-edge; they are still inputs of the ops that read them.
//
// Sizes stay linear in layers (and experts): heads are a batch dimension of
// one BatchMatMul, tokens are the M dimension, never separate vertices.
//
// Ops are appended in dependency order (add_op refuses an input whose
// producer does not exist yet), so op ids are already a topological order;
// topological_order() is there for consumers who do not want to rely on it.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include "common/dtype.h"
#include "common/units.h"
#include "workloads/annotations.h"

namespace npusim::workloads {

enum class OpKind {
  MatMul,            // [M,K] x [K,N], usually with a weight as B
  BatchMatMul,       // batch x ([M,K] x [K,N]); heads and KV groups are the batch
  AttentionScore,    // Q K^T per KV-head group: batch = sequences x kv_heads
  AttentionContext,  // P V per KV-head group
  Softmax,
  RMSNorm,
  LayerNorm,
  RoPE,
  SwiGLU,      // silu(gate) * up
  Activation,  // a single-input activation (silu, gelu, relu)
  ElementwiseAdd,
  ElementwiseMul,
  Embedding,  // gather of rows of a table
  Router,     // the gate matmul of an MoE layer (hidden -> experts)
  TopK,
  ExpertDispatch,  // permute tokens to their experts
  ExpertCombine,   // weighted un-permute and sum of expert outputs
  KvCacheWrite,    // append this step's K and V to the cache
  AllReduce,
  AllToAll,
  Reshape,    // zero-cost view
  Transpose,  // zero-cost view (a layout change the mapper may fold)
};

const char* op_kind_name(OpKind kind);
std::optional<OpKind> op_kind_from_name(const std::string& name);

// What an Activation op computes, where its source says so (ONNX's op type,
// a graph workload's `function`); unspecified otherwise. The mapper may fold
// a ReLU into the FixPipe of the matmul that feeds it.
enum class ActivationFunction { unspecified, relu, gelu, silu, other };
const char* activation_function_name(ActivationFunction function);
// Names a graph workload may give ("relu", "gelu", "silu").
std::optional<ActivationFunction> activation_function_from_name(const std::string& name);
std::vector<OpKind> all_op_kinds();
// Ops the cube unit executes; their Op::matmul holds the shape.
bool is_matmul_like(OpKind kind);

enum class TensorRole { weight, activation, kv_cache };
const char* role_name(TensorRole role);

using TensorId = std::uint32_t;

struct Tensor {
  TensorId id = 0;
  std::string name;
  std::vector<std::uint64_t> shape;
  DType dtype = DType::fp16;
  TensorRole role = TensorRole::activation;
  int layer = -1;   // -1: not inside a decoder layer
  int expert = -1;  // routed expert index; -1 for everything else
  WeightFormat weight_format;  // meaningful for weights
  KvCacheFormat kv_format;     // meaningful for KV-cache tensors

  std::uint64_t elements() const;
  // Dense storage at `dtype`; compressed sizes are the mapper's business.
  Bytes bytes() const;
};

struct RoleBytes {
  Bytes weight = 0;
  Bytes activation = 0;
  Bytes kv_cache = 0;

  Bytes& operator[](TensorRole role);
  Bytes operator[](TensorRole role) const;
  Bytes total() const { return weight + activation + kv_cache; }
  RoleBytes& operator+=(const RoleBytes& other);
};

struct MatmulShape {
  std::uint64_t batch = 1;
  std::uint64_t m = 0;
  std::uint64_t k = 0;
  std::uint64_t n = 0;
  std::uint64_t macs() const { return batch * m * k * n; }
};

struct Op {
  std::string name;  // HF-style hierarchical, e.g. layers.3.mlp.down_proj
  OpKind kind = OpKind::MatMul;
  int layer = -1;
  int expert = -1;  // routed expert index, -1 otherwise
  std::vector<TensorId> inputs;
  std::vector<TensorId> outputs;
  std::optional<MatmulShape> matmul;  // set exactly for matmul-like kinds
  std::optional<TensorId> weight;     // the weight operand, if any
  bool causal = false;                // attention with a causal mask (prefill)
  ActivationFunction activation = ActivationFunction::unspecified;  // Activation ops only

  // Cube work: 2 x MACs for matmul-like ops, 0 otherwise.
  std::uint64_t flops = 0;
  // Vector-unit element operations (norms, softmax, activations, adds).
  std::uint64_t vector_ops = 0;
  // Traffic the op itself causes, by the role of the tensor touched. It can
  // be less than the tensors' sizes: an embedding gathers only the rows it
  // needs and an idle expert (M = 0) reads nothing.
  RoleBytes bytes_read;
  RoleBytes bytes_written;
};

struct TensorEdge {
  TensorId tensor = 0;
};

// What the graph is an instance of, for consumers that report per step.
enum class Phase { prefill, decode };
const char* phase_name(Phase phase);

struct GraphContext {
  Phase phase = Phase::prefill;
  std::uint64_t batch = 1;       // sequences
  std::uint64_t new_tokens = 1;  // tokens per sequence computed in this graph
  std::uint64_t context = 0;     // KV entries per sequence already cached before this graph
  std::uint64_t step = 0;        // decode step index; 0 for prefill
};

// Routed-expert structure of one MoE layer, for active-parameter counts.
struct MoeLayerInfo {
  int layer = -1;
  std::uint64_t experts = 0;
  std::uint64_t top_k = 0;  // experts per token over all groups
};

class Graph {
 public:
  using Adjacency = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, Op, TensorEdge>;
  using OpId = Adjacency::vertex_descriptor;

  explicit Graph(std::string name = "") : name_(std::move(name)) {}

  // Assigns the id; tensor names are unique within a graph.
  TensorId add_tensor(Tensor tensor);
  // Connects the op to the producers of its inputs and becomes the producer
  // of its outputs. Inputs must already exist; an output may have only one
  // producer.
  OpId add_op(Op op);

  const std::string& name() const { return name_; }
  std::size_t num_ops() const { return boost::num_vertices(g_); }
  std::size_t num_tensors() const { return tensors_.size(); }
  std::size_t num_edges() const { return boost::num_edges(g_); }

  const Op& op(OpId id) const { return g_[id]; }
  const Tensor& tensor(TensorId id) const { return tensors_.at(id); }
  // Mutable access for compression annotations; shape and role are fixed.
  WeightFormat& weight_format(TensorId id) { return tensors_.at(id).weight_format; }
  KvCacheFormat& kv_format(TensorId id) { return tensors_.at(id).kv_format; }
  const std::vector<Tensor>& tensors() const { return tensors_; }

  std::optional<OpId> find_op(const std::string& name) const;
  std::optional<TensorId> find_tensor(const std::string& name) const;
  std::optional<OpId> producer(TensorId id) const;

  // Traversal for the mapper: ops in an order where every op follows the
  // producers of its inputs, and each op's neighbours.
  std::vector<OpId> topological_order() const;
  std::vector<OpId> predecessors(OpId id) const;
  std::vector<OpId> successors(OpId id) const;
  const Adjacency& adjacency() const { return g_; }

  GraphContext context;
  std::vector<MoeLayerInfo> moe_layers;

 private:
  std::string name_;
  Adjacency g_;
  std::vector<Tensor> tensors_;
  std::vector<std::optional<OpId>> producer_;
  std::unordered_map<std::string, OpId> op_by_name_;
  std::unordered_map<std::string, TensorId> tensor_by_name_;
};

using OpId = Graph::OpId;

}  // namespace npusim::workloads
