#pragma once
// Lowering of one (batched) matrix multiply C = A x B onto the cube cores,
// Ascend style: MTE2 brings A and B panels from GM into L1, MTE1 cuts them
// into L0A/L0B tiles, the cube accumulates in L0C across K, and FixPipe
// writes the finished block back to GM converting to the output precision.
// Every stage is double-buffered and synchronised with set/wait flags.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "mapper/machine_view.h"
#include "mapper/vector/vector_lowering.h"

namespace npusim::mapper {

struct GemmProblem {
  std::uint64_t batch = 1;  // independent products (e.g. attention heads)
  std::uint64_t m = 0, k = 0, n = 0;
  DType a_dtype = DType::fp16;  // activations (L0A)
  DType b_dtype = DType::fp16;  // weights or the second activation (L0B)
  DType c_dtype = DType::fp16;  // what FixPipe writes
  // Bytes of B per element as stored in GM, including sparsity metadata and
  // scales; defaults to the dtype's width when zero.
  double b_stored_bits = 0;
  arch::CubeSparsity sparsity = arch::CubeSparsity::dense;

  // GM placement. Operands are stored blocked (NZ-like fractal layout, as
  // Ascend kernels pre-format weights), so every panel a core loads is one
  // contiguous range. Batch item i starts at base + i * stride.
  std::uint64_t a_address = 0, b_address = 0, c_address = 0;
  std::uint64_t a_batch_stride = 0, b_batch_stride = 0, c_batch_stride = 0;
  // How many consecutive batch items share one B (grouped-query attention
  // shares a KV head among query heads); 1 when every item has its own.
  std::uint64_t b_shared_by = 1;

  // A bias row bias[N] added to every output row (shared by every batch
  // item), stored in GM at bias_address; none when bias_dtype is empty.
  // See gemm_bias.h for how it reaches the accumulators.
  std::optional<DType> bias_dtype;
  std::uint64_t bias_address = 0;
  // FixPipe applies ReLU as it writes C (a fused activation; no cost).
  bool relu = false;

  // On split cores, a B stored in a form the cube cannot read is expanded
  // by the AIC's AIVs: they load each panel as stored, run these passes and
  // store it dense (b_dtype) into the core's slots of the workspace at
  // b_workspace_address, from which the AIC loads it (gemm_expansion.h).
  // Empty: B reaches L1 as stored.
  std::vector<VectorPass> b_expand_passes;
  std::uint64_t b_workspace_address = 0;
  bool b_expanded_by_vector() const { return !b_expand_passes.empty(); }
};

struct GemmTiling {
  std::uint32_t bm = 128;   // output block rows held in L0C
  std::uint32_t bn = 128;   // output block columns held in L0C
  std::uint32_t bk1 = 256;  // K depth of one L1 panel
  std::uint32_t bk0 = 64;   // K depth of one L0 tile; divides bk1
  bool l0c_double_buffer = true;
  // A-stationary: the core keeps all K of its bm rows of A in L1 and streams
  // only B panels, so a row of output blocks loads A once. Ascend kernels do
  // this ("A full load") when bm x K fits; it lifts the per-core GM path
  // limit, which otherwise caps intensity at bm*bn/(bm+bn) per byte.
  bool a_resident = false;
  // B-stationary, the mirror image: the core keeps all K of its bn columns
  // of B in L1 and streams A panels, walking the block rows of one block
  // column in turn, so each B panel leaves GM once. A weight in a tier the L2
  // does not cache (host DDR) is otherwise fetched once per block row.
  bool b_resident = false;
  // Split-K: K is cut into this many parts of whole bk1 panels, each dealt
  // to a core as its own work item, so a GEMM with fewer output blocks than
  // cores still fills them. FixPipe adds each part's partial sums into the
  // output atomically (in the output precision, at L2), so the output must
  // be zero first: a zeroing job runs before the GEMM (gemm_output_zeroing).
  std::uint32_t split_k = 1;

  std::string describe() const;
};

// Bytes each buffer needs for a tiling, double buffering included.
struct GemmFootprint {
  Bytes l1 = 0, l0a = 0, l0b = 0, l0c = 0;
  Bytes bias_table = 0;
};
GemmFootprint gemm_footprint(const GemmProblem& problem, const GemmTiling& tiling);

// Why a tiling cannot run on the machine, or nullopt when it fits.
std::optional<std::string> gemm_tiling_error(const GemmProblem& problem, const GemmTiling& tiling,
                                             const MachineView& machine);

// Appends the instructions of every core to `program` (which must already
// hold machine.cube_cores core programs). Output blocks are dealt to cores
// round-robin in (batch, m-block, n-block) order; with a_resident, each core
// takes a contiguous run of blocks instead so consecutive blocks share A;
// with b_resident, a contiguous run in (batch, n-block, m-block) order so
// consecutive blocks share B.
void emit_gemm(const GemmProblem& problem, const GemmTiling& tiling, const MachineView& machine,
               std::uint32_t op_tag, arch::Program& program);

// Which output blocks a core computes, in order, as indices in the
// tiling's block order (see gemm_block_at).
std::vector<std::uint64_t> gemm_blocks_of_core(const GemmProblem& problem, const GemmTiling& tiling, int cores,
                                               int core);

// Where block `index` of the tiling's order lies: (batch, m-block, n-block)
// order, or (batch, n-block, m-block) for b_resident.
// With split-K the index runs over (block, part) work items: part fastest
// when blocks are dealt round-robin, slowest with a resident operand.
struct GemmBlock {
  std::uint64_t batch = 0, mi = 0, ni = 0;
  std::uint64_t part = 0;   // which K part (0 without split-K)
  std::uint64_t strip = 0;  // the resident operand's strip: (part, batch, m-block) or (part, batch, n-block)
};
GemmBlock gemm_block_at(const GemmProblem& problem, const GemmTiling& tiling, std::uint64_t index);

// Work items: output blocks x K parts.
std::uint64_t gemm_work_items(const GemmProblem& problem, const GemmTiling& tiling);
// K panels (of bk1) in each part; the last part may have fewer.
std::uint64_t gemm_panels_per_part(const GemmProblem& problem, const GemmTiling& tiling);

// The work that zeroes a split-K GEMM's output before its parts add into
// it: a fill of every output element, written once, on the vector cores.
VectorProblem gemm_output_zeroing(const GemmProblem& problem);

double element_bytes(DType t);
double stored_b_bytes_per_element(const GemmProblem& problem);
// Bytes per element of B as the AIC loads it into L1: dense when the AIVs
// expanded it into the workspace, as stored otherwise.
double l1_b_bytes_per_element(const GemmProblem& problem);
DType accumulator_dtype(DType operand);

}  // namespace npusim::mapper
