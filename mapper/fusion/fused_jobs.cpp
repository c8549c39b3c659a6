#include "mapper/fusion/fused_jobs.h"

#include <cmath>
#include <initializer_list>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "mapper/attention/fused_attention.h"
#include "mapper/compression/gemm_operands.h"
#include "mapper/fusion/swiglu_fusion.h"
#include "mapper/vector/vector_lowering.h"

namespace npusim::mapper {
namespace {

arch::Program empty_program(const MachineView& machine) {
  arch::Program program;
  program.cube_cores.resize(static_cast<std::size_t>(machine.cube_cores));
  program.vector_cores.resize(machine.split_cores ? static_cast<std::size_t>(machine.vector_cores) : 0);
  return program;
}

// The op's name up to its last '.', e.g. "layers.3.self_attn.".
std::string scope_of(const std::string& name) {
  const auto dot = name.rfind('.');
  return dot == std::string::npos ? std::string() : name.substr(0, dot + 1);
}

Bytes tensor_bytes(const workloads::Graph& graph, workloads::OpId op) {
  const auto& o = graph.op(op);
  return o.outputs.empty() ? 0 : graph.tensor(o.outputs.front()).bytes();
}

// What every fused job shares: its name, the ops it stands for, the GM
// round trip it saves, an empty program, and the vector work the operand
// formats cost (dequantizing a compressed operand is the same as unfused).
Job fused_job(std::string name, std::string kind, workloads::OpId op,
              std::vector<workloads::OpId> covers, Bytes kept_on_chip, const MachineView& machine) {
  Job job;
  job.name = std::move(name);
  job.kind = std::move(kind);
  job.op = op;
  job.covers = std::move(covers);
  job.kept_on_chip = kept_on_chip;
  job.program = empty_program(machine);
  job.program.op_names = {job.name};
  return job;
}

void emit_operand_work(const workloads::Graph& graph, std::initializer_list<std::pair<workloads::OpId, const GemmProblem*>> gemms,
                       const MachineView& machine, Job& job) {
  for (const auto& [id, problem] : gemms) {
    for (const auto& extra : operand_work(graph, id, *problem).alongside) emit_vector(extra, machine, 0, job.program);
  }
}

}  // namespace

std::vector<Job> fused_attention_jobs(const workloads::Graph& graph, const AttentionChain& chain,
                                      const Placement& placement, const MachineView& machine) {
  AttentionProblem p;
  p.score = gemm_problem_for(graph, chain.score, placement);
  p.context = gemm_problem_for(graph, chain.context, placement);
  // Fused attention has no AIC<->AIV expansion pipeline of its own: a
  // quantized cache is dequantized alongside (operand_work below).
  for (GemmProblem* g : {&p.score, &p.context}) g->b_expand_passes.clear();
  const auto& score_op = graph.op(chain.score);
  p.causal = score_op.causal;
  if (p.causal) {
    // Scores are [batch, heads, query tokens, keys] (workloads/transformer.cpp).
    const auto& shape = graph.tensor(score_op.outputs.front()).shape;
    if (shape.size() != 4) {
      throw InputError(fmt::format("causal attention '{}': scores of rank {}, expected [batch, heads, tokens, keys]",
                                   score_op.name, shape.size()));
    }
    p.queries = shape[2];
  }
  const AttentionTiling tiling = choose_attention_tiling(p, machine);
  const std::string scope = scope_of(score_op.name);
  // Scores and probabilities are each written once and read once unfused.
  Job job = fused_job(scope + "fused_attention", "FusedAttention", chain.context,
                      {chain.score, chain.softmax, chain.context},
                      2 * (tensor_bytes(graph, chain.score) + tensor_bytes(graph, chain.softmax)), machine);
  emit_fused_attention(p, tiling, machine, placement.workspace_address, 0, job.program);
  emit_operand_work(graph, {{chain.score, &p.score}, {chain.context, &p.context}}, machine, job);
  job.estimated_seconds = estimate_fused_attention_seconds(p, tiling, machine);
  job.tiling = tiling.describe();
  job.flops = fused_attention_flops(p, tiling);
  std::vector<Job> jobs;
  if (tiling.kv_chunks <= 1) {
    jobs.push_back(std::move(job));
    return jobs;
  }
  // Split-KV: the attention job writes partials in place of the output,
  // which the combine job reads and writes.
  double chain_bytes = 0;
  for (auto id : job.covers) chain_bytes += static_cast<double>(graph.op(id).bytes_read.total() + graph.op(id).bytes_written.total());
  const double output = static_cast<double>(tensor_bytes(graph, chain.context));
  const double partials = split_kv_partial_bytes(p, tiling);
  job.bytes = chain_bytes - static_cast<double>(job.kept_on_chip) - output + partials;
  Job combine = fused_job(scope + "split_kv_combine", "SplitKvCombine", chain.context, {chain.context}, 0, machine);
  emit_split_kv_combine(p, tiling, machine, placement.workspace_address, 0, combine.program);
  combine.estimated_seconds = estimate_split_kv_combine_seconds(p, tiling, machine);
  combine.tiling = tiling.describe();
  combine.flops = 0;
  combine.share_of_op = true;  // a share of the context op, whose attention job counts its graph work
  combine.bytes = partials + output;
  jobs.push_back(std::move(job));
  jobs.push_back(std::move(combine));
  return jobs;
}

Job fused_swiglu_job(const workloads::Graph& graph, const SwigluChain& chain, const Placement& placement,
                     const MachineView& machine, GemmTilingCache& cache) {
  SwigluProblem p;
  p.gate = gemm_problem_for(graph, chain.gate, placement);
  p.up = gemm_problem_for(graph, chain.up, placement);
  // The fused kernel has no AIC<->AIV expansion pipeline of its own: its
  // weights are expanded alongside, on the panels its loads bring on chip
  // (the coupled-core data path; opt-in fusion, see FusionOptions).
  for (GemmProblem* g : {&p.gate, &p.up}) g->b_expand_passes.clear();
  const auto& act = graph.op(chain.act);
  const auto& out = graph.tensor(act.outputs.front());
  p.out_address = placement.tensors.at(out.id).address;
  p.out_dtype = out.dtype;
  const VectorOpExtras extras = vector_op_extras(graph, chain.act);
  p.out_bytes_per_element = dtype_bits(out.dtype) / 8.0 * extras.out_bytes_scale;
  p.quantize = !extras.passes.empty();
  const SwigluTiling tiling = choose_swiglu_tiling(p, cache.choose(p.gate, machine).tiling, machine);
  Job job = fused_job(scope_of(graph.op(chain.gate).name) + "fused_gate_up_swiglu", "FusedSwiGLU", chain.act,
                      {chain.gate, chain.up, chain.act},
                      2 * (tensor_bytes(graph, chain.gate) + tensor_bytes(graph, chain.up)), machine);
  emit_fused_swiglu(p, tiling, machine, placement.workspace_address, 0, job.program);
  emit_operand_work(graph, {{chain.gate, &p.gate}, {chain.up, &p.up}}, machine, job);
  job.estimated_seconds = estimate_swiglu_seconds(p, tiling, machine);
  job.flops = 4.0 * static_cast<double>(p.gate.batch * p.gate.m * p.gate.k * p.gate.n);  // gate and up, as shrunk
  job.tiling = tiling.describe();
  return job;
}

Job fixpipe_relu_job(const workloads::Graph& graph, const FixpipeReluChain& chain, const Placement& placement,
                     const MachineView& machine, GemmTilingCache& cache) {
  GemmProblem p = gemm_problem_for(graph, chain.matmul, placement);
  const auto& out = graph.tensor(graph.op(chain.relu).outputs.front());
  p.c_address = placement.tensors.at(out.id).address;
  // What the ReLU would have written: quantized, when its readers ask for it.
  p.c_dtype = fixpipe_output_dtype(graph, chain.relu).value_or(out.dtype);
  p.c_batch_stride = static_cast<std::uint64_t>(std::ceil(p.m * p.n * element_bytes(p.c_dtype)));
  p.relu = true;
  // The tiling does not depend on the ReLU, which costs FixPipe nothing.
  const GemmChoice& choice = cache.choose(p, machine);
  // The matmul's output would be written once and read once by the ReLU.
  Job job = fused_job(graph.op(chain.matmul).name, "MatMulReLU", chain.matmul, {chain.matmul, chain.relu},
                      2 * tensor_bytes(graph, chain.matmul), machine);
  emit_gemm(p, choice.tiling, machine, 0, job.program);
  emit_operand_work(graph, {{chain.matmul, &p}}, machine, job);
  job.estimated_seconds = choice.cost.seconds;
  job.tiling = choice.tiling.describe();
  job.flops = executed_gemm_flops(graph, chain.matmul, p);
  return job;
}

}  // namespace npusim::mapper
