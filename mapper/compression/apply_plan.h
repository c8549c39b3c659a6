#pragma once
// Applying a plan writes the annotations of workloads/annotations.h on every
// graph of a workload: the formats the plan asks for, plus what they become
// on this machine (the precision the cube computes at, whether an N:M pattern
// reaches a sparse cube, which unit expands what). After this, the lowering
// needs nothing but the graph (gemm_operands.h).
#include <map>
#include <vector>

#include "arch/core/core_config.h"
#include "mapper/compression/plan.h"
#include "workloads/graph.h"

namespace npusim::mapper {

// The facts of the machine a plan resolves against.
struct CompressionTarget {
  std::map<DType, arch::CubeShape> cube;  // precisions the cube runs natively
  arch::SparseCubeConfig sparse;
  double vector_dequantize_elements_per_cycle = 64;
  double vector_decompress_elements_per_cycle = 64;
};
CompressionTarget compression_target(const arch::CoreConfig& core);

// The precision the cube computes a matmul at. The A operand's precision
// when the cube has it and it is at least as wide as the weight; otherwise
// the first of fp16, bf16, fp32 the cube has (a precision the cube lacks is
// computed after dequantization to a supported one). Throws InputError when
// the cube has none of them.
DType cube_compute_precision(DType activation, DType weight, const CompressionTarget& target);

// Rewrites the annotations of every graph. Throws InputError for a rule that
// claims no op, naming the rule, its file and line.
void apply_compression_plan(const CompressionPlan& plan, std::vector<workloads::Graph>& graphs,
                            const CompressionTarget& target);

}  // namespace npusim::mapper
