#pragma once
// Which npusim op each ONNX op type becomes, and how its cost is counted.
// One table, so the list of supported op types is written exactly once.
#include <optional>
#include <string>

#include "workloads/graph.h"

namespace npusim::workloads::onnx_import {

enum class Cost {
  matmul,       // MatMul: cube work from the operand shapes
  gemm,         // Gemm: MatMul with transA/transB and an optional bias C
  gather,       // Embedding: reads only the gathered rows of its table
  vector,       // element-wise or reduction on the vector unit
  view,         // layout or shape change the mapper folds: no work, no traffic
  shape_only,   // computes shapes or constants; must not depend on activation values
};

struct OpRule {
  OpKind kind;
  Cost cost;
};

// The rule for an ONNX op type of the default domain; nullopt when npusim
// does not support it.
std::optional<OpRule> op_rule(const std::string& op_type);

// Every supported op type, comma separated, for error messages and docs.
std::string supported_op_types();

}  // namespace npusim::workloads::onnx_import
