#pragma once
// The "graph" family: a workload written op by op in YAML, for kernels and
// micro-benchmarks (configs/workloads/matmul.yaml, mlp.yaml) that go through
// the same path as the models.
//
//   family: graph
//   name: mlp                 # reported name
//   dtype: fp16               # weights and activations (default fp16)
//   ops:                      # in dependency order
//     - name: up_proj         # unique op name
//       kind: matmul          # any op kind name (graph.cpp), e.g. matmul,
//                             # batch_matmul, router, activation, swiglu, add
//       m: 512                # matmul-like kinds: M, K, N and batch (default 1)
//       k: 4096
//       n: 11008
//       weight: true          # B is a weight [batch?, K, N] (default true for
//                             # matmul, batch_matmul and router; false for the
//                             # attention kinds, whose B is an activation)
//     - name: act_fn
//       kind: activation
//       function: relu        # relu | gelu | silu; optional (activation only)
//       inputs: [up_proj]     # ops whose outputs this op reads
//     - name: down_proj
//       kind: matmul
//       inputs: [act_fn]      # the first input is the A operand [batch, M, K]
//       m: 512
//       k: 11008
//       n: 4096
//
// An op with no inputs reads a graph input: [batch, M, K] for matmul-like
// kinds, `shape: [...]` otherwise. A vector op's output has its first input's
// shape. The first input of a matmul must hold batch x M x K elements.
// Explicit graphs have fixed shapes: the workload's batch and sequence do not
// change them, and every decode step builds the same graph.
#include <cstdint>
#include <string>
#include <vector>

#include "workloads/graph.h"
#include "workloads/model_config.h"

namespace npusim::workloads {

struct ExplicitOp {
  std::string name;
  OpKind kind = OpKind::MatMul;
  std::vector<std::string> inputs;
  MatmulShape matmul;
  bool weight = true;
  std::vector<std::uint64_t> shape;  // graph-input shape of a vector op without inputs
  ActivationFunction activation = ActivationFunction::unspecified;
};

struct ExplicitGraph {
  std::vector<ExplicitOp> ops;
};

}  // namespace npusim::workloads
