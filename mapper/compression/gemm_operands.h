#pragma once
// How a matmul's operands look to the machine once the compression
// annotations (workloads/annotations.h, written by apply_plan.h) are taken
// into account, and the extra work they cost. The lowering calls:
//
//   apply_operand_formats  for every matmul (already, from gemm_problem_for):
//                          precisions, stored bytes of B, cube sparsity, and
//                          shapes shrunk by structured pruning;
//   route_operand_expansion on split cores, when the placement reserved the
//                          expansion workspace: moves a weight's dequantize
//                          and decompress, or a quantized KV cache's
//                          dequantize, into the GEMM's own AIC<->AIV
//                          pipeline (mapper/gemm/gemm_expansion.h);
//   operand_work           for every matmul: vector work that runs in the
//                          same job as the GEMM (dequantize and decompress
//                          when not routed, per-group rescale, KV
//                          dequantize);
//   fixpipe_output_dtype   for every matmul: the precision FixPipe writes
//                          when every consumer wants quantized activations;
//   vector_op_extras       for every vector op: a fused quantize pass and the
//                          smaller output it writes.
//
// Where each cost lands, and why:
// - The cube computes at WeightFormat::cube_precision (apply_plan.h). A
//   weight stored otherwise (int4 under an int8 cube, MX or fp8 under fp16)
//   is dequantized on the vector unit, dequantize_elements_per_cycle per
//   vector core. Scales ride in that pass.
// - Where the expansion (dequantize, or decompress on the vector unit)
//   happens depends on the core style:
//   * Split cores (A2: an AIC and its AIVs share only GM, hardware-facts
//     1.3). The AIVs cannot write the AIC's L1, so the expansion is a
//     producer/consumer pipeline through a GM workspace: per B panel the
//     AIVs load the stored (compressed) bytes into UB, expand, store the
//     dense panel into a workspace slot and raise a cross-core flag; the
//     AIC waits, loads the dense panel (an L2 hit) and frees the slot
//     (gemm_expansion.h). HBM sees the stored bytes; the AIC's MTE2 port
//     carries dense bytes, so a prefill whose loads bound it gains nothing
//     from a smaller weight, while an HBM-bound decode gains while the
//     AIVs keep up. Each panel load is expanded, so a B reloaded for every
//     block row is expanded once per block row.
//   * Coupled cores (910, 310P): the vector unit sits in the same core as
//     the cube, so the expansion works on the panels the GEMM's loads bring
//     on chip, once per weight element per GEMM, and moves no GM bytes of
//     its own; MTE2 carries the stored bytes.
//   * A decompression engine in the load path (decompression: {unit:
//     engine}) expands as the AIC loads: its port carries the stored bytes
//     on either core style, timed as the engine's rate on the vector pipe.
// - Per-channel scales (group = K) are applied by FixPipe as it converts the
//   int32/fp32 accumulator (gemm.h accumulator_dtype) to the output: free.
//   Finer groups along K under an integer cube split the accumulation: each
//   group's partial sum is rescaled and added on the vector unit, M x N x
//   ceil(K/g) multiply-adds.
// - N:M on a sparse cube: values and indices are moved, the cube runs
//   steps / gain (arch/core/cube_timing.h). Without a sparse cube, or for
//   bitmap/CSR, the weight is moved compressed and expanded to dense by the
//   decompression unit (vector or engine, see above); the cube runs dense.
//   The expansion overlaps the GEMM in the same job, so the bandwidth gain
//   is real only while the expansion keeps up (the job lasts the longer of
//   the two).
// - Activation sparsity (a plan's activation_density d) is exploited the way
//   decode kernels that skip the weight rows of zero activations do (Deja
//   Vu, TEAL): A is thresholded and compacted on the vector unit, and the
//   GEMM loads and multiplies only the rows of B whose input channel is
//   nonzero in some row of A. Zeros are taken as independent across rows,
//   so the kept fraction of K is 1 - (1 - d)^rows: d for a decode GEMV,
//   essentially 1 for a prefill of hundreds of tokens, where the scheme
//   buys nothing. The kept rows are modelled as one contiguous run of B (a
//   gathered row of a core's panel is bn contiguous elements).
// - An attention matmul reads the KV cache as stored (kv_storage's moved
//   bytes, scales and layout included) and dequantizes the quantized tokens
//   on the vector unit. Unfused on split cores that is the weights' AIC<->AIV
//   workspace pipeline: HBM sees the stored cache, the AIC's port dense K/V
//   panels (every panel element gets the quantized fraction of a pass, see
//   kv_expansion_passes). Unfused on coupled cores it runs alongside, as for
//   weights. Fused attention (mapper/attention/, fused_attention_jobs) has no
//   expansion pipeline of its own on either core style: it loads the stored
//   cache into the AIC and dequantizes alongside (operand_work), as before.
#include <optional>
#include <vector>

#include "mapper/gemm/gemm.h"
#include "mapper/vector/vector_lowering.h"
#include "workloads/graph.h"

namespace npusim::mapper {

// The fraction of a weight's input channels some row of A keeps nonzero,
// for `rows` rows of A under the format's activation density.
double active_input_channels(const workloads::WeightFormat& format, std::uint64_t rows);

// True when the format makes the GEMM smaller than its op (structured
// pruning, activation sparsity): the job then executes fewer FLOPs than the
// graph counts.
bool shrinks_gemm(const workloads::WeightFormat& format);

// The FLOPs a matmul's GEMM executes when a format shrinks it (2 per MAC of
// the shrunk problem); nullopt when it runs the op's own shape.
std::optional<double> executed_gemm_flops(const workloads::Graph& graph, workloads::OpId op,
                                          const GemmProblem& problem);

// Rewrites the operand fields of `problem` (a_dtype, b_dtype, b_stored_bits,
// sparsity, k/n/batch under structured pruning, k under activation sparsity) from the annotations of
// the op's tensors. An unannotated graph leaves the problem as built.
void apply_operand_formats(const workloads::Graph& graph, workloads::OpId op, GemmProblem& problem);

// The vector passes that turn a stored weight into the cube's operand
// (decompress, then dequantize); empty when the cube reads it as stored.
std::vector<VectorPass> weight_expansion_passes(const workloads::WeightFormat& format);
// Whether some of that expansion needs the vector unit (not only a
// decompression engine in the load path).
bool expands_on_vector_path(const workloads::WeightFormat& format);
bool any_weight_expands_on_vector_path(const workloads::Graph& graph);
// An attention matmul (score or context) whose B is a quantized KV cache the
// vector unit dequantizes.
bool kv_cache_expands_on_vector_path(const workloads::Graph& graph, workloads::OpId op);
// The passes per element of such a matmul's B: the cache's dequantize pass
// times the fraction of B's keys that are quantized; empty otherwise.
std::vector<VectorPass> kv_expansion_passes(const workloads::Graph& graph, workloads::OpId op);
// On split cores: gives `problem` the expansion passes of its B (a weight,
// or a quantized KV cache) and the workspace they go through, so emit_gemm
// runs them as an AIC<->AIV pipeline (mapper/gemm/gemm_expansion.h) and
// operand_work leaves them out. Nothing for a B the vector unit need not
// expand.
void route_operand_expansion(const workloads::Graph& graph, workloads::OpId op, std::uint64_t workspace_address,
                             GemmProblem& problem);

// Vector work to run on the vector pipes in the GEMM's own job (emit_vector
// into the same Program), already sized for `problem` after
// apply_operand_formats.
struct OperandWork {
  std::vector<VectorProblem> alongside;
  bool empty() const { return alongside.empty(); }
};
OperandWork operand_work(const workloads::Graph& graph, workloads::OpId op, const GemmProblem& problem);

// The precision FixPipe should write a matmul's output at: the A precision
// every consumer asks for, when all consumers are quantized-activation
// matmuls agreeing on it; nullopt otherwise.
std::optional<DType> fixpipe_output_dtype(const workloads::Graph& graph, workloads::OpId op);

// For a vector (non-matmul) op: passes to append and the factor on its output
// bytes per element. A KV-cache write into a quantized cache quantizes (one
// pass) and writes the stored size; an op whose every consumer is a matmul
// with quantized activations quantizes its output (fused, as RMSNorm+quant
// kernels do).
struct VectorOpExtras {
  std::vector<VectorPass> passes;
  double out_bytes_scale = 1.0;
};
VectorOpExtras vector_op_extras(const workloads::Graph& graph, workloads::OpId op);

}  // namespace npusim::mapper
