// Layer-pipelined dataflow against kernel-by-kernel, both simulated.
#include <algorithm>
#include <cstdio>
#include <set>

#include <gtest/gtest.h>

#include "common/error.h"
#include "mapper/dataflow/dataflow_mapper.h"
#include "mapper/dataflow/layer_pipeline.h"
#include "mapper/kernel_mapper.h"
#include "mapper/mode_choice.h"
#include "sim_harness.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

workloads::Graph graph_of(const std::string& file) {
  workloads::WorkloadParams params;
  params.phase = workloads::Phase::prefill;
  return std::move(workloads::build_workload_from_file(source_path(file), params).graphs.front());
}

double run_kernel_by_kernel(const workloads::Graph& g, double* estimate) {
  const auto view = run_machine_view(hw_910b2());
  mapper::GemmTilingCache cache;
  const auto mapping = mapper::map_kernel_by_kernel(g, view, cache);
  scrub_l2(view);  // both modes start from a clean L2: neither inherits the other's weights
  Tick total = 0;
  *estimate = 0;
  for (const auto& job : mapping.jobs) {
    const auto t = machine_910b2().run(job.program);
    total += t.end - t.start;
    *estimate += job.estimated_seconds;
  }
  return ticks_to_seconds(total);
}

// Simulated seconds of one dataflow candidate from a cold L2, as the
// driver's probe machine confirms it.
double simulate_dataflow(const mapper::DataflowMapping& d) {
  auto& machine = machine_910b2();
  machine.streams()->configure(d.queues);
  scrub_l2(run_machine_view(hw_910b2()));
  const auto t = machine.run(d.program);
  return ticks_to_seconds(t.end - t.start);
}

// From a clean L2, both modes read the 8 MiB of weights from HBM once;
// dataflow wins by preloading them in pipeline order while early stages
// already compute, and by keeping activations on chip. The cost model is
// 0.8-1.6 us optimistic about how preload waves overlap the fill and ranks
// the wave splits differently from the simulator (its first choice runs
// 11.84-12.03 us, the simulated best, 11.59-11.95 us, is its third), so, as
// issue 5 allows, the user asks for the model's top four to be confirmed in
// simulation and the mapper keeps the fastest. Most of the optimism is
// HBM: the model's preload waves share it at its 910 B/cycle peak, while
// 6/12/18/24 cores each loading a 352 KiB slice at once drew 394/593/694/582
// B/cycle from it in simulation (one core alone: 79 of its 80 B/cycle, the
// chunk latency hidden), so ranking the splits needs a DRAM-efficiency term
// for concurrent streams that the model does not have.
//
// One run of either mode varies by up to 0.3 us with the state the machine
// is left in (HBM refresh falls at different points of the job): kernel
// 11.90-12.14 us, the confirmed dataflow mapping 11.59-11.91 us over eight
// alternating runs. So each mode runs kRuns times, alternating, and their
// means are compared.
TEST(Dataflow, BeatsKernelByKernelOnASmallBatchMlpChainThatFitsOnChip) {
  constexpr int kRuns = 4;
  const auto g = graph_of("tests/data/mapper/mlp-chain-small.yaml");
  const auto view = run_machine_view(hw_910b2());
  mapper::MapperOptions confirm_top_four;
  confirm_top_four.search.confirm_top = 4;
  const auto d = mapper::map_dataflow(g, view, confirm_top_four, simulate_dataflow);
  ASSERT_TRUE(d.applies) << d.reason;
  EXPECT_EQ(d.confirmed, 4);
  EXPECT_EQ(d.stages.size(), 7u);
  EXPECT_GE(d.micro_batches, 2u);

  auto& machine = machine_910b2();
  ASSERT_NE(machine.streams(), nullptr);
  double kernel_estimate = 0, kernel = 0, dataflow = 0;
  for (int run = 0; run < kRuns; ++run) {
    const double kernel_run = run_kernel_by_kernel(g, &kernel_estimate);
    // Counters live as long as the machine (the confirmation runs wrote to
    // the queues too): count this run's share.
    const auto written_before = machine.streams()->stats().value("bytes_written");
    const double dataflow_run = simulate_dataflow(d);
    EXPECT_EQ(machine.streams()->live_entries(), 0u);
    // Back-pressure and streaming happened for real.
    const auto written = machine.streams()->stats().value("bytes_written") - written_before;
    EXPECT_GT(written, 0u);
    EXPECT_EQ(written, static_cast<std::uint64_t>(d.queues.size()) * d.queues.front().entry_bytes * d.micro_batches);
    std::printf("mlp-chain-small run %d: kernel-by-kernel %.3f us, dataflow %.3f us\n", run + 1, kernel_run * 1e6,
                dataflow_run * 1e6);
    kernel += kernel_run / kRuns;
    dataflow += dataflow_run / kRuns;
  }
  std::printf("mlp-chain-small mean: kernel-by-kernel %.2f us (model %.2f), dataflow %.2f us (model %.2f): %s\n",
              kernel * 1e6, kernel_estimate * 1e6, dataflow * 1e6, d.estimated_seconds * 1e6, d.reason.c_str());
  EXPECT_LT(dataflow, kernel);
  // And auto, by the cost model, agrees.
  const auto mode = mapper::choose_mode("auto", kernel_estimate, d);
  EXPECT_TRUE(mode.dataflow) << mode.reason;
}

// The candidates confirmation draws from: the best few by the cost model,
// best first, the first being what the mapper picks unconfirmed; among
// them are wave splits the HBM-saturating rule alone would not propose.
TEST(Dataflow, CandidatesComeBestFirstAndTheFirstIsTheUnconfirmedChoice) {
  const auto g = graph_of("tests/data/mapper/mlp-chain-small.yaml");
  const auto view = run_machine_view(hw_910b2());
  const auto candidates = mapper::dataflow_chain_candidates(g, view, mapper::MapperOptions{}, 6);
  ASSERT_EQ(candidates.size(), 6u);
  for (std::size_t i = 1; i < candidates.size(); ++i) {
    EXPECT_LE(candidates[i - 1].estimated_seconds, candidates[i].estimated_seconds);
  }
  const auto chosen = mapper::map_dataflow(g, view);
  EXPECT_EQ(chosen.estimated_seconds, candidates.front().estimated_seconds);
  EXPECT_EQ(chosen.reason, candidates.front().reason);
  std::set<std::size_t> wave_counts;
  for (const auto& d : candidates) wave_counts.insert(d.weight_waves);
  EXPECT_GE(wave_counts.size(), 2u);
}

TEST(Dataflow, LaterPreloadWavesWaitAtABarrierForEveryCoreOfTheWaveBefore) {
  const auto g = graph_of("tests/data/mapper/mlp-chain-small.yaml");
  const auto view = run_machine_view(hw_910b2());
  const auto d = mapper::map_dataflow(g, view);
  ASSERT_TRUE(d.applies) << d.reason;
  ASSERT_GE(d.weight_waves, 2u) << d.reason;
  // Every cube core outside the last wave arrives once, after its slice.
  std::uint64_t arriving = 0;
  for (const auto& st : d.stages) {
    if (st.cube && static_cast<std::size_t>(st.wave) + 1 < d.weight_waves) arriving += static_cast<std::uint64_t>(st.cores);
  }
  auto& machine = machine_910b2();
  machine.streams()->configure(d.queues);
  scrub_l2(view);
  // Counters live as long as the machine: count this run's share.
  const auto& stats = machine.streams()->stats();
  const auto arrivals_before = stats.value("barrier_arrivals"), wait_before = stats.value("barrier_wait_ps");
  machine.run(d.program);
  EXPECT_EQ(stats.value("barrier_arrivals") - arrivals_before, arriving);
  EXPECT_GT(stats.value("barrier_wait_ps") - wait_before, 0u);
  EXPECT_EQ(machine.streams()->live_entries(), 0u);
}

TEST(Dataflow, IsRejectedWhenStageWeightsDoNotFitAndAutoFallsBackWithTheReason) {
  const auto g = graph_of("configs/workloads/mlp.yaml");
  const auto d = mapper::map_dataflow(g, run_machine_view(hw_910b2()));
  ASSERT_FALSE(d.applies);
  EXPECT_NE(d.reason.find("does not fit L1"), std::string::npos) << d.reason;
  const auto mode = mapper::choose_mode("auto", 1e-3, d);
  EXPECT_FALSE(mode.dataflow);
  EXPECT_NE(mode.reason.find("dataflow does not apply"), std::string::npos) << mode.reason;
  EXPECT_THROW(mapper::choose_mode("dataflow", 1e-3, d), InputError);
}

workloads::Graph model_graph(const std::string& file, workloads::Phase phase, std::uint64_t seq) {
  workloads::WorkloadParams params;
  params.phase = phase;
  params.seq = seq;
  return std::move(workloads::build_workload_from_file(source_path(file), params).graphs.front());
}

TEST(Dataflow, IsRejectedForTransformerGraphsWhoseActivationsDoNotFitWithTheOpNamed) {
  // Prefill of 4096 tokens: a layer's activations (its rotated Q and K are
  // 2 x 4096 x 4096 x 2 B in and out, its attention scores 32 heads x 4096
  // x 4096 x 2 B = 1 GiB) are far past the 96 MiB on-chip share.
  const auto g = model_graph("configs/models/llama-2-7b.yaml", workloads::Phase::prefill, 4096);
  const auto d = mapper::map_dataflow(g, run_machine_view(hw_910b2()));
  ASSERT_FALSE(d.applies);
  EXPECT_NE(d.reason.find("as a layer pipeline: op 'layers.0."), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("B of activations, more than"), std::string::npos) << d.reason;
  const auto mode = mapper::choose_mode("auto", 1e-3, d);
  EXPECT_FALSE(mode.dataflow);
  EXPECT_NE(mode.reason.find("dataflow does not apply"), std::string::npos) << mode.reason;
}

// A small Llama (GQA, 4 layers) as a layer pipeline, decode with a 256-entry
// KV cache and prefill of 256 tokens: it runs end to end, does exactly the
// kernel-by-kernel FLOPs, and takes no less than the roofline allows.
void check_tiny_llama(workloads::Phase phase, std::size_t stages) {
  const auto g = model_graph("tests/data/models/tiny-llama-4l.yaml", phase, 256);
  const auto view = run_machine_view(hw_910b2());
  const auto d = mapper::map_layer_pipeline(g, view, mapper::MapperOptions{}, stages);
  ASSERT_TRUE(d.applies) << d.reason;
  double dataflow_flops = 0;
  for (const auto& st : d.stages) dataflow_flops += static_cast<double>(g.op(st.op).flops);
  mapper::GemmTilingCache cache;
  double kernel_flops = 0, bytes = 0;
  for (const auto& job : mapper::map_kernel_by_kernel(g, view, cache).jobs) {
    kernel_flops += static_cast<double>(g.op(job.op).flops);
    bytes += static_cast<double>(g.op(job.op).bytes_read.weight + g.op(job.op).bytes_read.kv_cache);
  }
  EXPECT_GT(kernel_flops, 0);
  EXPECT_EQ(dataflow_flops, kernel_flops);

  auto& machine = machine_910b2();
  machine.streams()->configure(d.queues);
  scrub_l2(view);
  const auto arrivals_before = machine.streams()->stats().value("barrier_arrivals");
  const auto t = machine.run(d.program);
  const double seconds = ticks_to_seconds(t.end - t.start);
  // Every AIC and AIV of an op's stage arrives once per op.
  const auto per_op = static_cast<std::uint64_t>((view.cube_cores + view.vector_cores) / static_cast<int>(stages));
  EXPECT_EQ(machine.streams()->stats().value("barrier_arrivals") - arrivals_before, d.stages.size() * per_op);
  // Roofline: weights and cache come from HBM at most at its peak, and the
  // cube does the FLOPs at most at its peak on the cores it has.
  const double floor = std::max(bytes / view.hbm_Bps, kernel_flops / view.peak_flops(DType::fp16));
  std::printf("tiny-llama %s, %zu stage(s): %.2f us simulated, roofline floor %.2f us, model %.2f us\n",
              workloads::phase_name(phase), stages, seconds * 1e6, floor * 1e6, d.estimated_seconds * 1e6);
  EXPECT_GE(seconds, floor);
}

TEST(Dataflow, TinyLlamaDecodeRunsAsALayerPipelineWithKernelModesFlops) {
  check_tiny_llama(workloads::Phase::decode, 1);
}

TEST(Dataflow, TinyLlamaPrefillRunsAsALayerPipelineWithKernelModesFlops) {
  check_tiny_llama(workloads::Phase::prefill, 1);
}

TEST(Dataflow, TinyLlamaDecodeRunsInTwoStagesOfHalfTheCores) {
  check_tiny_llama(workloads::Phase::decode, 2);
}

}  // namespace
}  // namespace npusim::test
