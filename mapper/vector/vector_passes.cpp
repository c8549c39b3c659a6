#include "mapper/vector/vector_passes.h"

namespace npusim::mapper {

// Vector passes per element for each element-wise op kind. Counts follow the
// usual kernels: softmax is max, subtract-and-exp, sum, scale; RMSNorm is
// square, sum, rsqrt, scale, weight.
std::vector<VectorPass> vector_passes_for(const workloads::Op& op) {
  using arch::VectorOpKind;
  using workloads::OpKind;
  switch (op.kind) {
    case OpKind::Softmax:
      return {{VectorOpKind::reduce_max, 1}, {VectorOpKind::exp, 1}, {VectorOpKind::reduce_sum, 1},
              {VectorOpKind::mul, 1}};
    case OpKind::RMSNorm:
      return {{VectorOpKind::mul, 1}, {VectorOpKind::reduce_sum, 1}, {VectorOpKind::rsqrt, 1},
              {VectorOpKind::mul, 2}};
    case OpKind::LayerNorm:
      return {{VectorOpKind::reduce_sum, 2}, {VectorOpKind::rsqrt, 1}, {VectorOpKind::mul, 2},
              {VectorOpKind::add, 2}};
    case OpKind::RoPE: return {{VectorOpKind::mul, 2}, {VectorOpKind::add, 1}};
    case OpKind::SwiGLU: return {{VectorOpKind::silu, 1}, {VectorOpKind::mul, 1}};
    case OpKind::Activation:
      // An unnamed or other function (tanh, sigmoid, ...) is costed as SiLU,
      // one transcendental per element.
      switch (op.activation) {
        case workloads::ActivationFunction::relu: return {{VectorOpKind::relu, 1}};
        case workloads::ActivationFunction::gelu: return {{VectorOpKind::gelu, 1}};
        default: return {{VectorOpKind::silu, 1}};
      }
    case OpKind::ElementwiseAdd: return {{VectorOpKind::add, 1}};
    case OpKind::ElementwiseMul: return {{VectorOpKind::mul, 1}};
    case OpKind::TopK: return {{VectorOpKind::reduce_max, 2}, {VectorOpKind::exp, 1}};
    case OpKind::ExpertCombine: return {{VectorOpKind::mul, 1}, {VectorOpKind::add, 1}};
    default: return {{VectorOpKind::copy, 1}};
  }
}

}  // namespace npusim::mapper
