#pragma once
// Shared by the mapper tests that simulate: one Machine per process (SystemC
// elaborates once), programs built from the mapper, timings back.
#include <memory>
#include <string>

#include "arch/machine.h"
#include "mapper/gemm/gemm.h"
#include "mapper/machine_view.h"
#include "sim/config/hw_config.h"
#include "sim/run/mapper_setup.h"
#include "sim/run/probe_runs.h"
#include "support/test_paths.h"

namespace npusim::test {

inline const HwConfig& hw_910b2() {
  static const HwConfig hw = load_hw_config(source_path("configs/hw/ascend-910b2.yaml"));
  return hw;
}

inline arch::Machine& machine_910b2() {
  static arch::Machine* machine = new arch::Machine("npu", hw_910b2().machine);  // lives to process exit
  return *machine;
}

inline arch::Program empty_program(const mapper::MachineView& v) {
  arch::Program p;
  p.cube_cores.resize(static_cast<std::size_t>(v.cube_cores));
  p.vector_cores.resize(static_cast<std::size_t>(v.vector_cores));
  return p;
}

// The problem moved to HBM addresses no recent simulation touched. The
// machine lives for the whole process and its 192 MiB L2 has no flush, so
// without this the second tiling of a shape would find the first one's
// operands cached and look faster than it is.
inline mapper::GemmProblem cold_copy(mapper::GemmProblem p) {
  static std::uint64_t next = 0;
  constexpr std::uint64_t kAlign = 1ULL << 20, kWrap = 48ULL << 30;  // stay inside 64 GiB of HBM
  const auto span = [](std::uint64_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; };
  const std::uint64_t a = span(p.a_batch_stride * p.batch), b = span(p.b_batch_stride * p.batch),
                      c = span(p.c_batch_stride * p.batch);
  if (next + a + b + c > kWrap) next = 0;
  p.a_address = next;
  p.b_address = next + a;
  p.c_address = next + a + b;
  next += a + b + c;
  return p;
}

// Leaves the L2 full of clean lines no problem uses: every core streams a
// share of a region past the L2's capacity. The L2 is write-back, so without
// this the previous run's output would still be dirty in it and whichever
// tiling runs next would pay for writing it back.
inline void scrub_l2(const mapper::MachineView& view) {
  constexpr std::uint64_t kRegion = 56ULL << 30, kChunk = 64ULL << 10;
  const std::uint64_t bytes = view.l2_capacity + view.l2_capacity / 4;
  arch::Program program = empty_program(view);
  append_l2_fill(program, kRegion, bytes, kChunk);
  machine_910b2().run(program);
}

// Simulated seconds of one GEMM tiling on the 910B2 machine, from a clean,
// cold L2.
inline double simulate_gemm(const mapper::GemmProblem& problem, const mapper::GemmTiling& t) {
  const auto view = run_machine_view(hw_910b2());
  const mapper::GemmProblem p = cold_copy(problem);
  scrub_l2(view);
  double seconds = 0;
  if (t.split_k > 1) {
    // Split-K's output zeroing, the job the kernel mapper runs before it.
    arch::Program zeroing = empty_program(view);
    mapper::emit_vector(mapper::gemm_output_zeroing(p), view, 0, zeroing);
    const auto timing = machine_910b2().run(zeroing);
    seconds += ticks_to_seconds(timing.end - timing.start);
  }
  arch::Program program = empty_program(view);
  mapper::emit_gemm(p, t, view, 0, program);
  const auto timing = machine_910b2().run(program);
  return seconds + ticks_to_seconds(timing.end - timing.start);
}

// Operands far apart in HBM, as placement would put them.
inline mapper::GemmProblem gemm(std::uint64_t m, std::uint64_t k, std::uint64_t n, std::uint64_t batch = 1) {
  mapper::GemmProblem p;
  p.batch = batch;
  p.m = m;
  p.k = k;
  p.n = n;
  p.a_address = 0;
  p.b_address = 4ULL << 30;
  p.c_address = 8ULL << 30;
  p.a_batch_stride = m * k * 2;
  p.b_batch_stride = k * n * 2;
  p.c_batch_stride = m * n * 2;
  return p;
}

}  // namespace npusim::test
