// A core waiting at a cross-core barrier must not slow other cores'
// traffic: the barrier's 32-byte answer crosses the network when the
// barrier lets it go. Booked at the time it was asked for, it landed in the
// links' calendars in the past, and their gap-filling turned it into busy
// time up to the present, stalling what came after.
#include <cstdio>

#include <gtest/gtest.h>

#include "mapper/dataflow/layer_pipeline.h"
#include "mapper/kernel_mapper.h"
#include "sim_harness.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

std::uint64_t l2_out_stall() { return machine_910b2().noc().stats().value("l2.out.stall"); }

TEST(BarrierNoc, ALayerPipelinesBarrierWaitsStallTheL2LinkNoMoreThanKernelModesJobBoundaries) {
  workloads::WorkloadParams params;
  params.phase = workloads::Phase::decode;
  params.seq = 256;
  const auto g = std::move(
      workloads::build_workload_from_file(source_path("tests/data/models/tiny-llama-4l.yaml"), params).graphs.front());
  const auto view = run_machine_view(hw_910b2());
  auto& machine = machine_910b2();

  mapper::GemmTilingCache cache;
  const auto kernel = mapper::map_kernel_by_kernel(g, view, cache);
  scrub_l2(view);
  std::uint64_t before = l2_out_stall();
  Tick kernel_ticks = 0;
  for (const auto& job : kernel.jobs) {
    const auto t = machine.run(job.program);
    kernel_ticks += t.end - t.start;
  }
  const std::uint64_t kernel_stall = l2_out_stall() - before;

  const auto d = mapper::map_layer_pipeline(g, view, mapper::MapperOptions{}, 1);
  ASSERT_TRUE(d.applies) << d.reason;
  machine.streams()->configure(d.queues);
  scrub_l2(view);
  before = l2_out_stall();
  const auto t = machine.run(d.program);
  const std::uint64_t dataflow_stall = l2_out_stall() - before;
  std::printf("tiny-llama decode: kernel %.3f us, L2 out-link stall %llu ps; layer pipeline %.3f us, stall %llu ps\n",
              ticks_to_seconds(kernel_ticks) * 1e6, static_cast<unsigned long long>(kernel_stall),
              ticks_to_seconds(t.end - t.start) * 1e6, static_cast<unsigned long long>(dataflow_stall));
  // The same loads and stores cross the link in both modes; the pipeline's
  // barrier answers add 32 bytes per core and op.
  EXPECT_LE(dataflow_stall, 2 * kernel_stall + 1'000'000);
}

}  // namespace
}  // namespace npusim::test
