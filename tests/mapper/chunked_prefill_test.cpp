// The chunked-prefill layer pipeline (mapper/dataflow/chunked_prefill.h):
// a prefill split into chunks that stream through the stages.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/trace_sink.h"
#include "mapper/dataflow/chunked_prefill.h"
#include "mapper/dataflow/layer_pipeline.h"
#include "mapper/mode_choice.h"
#include "sim_harness.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

constexpr std::uint64_t kPrompt = 512;

struct TinyPrefill {
  workloads::ModelConfig model;
  workloads::WorkloadParams params;
  std::shared_ptr<workloads::RoutingSource> routing;
  workloads::Graph step;
  mapper::PrefillChunkBuilder build_chunk;

  explicit TinyPrefill(workloads::Phase phase = workloads::Phase::prefill,
                       const std::string& file = "tests/data/models/tiny-llama-4l.yaml", std::uint64_t seq = kPrompt)
      : model(workloads::load_model_file(source_path(file))) {
    params.phase = phase;
    params.seq = seq;
    routing = workloads::make_routing(model, params);
    step = workloads::build_step_graph(model, params, 0, *routing);
    build_chunk = [this](std::uint64_t context, std::uint64_t tokens) {
      return workloads::build_prefill_chunk_graph(model, params, context, tokens, *routing);
    };
  }
};

// Unfused attention, so every graph op is one job and a stage's ops are
// the graph's (a fused chain's job names only its first op).
mapper::MapperOptions unfused() {
  mapper::MapperOptions o;
  o.fusion.attention = mapper::AttentionLowering::unfused;
  return o;
}

bool is_attention(workloads::OpKind k) {
  return k == workloads::OpKind::AttentionScore || k == workloads::OpKind::Softmax ||
         k == workloads::OpKind::AttentionContext;
}

// Busy intervals of the compute pipes (cube, vector), by op name.
class ComputeTrace : public TraceSink {
 public:
  int track(const std::string& process, const std::string& thread) override {
    const std::string name = process + "." + thread;
    auto [it, added] = ids_.emplace(name, static_cast<int>(names_.size()));
    if (added) names_.push_back(thread);
    return it->second;
  }
  void slice(int track, const char* label, Tick begin, Tick end) override {
    const std::string& pipe = names_.at(static_cast<std::size_t>(track));
    if (pipe != "cube" && pipe != "vector") return;
    auto [it, added] = spans_.emplace(label, std::make_pair(begin, end));
    if (added) return;
    it->second.first = std::min(it->second.first, begin);
    it->second.second = std::max(it->second.second, end);
  }
  void counter(const std::string&, Tick, double) override {}
  void clear() { spans_.clear(); }
  const std::map<std::string, std::pair<Tick, Tick>>& spans() const { return spans_; }

 private:
  std::map<std::string, int> ids_;
  std::vector<std::string> names_;
  std::map<std::string, std::pair<Tick, Tick>> spans_;  // label -> first begin, last end
};

struct PipelineRun {
  Tick start = 0;  // the first job's
  double seconds = 0;
  std::uint64_t hbm_read = 0;
  std::size_t jobs = 0;
  // [stage][chunk] -> first compute begin, last compute end
  std::vector<std::vector<std::pair<Tick, Tick>>> spans;
};

// The mapping from a clean L2, as the driver runs it, with the compute
// spans of each stage and chunk (labels name the chunk as "chunkI/"),
// leaving out the KV cache writes.
PipelineRun simulate(const workloads::Graph& step, const mapper::DataflowMapping& d, const mapper::MapperOptions& options) {
  const auto view = run_machine_view(hw_910b2());
  auto& machine = machine_910b2();
  scrub_l2(view);
  ComputeTrace trace;
  machine.set_trace(&trace);
  const auto& hbm = machine.hbm()->stats();
  const std::uint64_t before = hbm.value("bytes_read");
  PipelineRun r;
  Tick ticks = 0;
  mapper::for_each_dataflow_job(step, view, options, d, [&](const arch::Program& program) {
    machine.streams()->configure(d.queues);
    const auto t = machine.run(program);
    if (r.jobs == 0) r.start = t.start;
    ticks += t.end - t.start;
    ++r.jobs;
  });
  machine.set_trace(nullptr);
  r.seconds = ticks_to_seconds(ticks);
  r.hbm_read = hbm.value("bytes_read") - before;
  const std::size_t stages = d.pipeline_stages, chunks = std::max<std::size_t>(1, d.micro_batches);
  const int cores_per_stage = view.cube_cores / static_cast<int>(stages);
  r.spans.assign(stages, std::vector<std::pair<Tick, Tick>>(chunks, {std::numeric_limits<Tick>::max(), 0}));
  for (const auto& st : d.stages) {
    // A KV cache write feeds no later op of its chunk, so it comes last in
    // the graph's order and runs beside the next stage's start.
    if (mapper::pipeline_op(step, d, st).kind == workloads::OpKind::KvCacheWrite) continue;
    auto it = trace.spans().find(st.name);
    if (it == trace.spans().end()) continue;
    auto& span = r.spans[static_cast<std::size_t>(st.first_core / cores_per_stage)][st.chunk];
    span.first = std::min(span.first, it->second.first);
    span.second = std::max(span.second, it->second.second);
  }
  return r;
}

// Work the chunked step does against the step as one micro-batch, by
// closed form. Causal attention over C chunks of t = T/C tokens: chunk i's
// score and context GEMMs have t query rows and (i+1)t keys, so they sum to
// t^2 C(C+1)/2 = T^2 (C+1)/(2C) where the step's graph counts T x T: the
// attention ops' FLOPs scale by (C+1)/(2C), every other op's are the same
// (its rows sum to T; the head runs once, for the last chunk). Every chunk
// appends its own KV entries, so the cache bytes written are the step's;
// every chunk reads its layers' weights, so layer weight bytes are C times
// the step's, the embedding's rows and the head's weights once.
TEST(ChunkedPrefill, ConservesTheStepsWorkByClosedForm) {
  const TinyPrefill tiny;
  const auto view = run_machine_view(hw_910b2());
  const auto options = unfused();
  constexpr std::size_t kChunks = 4, kStages = 2;
  const auto d = mapper::map_chunked_prefill(tiny.step, tiny.build_chunk, view, options, kStages, kChunks, 2,
                                             mapper::kMaxJobInstructions);
  ASSERT_TRUE(d.applies) << d.reason;
  ASSERT_EQ(d.chunk_graphs.size(), kChunks);
  EXPECT_EQ(d.micro_batches, kChunks);

  double step_attention = 0, step_other = 0, step_kv_written = 0, step_layer_weights = 0, step_other_weights = 0;
  for (auto id : tiny.step.topological_order()) {
    const auto& op = tiny.step.op(id);
    (is_attention(op.kind) ? step_attention : step_other) += static_cast<double>(op.flops);
    step_kv_written += static_cast<double>(op.bytes_written.kv_cache);
    (op.layer >= 0 ? step_layer_weights : step_other_weights) += static_cast<double>(op.bytes_read.weight);
  }
  double flops = 0, kv_written = 0, weights = 0;
  for (const auto& st : d.stages) {
    const auto& op = mapper::pipeline_op(tiny.step, d, st);
    flops += static_cast<double>(op.flops);
    kv_written += static_cast<double>(op.bytes_written.kv_cache);
    weights += static_cast<double>(op.bytes_read.weight);
  }
  const double c = kChunks;
  const double expected_flops = step_other + step_attention * (c + 1) / (2 * c);
  EXPECT_NEAR(flops, expected_flops, 1e-9 * expected_flops);
  EXPECT_LT(flops, step_other + step_attention);  // causal chunks skip whole masked blocks
  EXPECT_GT(step_kv_written, 0);
  EXPECT_EQ(kv_written, step_kv_written);
  EXPECT_EQ(weights, c * step_layer_weights + step_other_weights);
}

// Stages overlap: S stages and C chunks take less than the chunks run one
// after another, each as a one-micro-batch pipeline on the same stages,
// and no less than the busiest stage's work; hand-offs and back-pressure
// hold in the trace: stage s starts chunk i only after stage s-1 ended it
// and after stage s+1 ended chunk i-Q.
TEST(ChunkedPrefill, StagesOverlapAndBackPressureHolds) {
  const TinyPrefill tiny;
  const auto view = run_machine_view(hw_910b2());
  const auto options = unfused();
  constexpr std::size_t kChunks = 4, kStages = 4, kSlots = 2;
  const auto d = mapper::map_chunked_prefill(tiny.step, tiny.build_chunk, view, options, kStages, kChunks, kSlots,
                                             mapper::kMaxJobInstructions);
  ASSERT_TRUE(d.applies) << d.reason;
  ASSERT_TRUE(d.segments.empty()) << d.reason;
  const PipelineRun piped = simulate(tiny.step, d, options);

  double serial = 0;
  std::vector<double> stage_work(kStages, 0.0);
  for (std::size_t i = 0; i < kChunks; ++i) {
    const auto& g = d.chunk_graphs[i];
    const auto one = mapper::map_layer_pipeline(g, view, options, kStages);
    ASSERT_TRUE(one.applies) << one.reason;
    ASSERT_EQ(one.micro_batches, 1u);
    const PipelineRun alone = simulate(g, one, options);
    serial += alone.seconds;
    for (std::size_t s = 0; s < kStages; ++s) {
      stage_work[s] += ticks_to_seconds(alone.spans[s][0].second - alone.spans[s][0].first);
    }
  }
  const double busiest = *std::max_element(stage_work.begin(), stage_work.end());
  std::printf("tiny-llama-4l prefill %llu tokens, %zu stages x %zu chunks: pipelined %.2f us, chunks one after "
              "another %.2f us, busiest stage's compute span over the chunks %.2f us\n",
              static_cast<unsigned long long>(kPrompt), kStages, kChunks, piped.seconds * 1e6, serial * 1e6,
              busiest * 1e6);
  EXPECT_LT(piped.seconds, serial);
  // A stage's compute span in a chunk run alone is the least it takes; in
  // the pipeline it shares the machine. (Warm L2 in the pipeline could only
  // make a later chunk's stage faster than alone; the chunks alone run one
  // after another without a scrub between, so theirs is as warm.)
  EXPECT_GE(piped.seconds, busiest);

  for (std::size_t s = 0; s < kStages; ++s) {
    for (std::size_t i = 0; i < kChunks; ++i) {
      const auto [start, end] = piped.spans[s][i];
      ASSERT_LT(start, end) << "stage " << s << " chunk " << i << " left no compute in the trace";
      if (s > 0) {
        EXPECT_GE(start, piped.spans[s - 1][i].second) << "hand-off, stage " << s << " chunk " << i;
      }
      if (i > 0) {
        EXPECT_GE(start, piped.spans[s][i - 1].second) << "stage order, stage " << s << " chunk " << i;
      }
      if (s + 1 < kStages && i >= kSlots) {
        EXPECT_GE(start, piped.spans[s + 1][i - kSlots].second) << "back-pressure, stage " << s << " chunk " << i;
      }
    }
  }
  // Overlap is there: some stage runs a chunk while the next runs the one before.
  bool overlapped = false;
  for (std::size_t s = 0; s + 1 < kStages; ++s) {
    for (std::size_t i = 1; i < kChunks; ++i) {
      overlapped = overlapped || piped.spans[s][i].first < piped.spans[s + 1][i - 1].second;
    }
  }
  EXPECT_TRUE(overlapped);
}

// Back-pressure by timing, on a two-stage pipeline whose last stage is the
// slow one (two MoE layers of 32 experts behind two narrow dense layers):
// with 2 hand-off slots the first stage starts chunk i only once the last
// has finished chunk i-2, so it is held back and finishes its chunks later
// than with a slot per chunk, where it runs ahead further than 2 chunks;
// the step ends with the slow stage either way.
TEST(ChunkedPrefill, BackPressureHoldsTheFastStageWithinItsSlotsOfTheSlowOne) {
  const TinyPrefill model(workloads::Phase::prefill, "tests/data/models/tiny-deepseek-2dense.yaml", 1024);
  const auto view = run_machine_view(hw_910b2());
  const auto options = unfused();
  constexpr std::size_t kChunks = 8, kSlots = 2;
  const auto bounded = mapper::map_chunked_prefill(model.step, model.build_chunk, view, options, 2, kChunks, kSlots,
                                                   mapper::kMaxJobInstructions);
  const auto free = mapper::map_chunked_prefill(model.step, model.build_chunk, view, options, 2, kChunks, kChunks,
                                                mapper::kMaxJobInstructions);
  ASSERT_TRUE(bounded.applies) << bounded.reason;
  ASSERT_TRUE(free.applies) << free.reason;
  const PipelineRun b = simulate(model.step, bounded, options);
  const PipelineRun f = simulate(model.step, free, options);
  const auto first_stage_done = [](const PipelineRun& r) {
    return ticks_to_seconds(r.spans[0][kChunks - 1].second - r.start);
  };
  // How many chunks the first stage has finished when the last starts chunk i, at most.
  const auto lead = [](const PipelineRun& r) {
    std::size_t most = 0;
    for (std::size_t i = 0; i < kChunks; ++i) {
      std::size_t ahead = 0;
      for (std::size_t j = i; j < kChunks; ++j) ahead += r.spans[0][j].second <= r.spans[1][i].first ? 1 : 0;
      most = std::max(most, ahead);
    }
    return most;
  };
  std::printf("tiny-deepseek-2dense prefill 1024, 2 stages x 8 chunks: first stage done after %.2f us with 2 slots, "
              "%.2f us with 8; step %.2f us / %.2f us; first stage ahead by at most %zu / %zu chunks\n",
              first_stage_done(b) * 1e6, first_stage_done(f) * 1e6, b.seconds * 1e6, f.seconds * 1e6, lead(b),
              lead(f));
  for (std::size_t i = kSlots; i < kChunks; ++i) {
    EXPECT_GE(b.spans[0][i].first, b.spans[1][i - kSlots].second) << "chunk " << i;
  }
  EXPECT_LE(lead(b), kSlots);
  EXPECT_GT(lead(f), kSlots);
  EXPECT_GT(first_stage_done(b), 1.2 * first_stage_done(f));
  EXPECT_NEAR(b.seconds, f.seconds, 0.05 * f.seconds);
}

// Simulated against one HBM read of the weights: the chunks read at least
// every weight once, and at most each chunk's weights, KV cache and
// activations (the L2 may keep what a chunk before read).
TEST(ChunkedPrefill, HbmReadsLieBetweenTheWeightsOnceAndEveryChunksBytes) {
  const TinyPrefill tiny;
  const auto view = run_machine_view(hw_910b2());
  const auto options = unfused();
  const auto d = mapper::map_chunked_prefill(tiny.step, tiny.build_chunk, view, options, 2, 4, 2,
                                             mapper::kMaxJobInstructions);
  ASSERT_TRUE(d.applies) << d.reason;
  double weights_once = 0, every_chunk = 0;
  for (auto id : tiny.step.topological_order()) {
    weights_once += static_cast<double>(tiny.step.op(id).bytes_read.weight);
  }
  for (const auto& st : d.stages) {
    const auto& op = mapper::pipeline_op(tiny.step, d, st);
    every_chunk += static_cast<double>(op.bytes_read.total() + op.bytes_written.total());
  }
  const PipelineRun r = simulate(tiny.step, d, options);
  std::printf("HBM read %.2f MB; weights once %.2f MB; every chunk's bytes %.2f MB\n", r.hbm_read / 1e6,
              weights_once / 1e6, every_chunk / 1e6);
  EXPECT_GE(static_cast<double>(r.hbm_read), 0.99 * weights_once);
  EXPECT_LE(static_cast<double>(r.hbm_read), every_chunk);
}

// Past the instruction cap the chunked step is cut into jobs of whole
// layers, each a pipeline of its own, with the same ops; a cap that would
// leave a job fewer layers than stages is refused, saying so.
TEST(ChunkedPrefill, PastTheCapItIsCutIntoPipelinesOfWholeLayersOrRefused) {
  const TinyPrefill tiny;
  const auto view = run_machine_view(hw_910b2());
  const auto options = unfused();
  const auto whole = mapper::map_chunked_prefill(tiny.step, tiny.build_chunk, view, options, 2, 4, 2,
                                                 mapper::kMaxJobInstructions);
  ASSERT_TRUE(whole.applies) << whole.reason;
  // Room for two jobs of two layers each, not for one job.
  const auto instructions_of = [](const mapper::DataflowMapping& m) {
    std::uint64_t n = 0;
    for (const auto* cores : {&m.program.cube_cores, &m.program.vector_cores}) {
      for (const auto& core : *cores) n += core.instructions.size();
    }
    return n;
  };
  const std::uint64_t cap = instructions_of(whole) * 6 / 10;
  const auto cut = mapper::map_chunked_prefill(tiny.step, tiny.build_chunk, view, options, 2, 4, 2, cap);
  ASSERT_TRUE(cut.applies) << cut.reason;
  ASSERT_EQ(cut.segments.size(), 2u) << cut.reason;
  EXPECT_NE(cut.reason.find("cut into 2 jobs of whole layers (0-1, 2-3)"), std::string::npos) << cut.reason;
  ASSERT_EQ(cut.stages.size(), whole.stages.size());
  for (std::size_t j = 0; j < cut.stages.size(); ++j) EXPECT_EQ(cut.stages[j].name, whole.stages[j].name);

  const PipelineRun one = simulate(tiny.step, whole, options);
  const PipelineRun jobs = simulate(tiny.step, cut, options);
  EXPECT_EQ(one.jobs, 1u);
  EXPECT_EQ(jobs.jobs, 2u);
  std::printf("2 stages x 4 chunks: one job %.2f us, cut into 2 jobs %.2f us\n", one.seconds * 1e6,
              jobs.seconds * 1e6);
  // Two pipelines each fill and drain: no faster than one.
  EXPECT_GT(jobs.seconds, 0.97 * one.seconds);

  const auto four = mapper::map_chunked_prefill(tiny.step, tiny.build_chunk, view, options, 4, 4, 2,
                                                mapper::kMaxJobInstructions);
  ASSERT_TRUE(four.applies) << four.reason;
  const auto refused = mapper::map_chunked_prefill(tiny.step, tiny.build_chunk, view, options, 4, 4, 2,
                                                   instructions_of(four) * 6 / 10);
  EXPECT_FALSE(refused.applies);
  EXPECT_NE(refused.reason.find("more than the"), std::string::npos) << refused.reason;
  EXPECT_NE(refused.reason.find("fewer than the 4 stages"), std::string::npos) << refused.reason;
}

// Decode stays one micro-batch, even with a chunk builder, and says why;
// asking for one chunk keeps the one-micro-batch pipeline for a prefill.
TEST(ChunkedPrefill, DecodeAndOneChunkStayOneMicroBatch) {
  const auto view = run_machine_view(hw_910b2());
  const TinyPrefill decode(workloads::Phase::decode);
  const auto d = mapper::map_layer_pipeline(decode.step, view, mapper::MapperOptions{}, 0,
                                            mapper::kMaxJobInstructions, decode.build_chunk);
  ASSERT_TRUE(d.applies) << d.reason;
  EXPECT_EQ(d.micro_batches, 1u);
  EXPECT_TRUE(d.chunk_graphs.empty());
  EXPECT_NE(d.reason.find("a decode step has 1 token per sequence"), std::string::npos) << d.reason;

  const TinyPrefill prefill;
  mapper::MapperOptions one;
  one.pipeline.prefill_chunks = 1;
  const auto p = mapper::map_layer_pipeline(prefill.step, view, one, 2, mapper::kMaxJobInstructions,
                                            prefill.build_chunk);
  ASSERT_TRUE(p.applies) << p.reason;
  EXPECT_EQ(p.micro_batches, 1u);
  EXPECT_NE(p.reason.find("prefill_chunks: 1"), std::string::npos) << p.reason;
}

// With chunks left to the cost model, it weighs stage and chunk counts,
// one micro-batch among them, and names what it weighed; auto then puts
// the chosen pipeline's estimate against kernel-by-kernel's and says which.
TEST(ChunkedPrefill, TheCostModelWeighsChunkCountsAndAutoSaysWhy) {
  const TinyPrefill tiny;
  const auto view = run_machine_view(hw_910b2());
  const auto d = mapper::map_layer_pipeline(tiny.step, view, mapper::MapperOptions{}, 0,
                                            mapper::kMaxJobInstructions, tiny.build_chunk);
  ASSERT_TRUE(d.applies) << d.reason;
  EXPECT_NE(d.reason.find("cost model, stages x chunks, fastest first"), std::string::npos) << d.reason;
  double kernel = 0;
  mapper::GemmTilingCache cache;
  mapper::for_each_kernel_job(tiny.step, view, cache, mapper::MapperOptions{},
                              [&](mapper::Job& job) { kernel += job.estimated_seconds; });
  const auto mode = mapper::choose_mode("auto", kernel, d);
  EXPECT_EQ(mode.dataflow, d.estimated_seconds < kernel);
  EXPECT_NE(mode.reason.find(mode.dataflow ? "auto: dataflow" : "auto: kernel-by-kernel"), std::string::npos)
      << mode.reason;

  // A pipeline no faster than what it must beat is not built, and says so.
  const auto unbuilt = mapper::map_layer_pipeline(tiny.step, view, mapper::MapperOptions{}, 0,
                                                  mapper::kMaxJobInstructions, tiny.build_chunk,
                                                  0.5 * d.estimated_seconds);
  EXPECT_FALSE(unbuilt.applies);
  EXPECT_TRUE(unbuilt.program.cube_cores.empty());
  EXPECT_NE(unbuilt.reason.find("so it was not built"), std::string::npos) << unbuilt.reason;
  const auto fallback = mapper::choose_mode("auto", 0.5 * d.estimated_seconds, unbuilt);
  EXPECT_FALSE(fallback.dataflow);
  EXPECT_NE(fallback.reason.find("re-reads its stage's weights"), std::string::npos) << fallback.reason;
}

// The pipeline options are read from the mapper file; too few hand-off
// slots are an error naming the file, line and key.
TEST(ChunkedPrefill, PipelineOptionsAreReadAndValidatedWithFileAndLine) {
  const std::string path = scratch_dir() + "/pipeline_options.yaml";
  std::ofstream(path) << "pipeline:\n  stages: 2\n  prefill_chunks: 8\n  handoff_slots: 3\n";
  const auto o = mapper::load_mapper_options(path);
  EXPECT_EQ(o.pipeline.stages, 2u);
  EXPECT_EQ(o.pipeline.prefill_chunks, 8u);
  EXPECT_EQ(o.pipeline.handoff_slots, 3u);
  std::ofstream(path) << "pipeline:\n  prefill_chunks: 8\n  handoff_slots: 1\n";
  try {
    mapper::load_mapper_options(path);
    ADD_FAILURE() << "handoff_slots: 1 was accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path + ":3"), std::string::npos) << message;
    EXPECT_NE(message.find("handoff_slots"), std::string::npos) << message;
    EXPECT_NE(message.find("at least 2"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace npusim::test
