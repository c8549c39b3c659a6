#include "mapper/fusion/matmul_bias.h"

namespace npusim::mapper {

std::optional<workloads::TensorId> matmul_bias(const workloads::Graph& graph, workloads::OpId id) {
  const workloads::Op& op = graph.op(id);
  if (op.kind != workloads::OpKind::MatMul || !op.weight || !op.matmul || op.inputs.size() != 3) return std::nullopt;
  std::optional<workloads::TensorId> activation;
  for (auto in : op.inputs) {
    if (in != *op.weight) {
      activation = in;
      break;
    }
  }
  for (auto in : op.inputs) {
    if (in == *op.weight || in == *activation) continue;
    if (graph.tensor(in).elements() == op.matmul->n) return in;
  }
  return std::nullopt;
}

}  // namespace npusim::mapper
