#pragma once
// Lowering of element-wise and reduction work onto the vector pipes: MTE2
// streams tiles from GM into UB, the vector unit makes its passes over the
// tile, MTE3 streams results back. Two UB slots per direction let loads,
// compute and stores of consecutive tiles overlap.
#include <cstdint>
#include <utility>
#include <vector>

#include "arch/isa.h"
#include "mapper/machine_view.h"

namespace npusim::mapper {

struct VectorPass {
  arch::VectorOpKind kind = arch::VectorOpKind::copy;
  double per_element = 1.0;  // operations per element of the tile
};

struct VectorProblem {
  std::uint64_t elements = 0;          // output elements
  double in_bytes_per_element = 2;     // GM bytes read per output element
  double out_bytes_per_element = 2;    // GM bytes written per output element
  DType dtype = DType::fp16;
  std::vector<VectorPass> passes;
  std::uint64_t in_address = 0;
  std::uint64_t out_address = 0;
  // Bytes of the tensor at in_address. An op that reads several inputs
  // reads its total bytes as one run; with an extent the run wraps inside
  // that tensor instead of reading past it (past it may be past the tier).
  // 0: the run is the tensor.
  Bytes in_extent = 0;
  Bytes in_run_offset = 0;  // where in that run this problem's reads begin
};

// Elements per tile so two input and two output slots fit in UB, rounded to
// whole vector repeats.
std::uint64_t vector_tile_elements(const VectorProblem& problem, const MachineView& machine);

// Seconds the work takes by its GM traffic: every worker's MTE2/MTE3 path
// and the chip's HBM, whichever is slower (element-wise ops are memory-bound).
double estimate_vector_seconds(const VectorProblem& problem, const MachineView& machine);

// The vector instructions of `passes` over one UB tile of `elements`, in
// `dtype`, reading at `src_offset` and writing `out_bytes` at `dst_offset`:
// a pass of r operations per element is r sweeps of the tile, the last
// partial.
void append_vector_passes(const std::vector<VectorPass>& passes, std::uint64_t elements, DType dtype,
                          std::uint32_t src_offset, std::uint32_t dst_offset, Bytes out_bytes, std::uint32_t tag,
                          std::vector<arch::Instruction>& code);

// Appends the work to the vector cores of `program` (AIVs on split cores,
// the cube cores' own vector pipes on coupled cores), split evenly.
void emit_vector(const VectorProblem& problem, const MachineView& machine, std::uint32_t op_tag,
                 arch::Program& program);

}  // namespace npusim::mapper
