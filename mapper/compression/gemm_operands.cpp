#include "mapper/compression/gemm_operands.h"

namespace npusim::mapper {

double weight_storage_bits(const workloads::WeightFormat& format) {
  // Dense storage: the value bits plus one fp16 scale per group.
  const double scale_bits = format.group_size > 0 ? 16.0 / format.group_size : 0.0;
  return dtype_bits(format.precision) + scale_bits;
}

void apply_operand_formats(const workloads::Graph& graph, workloads::OpId id, GemmProblem& problem) {
  const auto& op = graph.op(id);
  if (!op.weight) return;
  const auto& format = graph.tensor(*op.weight).weight_format;
  problem.b_dtype = format.precision;
  problem.b_stored_bits = weight_storage_bits(format);
}

}  // namespace npusim::mapper
