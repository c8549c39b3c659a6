#pragma once
// The GEMM of one dataflow stage: weight-stationary. Each core of the stage
// owns a column slice of the weight, loads it into L1 once, and then, for
// every micro-batch, streams the activation row block (from the stage's
// input queue or GM) panel by panel and writes its output columns (to the
// next queue or GM). Unlike emit_gemm, weights are read once per run, not
// once per micro-batch: that is what makes a layer pipeline pay.
#include <cstdint>
#include <optional>
#include <string>

#include "arch/isa.h"
#include "mapper/machine_view.h"

namespace npusim::mapper {

struct StageGemm {
  std::uint64_t rows = 0;  // rows per micro-batch
  std::uint64_t k = 0, n = 0;
  std::uint64_t micro_batches = 1;
  DType a_dtype = DType::fp16, b_dtype = DType::fp16, c_dtype = DType::fp16;
  double b_stored_bits = 0;  // 0 = the dtype's width
  std::uint64_t b_address = 0;
  // Activation row block t is at in_base + t * in_stride; output likewise.
  std::uint64_t in_base = 0, in_stride = 0, out_base = 0, out_stride = 0;
  int first_core = 0, cores = 1;  // cube cores [first_core, first_core + cores)
};

struct StageGemmTiling {
  std::uint32_t slice = 0;  // weight columns per core
  std::uint32_t bn = 0;     // L0C block width inside a slice
  std::uint32_t bk1 = 0, bk0 = 0;
};

// The tiling, or why the stage cannot hold its weight slice on chip.
struct StageGemmFit {
  std::optional<StageGemmTiling> tiling;
  std::string reason;
};
StageGemmFit fit_stage_gemm(const StageGemm& g, const MachineView& machine);

void emit_stage_gemm(const StageGemm& g, const StageGemmTiling& t, const MachineView& machine, std::uint32_t tag,
                     arch::Program& program);

// Cycles one micro-batch occupies the stage's busiest core, and cycles of
// the one-off weight load, by the same roofline terms as estimate_gemm.
struct StageCost {
  double per_micro_batch_cycles = 0;
  double preload_cycles = 0;
  double weight_bytes = 0;
};
StageCost estimate_stage_gemm(const StageGemm& g, const StageGemmTiling& t, const MachineView& machine);

}  // namespace npusim::mapper
