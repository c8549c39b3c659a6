#pragma once
// How a matmul's operands look to the machine once the compression plan's
// annotations (workloads/annotations.h) are taken into account: the
// precision the cube runs at, the bytes of B as stored (values, metadata,
// scales), and the structured sparsity the cube sees. The lowering calls this
// for every matmul; compression owns what it returns.
#include "mapper/gemm/gemm.h"
#include "workloads/graph.h"

namespace npusim::mapper {

// Rewrites the operand fields of `problem` (a_dtype, b_dtype, b_stored_bits,
// sparsity) from the annotations of the op's tensors.
void apply_operand_formats(const workloads::Graph& graph, workloads::OpId op, GemmProblem& problem);

// Bits one element of a weight occupies in memory under its format.
double weight_storage_bits(const workloads::WeightFormat& format);

}  // namespace npusim::mapper
