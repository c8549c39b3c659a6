#pragma once
// SwiGLU fused with the gate and up projections: one job in which each cube
// core computes a gate block and the matching up block from the same A
// panels, and the vector side applies silu(gate) * up to the two C tiles as
// they leave L0C (FixPipe to the core's GM workspace slots and cross-core
// flags on split cores, L0C -> UB on coupled ones), writing only the
// activation. The gate and up outputs never reach the tensors in GM.
#include <cstdint>
#include <optional>
#include <string>

#include "arch/isa.h"
#include "mapper/gemm/gemm.h"
#include "mapper/machine_view.h"

namespace npusim::mapper {

struct SwigluProblem {
  GemmProblem gate, up;  // same A, m, k and n
  std::uint64_t out_address = 0;
  DType out_dtype = DType::fp16;
  double out_bytes_per_element = 2;  // less when the consumer wants it quantized
  bool quantize = false;             // a quantize pass before the store
};

struct SwigluTiling {
  std::uint32_t bm = 128, bn = 128, bk1 = 256;
  int l0c_slots = 2;  // (gate, up) accumulator pairs in flight
  std::string describe() const;
};

std::optional<std::string> swiglu_tiling_error(const SwigluProblem& problem, const SwigluTiling& tiling,
                                               const MachineView& machine);

// The GEMM tiling of the gate projection, shrunk until the two accumulators,
// the two B panels and the vector side's slots fit. Throws InputError naming
// the buffer when even the smallest does not.
SwigluTiling choose_swiglu_tiling(const SwigluProblem& problem, const GemmTiling& gate_tiling,
                                  const MachineView& machine);

double estimate_swiglu_seconds(const SwigluProblem& problem, const SwigluTiling& tiling, const MachineView& machine);

void emit_fused_swiglu(const SwigluProblem& problem, const SwigluTiling& tiling, const MachineView& machine,
                       std::uint64_t workspace_address, std::uint32_t tag, arch::Program& program);

}  // namespace npusim::mapper
