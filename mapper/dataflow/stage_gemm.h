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
  // The input is a stream queue (filled by the previous stage during the
  // run), not a tensor already in GM. A streamed input is loaded after the
  // weights, so waiting for it does not hold the weight preload back; an
  // input in GM is loaded first, so the stage computes as soon as its
  // weights are in.
  bool input_streamed = false;
  // Weight-preload ordering (address_map.h barriers), 0 for none: wait at
  // this barrier before loading the slice; arrive at that one once loaded.
  std::uint64_t wait_barrier = 0, arrive_barrier = 0;
  // Arrive once this many column blocks of the slice are in (0: the whole
  // slice). Arriving early lets the next wave's loads overlap the rest of
  // this one's, so HBM stays busy when the next wave alone cannot fill it.
  std::uint32_t arrive_after_blocks = 0;
};

struct StageGemmTiling {
  std::uint32_t slice = 0;  // weight columns per core
  std::uint32_t bn = 0;     // L0C block width inside a slice
  std::uint32_t bk1 = 0, bk0 = 0;
  // bk1 covers all of K: a micro-batch's whole row block sits in one L1
  // slot and is read from the queue once, not once per column block.
  bool whole_rows = false;
};

// The tiling, or why the stage cannot hold its weight slice on chip.
struct StageGemmFit {
  std::optional<StageGemmTiling> tiling;
  std::string reason;
};
StageGemmFit fit_stage_gemm(const StageGemm& g, const MachineView& machine);

// Returns the number of cores given work (a core past the last column
// slice gets none).
int emit_stage_gemm(const StageGemm& g, const StageGemmTiling& t, const MachineView& machine, std::uint32_t tag,
                    arch::Program& program);

// Cycles one micro-batch occupies the stage's busiest core, and cycles of
// the one-off weight load, by the same roofline terms as estimate_gemm:
// the slowest of the cube (with its per-mmad fill and drain), MTE1 moving
// the weight slice L1 -> L0B again for every micro-batch (it is what bounds
// small micro-batches) and MTE2 reading the row block; the store of the
// last column block is latency on the way to the next stage.
struct StageCost {
  double per_micro_batch_cycles = 0;  // the pace
  double handoff_cycles = 0;          // from a micro-batch's last mmad to its last byte out
  double preload_cycles = 0;  // the slice through one core's MTE2, alone
  double weight_bytes = 0;    // the whole stage's weights
  double slice_bytes = 0;     // one core's slice
};
StageCost estimate_stage_gemm(const StageGemm& g, const StageGemmTiling& t, const MachineView& machine);

}  // namespace npusim::mapper
