#include "mapper/fusion/fusion_plan.h"

#include <algorithm>
#include <optional>

#include "mapper/fusion/matmul_bias.h"

namespace npusim::mapper {
namespace {

using workloads::Graph;
using workloads::OpId;
using workloads::OpKind;

// The single op consuming `op`'s only output, when there is exactly one.
std::optional<OpId> sole_consumer(const Graph& graph, OpId op) {
  const auto& o = graph.op(op);
  if (o.outputs.size() != 1) return std::nullopt;
  std::optional<OpId> found;
  for (OpId c : graph.successors(op)) {
    const auto& in = graph.op(c).inputs;
    if (std::find(in.begin(), in.end(), o.outputs.front()) == in.end()) continue;
    if (found && *found != c) return std::nullopt;
    found = c;
  }
  return found;
}

bool has_work(const workloads::Op& op) { return op.matmul && op.matmul->macs() > 0; }

}  // namespace

FusionPlan plan_fusions(const Graph& graph, const FusionOptions& options, const MachineView& machine) {
  FusionPlan plan;
  for (OpId id : graph.topological_order()) {
    const auto& op = graph.op(id);
    const bool fuse_attention =
        options.attention == AttentionLowering::fused ||
        (options.attention == AttentionLowering::automatic && !op.outputs.empty() &&
         graph.tensor(op.outputs.front()).bytes() > machine.l2_capacity);
    if (fuse_attention && op.kind == OpKind::AttentionScore && has_work(op)) {
      const auto softmax = sole_consumer(graph, id);
      if (!softmax || graph.op(*softmax).kind != OpKind::Softmax) continue;
      const auto context = sole_consumer(graph, *softmax);
      if (!context || graph.op(*context).kind != OpKind::AttentionContext || !has_work(graph.op(*context))) continue;
      const auto& s = *op.matmul;
      const auto& c = *graph.op(*context).matmul;
      if (s.batch != c.batch || s.m != c.m || s.n != c.k) continue;
      plan.attention[*context] = AttentionChain{id, *softmax, *context};
      plan.absorbed.insert(id);
      plan.absorbed.insert(*softmax);
    }
    if (options.epilogues && op.kind == OpKind::SwiGLU && op.inputs.size() == 2) {
      const auto gate = graph.producer(op.inputs[0]);
      const auto up = graph.producer(op.inputs[1]);
      if (!gate || !up || *gate == *up) continue;
      const auto& g = graph.op(*gate);
      const auto& u = graph.op(*up);
      if (!workloads::is_matmul_like(g.kind) || !workloads::is_matmul_like(u.kind) || !g.weight || !u.weight) continue;
      if (!has_work(g) || !has_work(u)) continue;
      // The fused cube tiles start their accumulators from zero; a biased
      // projection runs unfused so its bias is added (matmul_bias.h).
      if (matmul_bias(graph, *gate) || matmul_bias(graph, *up)) continue;
      if (g.matmul->batch != 1 || u.matmul->batch != 1 || g.matmul->m != u.matmul->m || g.matmul->k != u.matmul->k ||
          g.matmul->n != u.matmul->n) {
        continue;
      }
      if (sole_consumer(graph, *gate) != id || sole_consumer(graph, *up) != id) continue;
      // Both projections must read the same activations.
      if (g.inputs.front() != u.inputs.front()) continue;
      plan.swiglu[id] = SwigluChain{*gate, *up, id};
      plan.absorbed.insert(*gate);
      plan.absorbed.insert(*up);
    }
    if (options.fixpipe_relu && op.kind == OpKind::Activation && op.activation == workloads::ActivationFunction::relu &&
        op.inputs.size() == 1 && op.outputs.size() == 1) {
      // GELU and SiLU need the vector unit; FixPipe does only ReLU. The
      // matmul's output must have no other reader, since it is never written.
      const auto matmul = graph.producer(op.inputs.front());
      if (!matmul || plan.absorbed.count(*matmul)) continue;
      const auto& m = graph.op(*matmul);
      if ((m.kind != OpKind::MatMul && m.kind != OpKind::BatchMatMul) || !has_work(m)) continue;
      if (sole_consumer(graph, *matmul) != id) continue;
      if (graph.tensor(op.outputs.front()).elements() != graph.tensor(m.outputs.front()).elements()) continue;
      plan.fixpipe_relu[id] = FixpipeReluChain{*matmul, id};
      plan.absorbed.insert(*matmul);
    }
  }
  return plan;
}

}  // namespace npusim::mapper
