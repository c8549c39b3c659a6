// A GEMM whose weight lives in host DDR (a cold MoE expert on the 910B2 with
// DDR behind PCIe): DDR is not cached by the L2, so every fetch of B a
// tiling makes reads DDR again. The chosen tiling must fetch B once, and an
// 8-bit weight (half the bytes) must not run slower than fp16.
// Each TEST elaborates the DDR machine once in its own process (CTest).
#include <gtest/gtest.h>

#include "arch/address_map.h"
#include "arch/machine.h"
#include "mapper/gemm/gemm.h"
#include "mapper/gemm/gemm_cost.h"
#include "mapper/search/tiling_search.h"
#include "sim/config/hw_config.h"
#include "sim/run/mapper_setup.h"
#include "support/test_paths.h"

namespace npusim::test {
namespace {

const HwConfig& hw_ddr() {
  static const HwConfig hw = load_hw_config(source_path("configs/hw/ascend-910b2-ddr.yaml"));
  return hw;
}

arch::Machine& machine_ddr() {
  static arch::Machine* machine = new arch::Machine("npu", hw_ddr().machine);  // lives to process exit
  return *machine;
}

// One Mixtral-8x7B expert's gate projection at ~512 routed tokens
// (prefill 2048 x top-2 of 8 experts): activations in HBM, weight in DDR.
mapper::GemmProblem expert_gemm(DType operands) {
  mapper::GemmProblem p;
  p.m = 512;
  p.k = 4096;
  p.n = 14336;
  p.a_dtype = operands;
  p.b_dtype = operands;
  p.c_dtype = DType::fp16;
  const double a_bytes = mapper::element_bytes(p.a_dtype), b_bytes = mapper::stored_b_bytes_per_element(p);
  p.a_address = 0;
  p.c_address = 1ULL << 30;
  p.b_address = arch::kDdrBase + (1ULL << 30);
  p.a_batch_stride = static_cast<std::uint64_t>(p.m * p.k * a_bytes);
  p.b_batch_stride = static_cast<std::uint64_t>(p.k * p.n * b_bytes);
  p.c_batch_stride = p.m * p.n * 2;
  return p;
}

struct DdrRun {
  double seconds = 0;
  double ddr_bytes_read = 0;
};

DdrRun simulate(const mapper::GemmProblem& p, const mapper::GemmTiling& t) {
  const auto view = run_machine_view(hw_ddr());
  arch::Program program;
  program.cube_cores.resize(static_cast<std::size_t>(view.cube_cores));
  program.vector_cores.resize(static_cast<std::size_t>(view.vector_cores));
  mapper::emit_gemm(p, t, view, 0, program);
  auto& machine = machine_ddr();
  const double before = static_cast<double>(machine.ddr()->stats().value("bytes_read"));
  const auto timing = machine.run(program);
  DdrRun run;
  run.seconds = ticks_to_seconds(timing.end - timing.start);
  run.ddr_bytes_read = static_cast<double>(machine.ddr()->stats().value("bytes_read")) - before;
  return run;
}

double b_bytes(const mapper::GemmProblem& p) {
  return static_cast<double>(p.k) * static_cast<double>(p.n) * mapper::stored_b_bytes_per_element(p);
}

TEST(DdrWeightGemm, TheMachineDoesNotCacheDdrInL2) {
  EXPECT_FALSE(run_machine_view(hw_ddr()).l2_caches_ddr);
}

// The closed form a tiling's DDR traffic follows on this machine: B bytes x
// the fetches the tiling makes (one per block row when streamed).
TEST(DdrWeightGemm, StreamedTilingReadsDdrOncePerBlockRowAndTheCostModelCharges) {
  const auto view = run_machine_view(hw_ddr());
  const mapper::GemmProblem p = expert_gemm(DType::int8);
  const mapper::GemmTiling streamed{128, 128, 256, 64};
  ASSERT_FALSE(mapper::gemm_tiling_error(p, streamed, view));
  const double fetches = static_cast<double>(ceil_div(p.m, streamed.bm));
  // The estimate cannot be below the fetches at DDR's peak rate, though B
  // (58.7 MB) would fit the 192 MiB L2.
  EXPECT_GE(mapper::estimate_gemm(p, streamed, view).seconds, 0.999 * fetches * b_bytes(p) / view.ddr_Bps);
  const DdrRun run = simulate(p, streamed);
  EXPECT_NEAR(run.ddr_bytes_read, fetches * b_bytes(p), 1e-3 * fetches * b_bytes(p));
}

// The chosen tiling of an expert GEMM reads its DDR weight once (within
// 0.1 %: the bytes are exact, the slack only absorbs rounding), for fp16
// and int8; the int8 one takes no longer than the fp16 one.
TEST(DdrWeightGemm, ChosenTilingReadsTheDdrWeightOnceAnd8BitIsNotSlower) {
  const auto view = run_machine_view(hw_ddr());
  double seconds[2] = {0, 0};
  int i = 0;
  for (DType d : {DType::fp16, DType::int8}) {
    const mapper::GemmProblem p = expert_gemm(d);
    const mapper::GemmChoice choice = mapper::choose_gemm_tiling(p, view);
    const DdrRun run = simulate(p, choice.tiling);
    EXPECT_NEAR(run.ddr_bytes_read, b_bytes(p), 1e-3 * b_bytes(p)) << dtype_name(d) << " " << choice.tiling.describe();
    // One read of B at DDR's peak rate is the floor of both.
    EXPECT_GE(run.seconds, b_bytes(p) / view.ddr_Bps);
    seconds[i++] = run.seconds;
    std::printf("%s: %s, %.3f ms simulated, %.1f MB from DDR\n", dtype_name(d), choice.tiling.describe().c_str(),
                run.seconds * 1e3, run.ddr_bytes_read / 1e6);
  }
  EXPECT_LE(seconds[1], seconds[0]);
}

}  // namespace
}  // namespace npusim::test
