#include "mapper/kernel_mapper.h"

#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "arch/address_map.h"
#include "common/error.h"
#include "mapper/compression/gemm_operands.h"
#include "mapper/fusion/fused_jobs.h"
#include "mapper/fusion/matmul_bias.h"
#include "mapper/fusion/workspace.h"
#include "mapper/gemm/gemm_expansion.h"
#include "mapper/kv_prefetch.h"
#include "mapper/vector/vector_lowering.h"
#include "mapper/vector/vector_passes.h"

namespace npusim::mapper {
namespace {

using arch::VectorOpKind;
using workloads::OpKind;
using workloads::TensorRole;

}  // namespace

std::string gemm_signature(const GemmProblem& p) {
  // Everything that decides which tilings are valid or fastest is in the
  // key: B's tier (a weight in DDR, a cold expert, is tiled to be fetched
  // once, one in HBM need not be), the bias and the ReLU epilogue and the
  // output's batch stride (which split-K must refuse), and the shape.
  // Whether the AIVs expand B through the workspace changes the bytes the
  // AIC loads (gemm_expansion.h).
  return fmt::format("{}x{}x{}x{}/{}/{}/{}/{}/{}/{}/{}/bias={}/relu={}/c_stride={}/expanded={}", p.batch, p.m, p.k,
                     p.n, dtype_name(p.a_dtype), dtype_name(p.b_dtype), dtype_name(p.c_dtype), p.b_stored_bits,
                     static_cast<int>(p.sparsity), p.b_shared_by, arch::tier_name(arch::tier_of(p.b_address)),
                     p.bias_dtype ? dtype_name(*p.bias_dtype) : "none", p.relu, p.c_batch_stride,
                     p.b_expanded_by_vector());
}

namespace {

bool costs_nothing(OpKind kind) {
  // Views change no bytes; collectives are free on a single chip, which is
  // all the machine models today.
  return kind == OpKind::Reshape || kind == OpKind::Transpose || kind == OpKind::AllReduce ||
         kind == OpKind::AllToAll;
}

arch::Program empty_program(const MachineView& machine) {
  arch::Program program;
  program.cube_cores.resize(machine.cube_cores);
  program.vector_cores.resize(machine.split_cores ? machine.vector_cores : 0);
  return program;
}

}  // namespace

const GemmChoice& GemmTilingCache::choose(const GemmProblem& problem, const MachineView& machine) {
  const std::string key = gemm_signature(problem);
  auto it = choices_.find(key);
  if (it != choices_.end()) {
    ++hits_;
    return it->second;
  }
  ++searches_;
  const GemmChoice& choice = choices_.emplace(key, search_gemm_tiling(problem, machine, options_, confirm_)).first->second;
  confirmations_ += static_cast<std::size_t>(choice.confirmed);
  return choice;
}

GemmProblem gemm_problem_for(const workloads::Graph& graph, workloads::OpId id, const Placement& placement) {
  const auto& op = graph.op(id);
  const auto& shape = *op.matmul;
  GemmProblem p;
  p.batch = shape.batch;
  p.m = shape.m;
  p.k = shape.k;
  p.n = shape.n;
  workloads::TensorId a_id = op.inputs.at(0);
  workloads::TensorId b_id = op.inputs.size() > 1 ? op.inputs[1] : op.inputs[0];
  for (auto in : op.inputs) {
    if (!op.weight && graph.tensor(in).role == TensorRole::kv_cache) b_id = in;
  }
  if (op.weight) {
    b_id = *op.weight;
    for (auto in : op.inputs) {
      if (in != *op.weight) {
        a_id = in;
        break;
      }
    }
  }
  const auto& a = graph.tensor(a_id);
  const auto& b = graph.tensor(b_id);
  p.a_dtype = a.dtype;
  p.b_dtype = b.role == TensorRole::weight ? b.weight_format.precision
              : b.role == TensorRole::kv_cache ? b.kv_format.precision
                                               : b.dtype;
  p.c_dtype = op.outputs.empty() ? a.dtype : graph.tensor(op.outputs.front()).dtype;
  p.c_dtype = fixpipe_output_dtype(graph, id).value_or(p.c_dtype);
  apply_operand_formats(graph, id, p);
  if (placement.expansion_workspace_bytes > 0) route_operand_expansion(graph, id, placement.expansion_workspace_address, p);
  p.a_address = placement.read_address(a_id);
  p.b_address = placement.read_address(b_id);
  p.c_address = op.outputs.empty() ? 0 : placement.tensors.at(op.outputs.front()).address;
  if (const auto bias = matmul_bias(graph, id)) {
    p.bias_dtype = graph.tensor(*bias).dtype;
    p.bias_address = placement.read_address(*bias);
  }
  const double a_bytes = element_bytes(p.a_dtype), b_bytes = stored_b_bytes_per_element(p),
               c_bytes = element_bytes(p.c_dtype);
  p.a_batch_stride = static_cast<std::uint64_t>(std::ceil(p.m * p.k * a_bytes));
  p.b_batch_stride = static_cast<std::uint64_t>(std::ceil(p.k * p.n * b_bytes));
  p.c_batch_stride = static_cast<std::uint64_t>(std::ceil(p.m * p.n * c_bytes));
  return p;
}

KernelMapping map_kernel_by_kernel(const workloads::Graph& graph, const MachineView& machine,
                                   GemmTilingCache& cache, const MapperOptions& options) {
  KernelMapping mapping;
  mapping.placement =
      for_each_kernel_job(graph, machine, cache, options, [&](Job& job) { mapping.jobs.push_back(std::move(job)); });
  return mapping;
}

Placement for_each_kernel_job(const workloads::Graph& graph, const MachineView& machine, GemmTilingCache& cache,
                              const MapperOptions& options, const std::function<void(Job&)>& on_job,
                              const std::function<bool(const workloads::Op&)>& include,
                              const std::function<void(Placement&)>& relocate) {
  const FusionPlan fusions = plan_fusions(graph, options.fusion, machine);
  // The workspace only when a fused job runs, so an all-unfused mapping
  // places every tensor exactly where it did before fusion existed.
  const bool fused = !fusions.attention.empty() || !fusions.swiglu.empty();
  // On split cores the AIVs expand weights the cube cannot read, and the
  // quantized KV cache an unfused attention matmul reads, through slots of
  // their own (mapper/gemm/gemm_expansion.h).
  auto unfused_attention_expands = [&] {
    for (workloads::OpId id : graph.topological_order()) {
      if (fusions.absorbed.count(id) || fusions.attention.count(id)) continue;
      if (kv_cache_expands_on_vector_path(graph, id)) return true;
    }
    return false;
  };
  const bool expands = machine.split_cores && expanding_vector_cores_per_cube(machine) > 0 &&
                       (any_weight_expands_on_vector_path(graph) || unfused_attention_expands());
  Placement placement = place_tensors(graph, machine, options.placement, fused ? fusion_workspace_bytes(machine) : 0,
                                      expands ? gemm_expansion_workspace_bytes(machine) : 0);
  if (relocate) relocate(placement);
  auto runs_as_job = [&](workloads::OpId id) {
    const auto& op = graph.op(id);
    if (costs_nothing(op.kind) || fusions.absorbed.count(id)) return false;
    if (fusions.attention.count(id) || fusions.swiglu.count(id) || fusions.fixpipe_relu.count(id)) return true;
    // An expert no token was routed to runs nothing.
    if (workloads::is_matmul_like(op.kind)) return op.matmul && op.matmul->macs() > 0;
    for (auto out : op.outputs) {
      if (graph.tensor(out).elements() > 0) return true;
    }
    return false;
  };
  const auto kv_copies = schedule_kv_prefetch(graph, placement, runs_as_job);
  // A job also carries its share of the next layer's KV prefetch.
  auto finish = [&](workloads::OpId id, Job& job) {
    if (auto copies = kv_copies.find(id); copies != kv_copies.end()) {
      Bytes copied = 0;
      for (const KvCopy& copy : copies->second) {
        emit_vector(kv_copy_problem(copy), machine, 0, job.program);
        copied += copy.bytes;
      }
      if (machine.ddr_Bps > 0) {
        job.estimated_seconds = std::max(job.estimated_seconds, static_cast<double>(copied) / machine.ddr_Bps);
      }
    }
    on_job(job);
  };
  for (auto id : graph.topological_order()) {
    const auto& op = graph.op(id);
    if (!runs_as_job(id)) continue;
    if (include && !include(op)) continue;
    if (auto chain = fusions.attention.find(id); chain != fusions.attention.end()) {
      // The next layer's KV prefetch rides on the attention job; a split-KV
      // combine job follows it.
      auto jobs = fused_attention_jobs(graph, chain->second, placement, machine);
      finish(id, jobs.front());
      for (std::size_t j = 1; j < jobs.size(); ++j) on_job(jobs[j]);
      continue;
    }
    if (auto chain = fusions.swiglu.find(id); chain != fusions.swiglu.end()) {
      Job job = fused_swiglu_job(graph, chain->second, placement, machine, cache);
      finish(id, job);
      continue;
    }
    if (auto chain = fusions.fixpipe_relu.find(id); chain != fusions.fixpipe_relu.end()) {
      Job job = fixpipe_relu_job(graph, chain->second, placement, machine, cache);
      finish(id, job);
      continue;
    }
    Job job;
    job.name = op.name;
    job.op = id;
    job.program = empty_program(machine);
    job.program.op_names = {op.name};
    if (workloads::is_matmul_like(op.kind)) {
      const GemmProblem problem = gemm_problem_for(graph, id, placement);
      const GemmChoice& choice = cache.choose(problem, machine);
      if (choice.tiling.split_k > 1) {
        // Split-K parts add into the output, so it is zeroed first, in a job
        // of its own: jobs run one after another, cores within a job do not.
        Job zeroing;
        zeroing.name = op.name + ".zero";
        zeroing.op = id;
        zeroing.kind = workloads::op_kind_name(op.kind);
        zeroing.share_of_op = true;
        zeroing.program = empty_program(machine);
        zeroing.program.op_names = {op.name};
        const VectorProblem zero = gemm_output_zeroing(problem);
        emit_vector(zero, machine, 0, zeroing.program);
        zeroing.estimated_seconds = estimate_vector_seconds(zero, machine);
        zeroing.bytes = static_cast<double>(zero.elements) * zero.out_bytes_per_element;
        on_job(zeroing);
      }
      emit_gemm(problem, choice.tiling, machine, 0, job.program);
      // Dequantization and decompression the formats cost, on the vector
      // cores in the same job (compression decides what; no GM bytes of its own).
      for (const auto& extra : operand_work(graph, id, problem).alongside) emit_vector(extra, machine, 0, job.program);
      // The cost includes the zeroing job's, estimated above on its own.
      job.estimated_seconds =
          choice.cost.seconds -
          (choice.tiling.split_k > 1 ? estimate_vector_seconds(gemm_output_zeroing(problem), machine) : 0.0);
      job.tiling = choice.tiling.describe();
      job.flops = executed_gemm_flops(graph, id, problem);
    } else {
      // One problem per output tensor, each writing only its own tensor: an
      // op with several outputs (TopK, ExpertDispatch) must not write its
      // total bytes from the first output's address. The reads stay one run
      // from the first input, as for a single output.
      std::uint64_t elements = 0;
      Bytes output_bytes = 0;
      for (auto out : op.outputs) {
        elements += graph.tensor(out).elements();
        output_bytes += graph.tensor(out).bytes();
      }
      const double in_bytes_per_element = static_cast<double>(op.bytes_read.total()) / static_cast<double>(elements);
      const VectorOpExtras extras = vector_op_extras(graph, id);
      // The reads run from the largest input (an embedding's table, not its
      // token ids), kept inside it.
      std::optional<workloads::TensorId> widest;
      for (auto in : op.inputs) {
        if (!widest || graph.tensor(in).bytes() > graph.tensor(*widest).bytes()) widest = in;
      }
      const std::uint64_t in_base = widest ? placement.tensors.at(*widest).address : 0;
      const Bytes in_extent = widest ? graph.tensor(*widest).bytes() : 0;
      std::uint64_t elements_before = 0;
      for (auto out : op.outputs) {
        const auto& tensor = graph.tensor(out);
        if (tensor.elements() == 0) continue;
        VectorProblem v;
        v.elements = tensor.elements();
        v.dtype = tensor.dtype;
        v.in_bytes_per_element = in_bytes_per_element;
        // This output's share of the bytes the op writes, by tensor size.
        v.out_bytes_per_element = static_cast<double>(op.bytes_written.total()) *
                                  (static_cast<double>(tensor.bytes()) / static_cast<double>(output_bytes)) /
                                  static_cast<double>(tensor.elements()) * extras.out_bytes_scale;
        v.passes = vector_passes_for(op);
        v.passes.insert(v.passes.end(), extras.passes.begin(), extras.passes.end());
        v.in_address = in_base;
        v.in_extent = in_extent;
        // Each output's reads continue the op's one run where the last left off.
        v.in_run_offset = static_cast<Bytes>(std::ceil(elements_before * in_bytes_per_element));
        v.out_address = placement.tensors.at(out).address;
        emit_vector(v, machine, 0, job.program);
        job.estimated_seconds += estimate_vector_seconds(v, machine);
        elements_before += v.elements;
      }
    }
    finish(id, job);
  }
  return placement;
}

}  // namespace npusim::mapper
