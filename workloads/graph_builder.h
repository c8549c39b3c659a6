#pragma once
// Helpers that add tensors and ops with their FLOPs and bytes filled in from
// shapes, so every generator accounts for work the same way.
//
// Accounting rules:
// - a matmul-like op does 2 x batch x M x K x N FLOPs;
// - an op reads each input tensor once and writes each output once, so its
//   bytes by role are the sums of its tensors' dense sizes; an idle expert
//   (M = 0) reads and writes nothing;
// - vector_ops = a per-kind factor x the elements of the op's first input
//   (norm 4, layernorm 7, softmax 5, rope 3, swiglu 5, activation 4, add and
//   mul 1, topk 2, combine 2) unless the caller set it (rope and combine
//   count only the elements they touch). They are element-operation counts for the
//   vector unit model to turn into cycles, not a claim about any kernel.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "workloads/graph.h"

namespace npusim::workloads {

double vector_ops_per_element(OpKind kind);

class GraphBuilder {
 public:
  GraphBuilder(Graph& graph, DType weight_dtype, DType activation_dtype, DType kv_dtype)
      : g_(graph), weight_dtype_(weight_dtype), activation_dtype_(activation_dtype), kv_dtype_(kv_dtype) {}

  Graph& graph() { return g_; }
  DType activation_dtype() const { return activation_dtype_; }

  TensorId weight(const std::string& name, std::vector<std::uint64_t> shape, int layer, int expert = -1);
  TensorId activation(const std::string& name, std::vector<std::uint64_t> shape, int layer,
                      std::optional<DType> dtype = std::nullopt);
  TensorId kv_cache(const std::string& name, std::vector<std::uint64_t> shape, int layer);

  // Adds the op with FLOPs, vector ops and bytes from the rules above.
  Graph::OpId add(Op op);
  // Adds the op with the caller's byte counts (gathers, views).
  Graph::OpId add_with_bytes(Op op);

  // y[M,N] = x[M,K] W[K,N] (+ bias[N]); weight named `<name>.weight`.
  TensorId linear(const std::string& name, int layer, TensorId x, std::uint64_t m, std::uint64_t k, std::uint64_t n,
                  bool bias = false, int expert = -1, OpKind kind = OpKind::MatMul);
  // A single-output vector op whose output has `out_shape`.
  TensorId vector_op(OpKind kind, const std::string& name, int layer, std::vector<TensorId> inputs,
                     std::vector<std::uint64_t> out_shape, int expert = -1);
  // Norm with its own weight `<name>.weight` of `width` (x2 for layernorm).
  TensorId norm(OpKind kind, const std::string& name, int layer, TensorId x, std::uint64_t rows, std::uint64_t width);

 private:
  void fill_bytes(Op& op) const;

  Graph& g_;
  DType weight_dtype_;
  DType activation_dtype_;
  DType kv_dtype_;
};

}  // namespace npusim::workloads
