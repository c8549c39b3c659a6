#pragma once
// Which input of a matmul is its bias: the graph gives a linear layer's bias
// as a third input (GraphBuilder::linear with bias, ONNX Gemm's C) and says
// nothing more, so the mapper recognises it here, once, for every lowering.
#include <optional>

#include "workloads/graph.h"

namespace npusim::mapper {

// The bias of a MatMul with a weight: an input that is neither the
// activation nor the weight and holds exactly one value per output column
// (shape [N] or [1, N]). Every cube lowering adds it on the way into the
// accumulators (mapper/gemm/gemm_bias.h) or declines the op: a bias is
// never dropped.
std::optional<workloads::TensorId> matmul_bias(const workloads::Graph& graph, workloads::OpId id);

}  // namespace npusim::mapper
