#include "workloads/onnx/onnx_ops.h"

namespace npusim::workloads::onnx_import {
namespace {

struct Entry {
  const char* op_type;
  OpKind kind;
  Cost cost;
};

// Nearest npusim kind for each ONNX op. Reasons for the less obvious ones:
// - subtraction, comparisons, min/max and reductions are one add-like vector
//   operation per element; division, powers (x^2 in norms), selects (Where)
//   and masks (Trilu) are one multiply-like operation per element;
// - scatters write each update once, an add-like pass over the data;
// - Concat, Slice, Split, Expand, Cast and friends are views or copies a
//   fused kernel never materialises (npusim simulates one activation dtype,
//   so a Cast changes nothing either).
constexpr Entry kTable[] = {
    {"MatMul", OpKind::MatMul, Cost::matmul},
    {"Gemm", OpKind::MatMul, Cost::gemm},
    {"Gather", OpKind::Embedding, Cost::gather},
    {"GatherElements", OpKind::Embedding, Cost::gather},
    {"GatherND", OpKind::Embedding, Cost::gather},
    {"Softmax", OpKind::Softmax, Cost::vector},
    {"LogSoftmax", OpKind::Softmax, Cost::vector},
    {"LayerNormalization", OpKind::LayerNorm, Cost::vector},
    {"Add", OpKind::ElementwiseAdd, Cost::vector},
    {"Sub", OpKind::ElementwiseAdd, Cost::vector},
    {"Max", OpKind::ElementwiseAdd, Cost::vector},
    {"Min", OpKind::ElementwiseAdd, Cost::vector},
    {"Equal", OpKind::ElementwiseAdd, Cost::vector},
    {"Greater", OpKind::ElementwiseAdd, Cost::vector},
    {"GreaterOrEqual", OpKind::ElementwiseAdd, Cost::vector},
    {"Less", OpKind::ElementwiseAdd, Cost::vector},
    {"LessOrEqual", OpKind::ElementwiseAdd, Cost::vector},
    {"Not", OpKind::ElementwiseAdd, Cost::vector},
    {"And", OpKind::ElementwiseAdd, Cost::vector},
    {"Or", OpKind::ElementwiseAdd, Cost::vector},
    {"ReduceMean", OpKind::ElementwiseAdd, Cost::vector},
    {"ReduceSum", OpKind::ElementwiseAdd, Cost::vector},
    {"ReduceMax", OpKind::ElementwiseAdd, Cost::vector},
    {"ReduceMin", OpKind::ElementwiseAdd, Cost::vector},
    {"CumSum", OpKind::ElementwiseAdd, Cost::vector},
    {"ScatterElements", OpKind::ElementwiseAdd, Cost::vector},
    {"ScatterND", OpKind::ElementwiseAdd, Cost::vector},
    {"Mul", OpKind::ElementwiseMul, Cost::vector},
    {"Div", OpKind::ElementwiseMul, Cost::vector},
    {"Pow", OpKind::ElementwiseMul, Cost::vector},
    {"Where", OpKind::ElementwiseMul, Cost::vector},
    {"Trilu", OpKind::ElementwiseMul, Cost::vector},
    {"Sqrt", OpKind::Activation, Cost::vector},
    {"Reciprocal", OpKind::Activation, Cost::vector},
    {"Neg", OpKind::Activation, Cost::vector},
    {"Abs", OpKind::Activation, Cost::vector},
    {"Exp", OpKind::Activation, Cost::vector},
    {"Log", OpKind::Activation, Cost::vector},
    {"Sigmoid", OpKind::Activation, Cost::vector},
    {"Tanh", OpKind::Activation, Cost::vector},
    {"Erf", OpKind::Activation, Cost::vector},
    {"Relu", OpKind::Activation, Cost::vector},
    {"Gelu", OpKind::Activation, Cost::vector},
    {"Softplus", OpKind::Activation, Cost::vector},
    {"Cos", OpKind::Activation, Cost::vector},
    {"Sin", OpKind::Activation, Cost::vector},
    {"Clip", OpKind::Activation, Cost::vector},
    {"TopK", OpKind::TopK, Cost::vector},
    {"ArgMax", OpKind::TopK, Cost::vector},
    {"Transpose", OpKind::Transpose, Cost::view},
    {"Reshape", OpKind::Reshape, Cost::view},
    {"Flatten", OpKind::Reshape, Cost::view},
    {"Squeeze", OpKind::Reshape, Cost::view},
    {"Unsqueeze", OpKind::Reshape, Cost::view},
    {"Identity", OpKind::Reshape, Cost::view},
    {"Dropout", OpKind::Reshape, Cost::view},
    {"Cast", OpKind::Reshape, Cost::view},
    {"CastLike", OpKind::Reshape, Cost::view},
    {"Expand", OpKind::Reshape, Cost::view},
    {"Slice", OpKind::Reshape, Cost::view},
    {"Split", OpKind::Reshape, Cost::view},
    {"Concat", OpKind::Reshape, Cost::view},
    {"Constant", OpKind::Reshape, Cost::shape_only},
    {"Shape", OpKind::Reshape, Cost::shape_only},
    {"Size", OpKind::Reshape, Cost::shape_only},
    {"ConstantOfShape", OpKind::Reshape, Cost::shape_only},
    {"Range", OpKind::Reshape, Cost::shape_only},
};

}  // namespace

std::optional<OpRule> op_rule(const std::string& op_type) {
  for (const auto& entry : kTable) {
    if (op_type == entry.op_type) return OpRule{entry.kind, entry.cost};
  }
  return std::nullopt;
}

std::string supported_op_types() {
  std::string out;
  for (const auto& entry : kTable) out += (out.empty() ? "" : ", ") + std::string(entry.op_type);
  return out;
}

}  // namespace npusim::workloads::onnx_import
