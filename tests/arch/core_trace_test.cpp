// Trace hooks of a running core: each pipe's busy time lands on its own
// track as slices labelled with the op name, merged when back to back.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/trace_sink.h"
#include "tests/arch/core_harness.h"
#include "tests/arch/core_test_support.h"

namespace npusim::arch {
namespace {

using namespace test;

class RecordingSink : public TraceSink {
 public:
  struct Slice {
    int track;
    std::string label;
    Tick begin, end;
  };

  int track(const std::string& process, const std::string& thread) override {
    const auto key = std::make_pair(process, thread);
    const auto it = ids_.find(key);
    if (it != ids_.end()) return it->second;
    tracks.push_back(key);
    return ids_[key] = static_cast<int>(tracks.size()) - 1;
  }
  void slice(int track, const char* label, Tick begin, Tick end) override {
    slices.push_back({track, label, begin, end});
  }
  void counter(const std::string&, Tick, double) override {}

  int id(const std::string& process, const std::string& thread) const {
    const auto it = ids_.find({process, thread});
    return it == ids_.end() ? -1 : it->second;
  }
  std::vector<Slice> on(int track) const {
    std::vector<Slice> out;
    for (const Slice& s : slices) {
      if (s.track == track) out.push_back(s);
    }
    return out;
  }

  std::vector<std::pair<std::string, std::string>> tracks;
  std::vector<Slice> slices;

 private:
  std::map<std::pair<std::string, std::string>, int> ids_;
};

// Slices of one track are in time order, do not overlap, and never leave
// two neighbours that should have merged; returns their total length.
Tick check_track(const std::vector<RecordingSink::Slice>& slices) {
  Tick total = 0;
  for (std::size_t i = 0; i < slices.size(); ++i) {
    EXPECT_LT(slices[i].begin, slices[i].end);
    if (i > 0) {
      EXPECT_GE(slices[i].begin, slices[i - 1].end);
      EXPECT_FALSE(slices[i].begin == slices[i - 1].end && slices[i].label == slices[i - 1].label)
          << "unmerged neighbours at " << slices[i].begin;
    }
    total += slices[i].end - slices[i].begin;
  }
  return total;
}

TEST(CoreTrace, SlicesPerPipeCoverExactlyItsBusyCyclesAndCarryOpNames) {
  // 1 GHz: a cycle is 1000 ps, so busy cycles and slice lengths compare
  // exactly; the test memory is faster than every core path, so each GM
  // transfer lasts a whole number of path cycles.
  const CoreConfig config = config_from_yaml("{clock: 1 GHz}");
  CoreGroupHarness h(config);
  RecordingSink sink;
  h.aic().set_trace(&sink);

  const GemmTile tile;
  CoreProgram p = double_buffered_gemm(tile, 8, 0);
  const std::size_t half = p.instructions.size() / 2;
  for (std::size_t i = 0; i < p.instructions.size(); ++i) p.instructions[i].op_tag = i < half ? 0 : 1;
  const std::vector<std::string> names = {"layers.0.q_proj", "layers.0.k_proj"};
  h.aic().load(p, &names);
  sc_core::sc_start();
  ASSERT_TRUE(h.aic().finished()) << h.aic().blocked_report();

  // One track per pipe the AIC has, named (core, pipe).
  const std::vector<Pipe> pipes = {Pipe::scalar, Pipe::mte1, Pipe::mte2, Pipe::cube, Pipe::fixpipe};
  EXPECT_EQ(sink.tracks.size(), pipes.size());
  for (Pipe pipe : pipes) {
    const int track = sink.id("aic0", pipe_name(pipe));
    ASSERT_GE(track, 0) << pipe_name(pipe);
    const auto slices = sink.on(track);
    EXPECT_FALSE(slices.empty()) << pipe_name(pipe);
    EXPECT_EQ(check_track(slices), h.aic().pipe_busy_cycles(pipe) * 1000) << pipe_name(pipe);
    for (const auto& s : slices) {
      EXPECT_TRUE(s.label == names[0] || s.label == names[1]) << s.label;
      EXPECT_LE(s.end, h.aic().pipe_finish_tick(pipe));
    }
  }
  // The scalar issues back to back and MTE2 (the bottleneck here) streams
  // without a gap: one slice per op each.
  EXPECT_EQ(sink.on(sink.id("aic0", "scalar")).size(), 2u);
  EXPECT_EQ(sink.on(sink.id("aic0", "mte2")).size(), 2u);
  // The cube waits for every load, so its mmads stay separate slices.
  EXPECT_EQ(sink.on(sink.id("aic0", "cube")).size(), 8u);
}

TEST(CoreTrace, WithoutNamesSlicesCarryOpcodesAndNullSinkStopsTracing) {
  const CoreConfig config = config_from_yaml("{}");
  CoreGroupHarness h(config);
  RecordingSink sink;
  AiCore& aiv = h.aiv(0);
  aiv.set_trace(&sink);
  CoreProgram p;
  p.instructions.push_back(gm_load(0, 16 * KiB, Buffer::ub, 0));
  p.instructions.push_back(set_flag(Pipe::mte2, Pipe::vector, 0));
  p.instructions.push_back(wait_flag(Pipe::mte2, Pipe::vector, 0));
  p.instructions.push_back(vector_op(VectorOpKind::exp, 8 * 1024, DType::fp16, 0, 16 * KiB));
  p.instructions.push_back(set_flag(Pipe::vector, Pipe::mte3, 0));
  p.instructions.push_back(wait_flag(Pipe::vector, Pipe::mte3, 0));
  p.instructions.push_back(store(0, 16 * KiB, 16 * KiB));
  aiv.load(p);
  sc_core::sc_start();
  ASSERT_TRUE(aiv.finished()) << aiv.blocked_report();

  std::set<std::string> threads;
  for (const auto& [process, thread] : sink.tracks) {
    EXPECT_EQ(process, "aiv0");
    threads.insert(thread);
  }
  EXPECT_EQ(threads, (std::set<std::string>{"scalar", "mte2", "mte3", "vector"}));
  const auto label_of = [&](const char* thread) {
    const auto slices = sink.on(sink.id("aiv0", thread));
    return slices.size() == 1 ? slices[0].label : std::string("?");
  };
  EXPECT_EQ(label_of("mte2"), "load");
  EXPECT_EQ(label_of("vector"), "vector_op");
  EXPECT_EQ(label_of("mte3"), "store");
  EXPECT_EQ(label_of("scalar"), "issue");
  // The pipes run one after another, each starting when its input is ready.
  const auto first = [&](const char* thread) { return sink.on(sink.id("aiv0", thread)).at(0); };
  EXPECT_EQ(first("vector").begin, first("mte2").end);
  EXPECT_EQ(first("mte3").begin, first("vector").end);
  EXPECT_EQ(first("mte3").end, aiv.pipe_finish_tick(Pipe::mte3));

  const std::size_t before = sink.slices.size();
  aiv.set_trace(nullptr);
  aiv.load(p);
  sc_core::sc_start();
  ASSERT_TRUE(aiv.finished());
  EXPECT_EQ(sink.slices.size(), before);
}

}  // namespace
}  // namespace npusim::arch
