#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "stats/trace/chrome_trace.h"
#include "support/test_paths.h"

namespace npusim::stats {
namespace {

using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);  // throws on invalid JSON, failing the test
}

std::vector<json> events(const json& trace, const std::string& ph) {
  std::vector<json> out;
  for (const auto& e : trace.at("traceEvents")) {
    if (e.at("ph") == ph) out.push_back(e);
  }
  return out;
}

TEST(Trace, WritesNamedTracksSlicesAndCounters) {
  const std::string path = test::scratch_dir() + "/trace.json";
  {
    ChromeTraceWriter w(path);
    const int cube = w.track("core0", "cube");
    const int mte2 = w.track("core0", "mte2");
    const int ch5 = w.track("hbm", "ch5");
    EXPECT_EQ(w.track("core0", "cube"), cube);  // same name, same id
    w.slice(mte2, "layer0.qkv_proj", 0, 1'500'000);
    w.slice(cube, "layer0.qkv_proj", 1'000'000, 3'000'001);
    w.slice(ch5, "read", 250, 750);
    w.counter("hbm.bandwidth_GBps", 2'000'000, 812.5);
  }
  const json t = read_json(path);
  EXPECT_EQ(t.at("displayTimeUnit"), "ns");
  std::map<int, std::string> processes;
  std::set<std::string> threads;
  for (const auto& m : events(t, "M")) {
    if (m.at("name") == "process_name") processes[m.at("pid")] = m.at("args").at("name");
    if (m.at("name") == "thread_name") {
      threads.insert(processes.at(m.at("pid")) + "." + m.at("args").at("name").get<std::string>());
    }
  }
  EXPECT_EQ(threads, (std::set<std::string>{"core0.cube", "core0.mte2", "hbm.ch5"}));
  const auto slices = events(t, "X");
  ASSERT_EQ(slices.size(), 3u);
  EXPECT_EQ(slices[1].at("name"), "layer0.qkv_proj");
  EXPECT_DOUBLE_EQ(slices[1].at("ts").get<double>(), 1.0);          // 1,000,000 ps = 1 us
  EXPECT_DOUBLE_EQ(slices[1].at("dur").get<double>(), 2.000001);    // ps resolution kept
  EXPECT_DOUBLE_EQ(slices[2].at("ts").get<double>(), 0.00025);
  const auto counters = events(t, "C");
  ASSERT_EQ(counters.size(), 1u);
  EXPECT_EQ(processes.at(counters[0].at("pid")), "counters");
  EXPECT_EQ(counters[0].at("args").at("value"), 812.5);
  EXPECT_EQ(t.at("otherData").at("truncated"), false);
  EXPECT_EQ(t.at("otherData").at("events_written"), 4);
}

TEST(Trace, RespectsTheEventBound) {
  const std::string path = test::scratch_dir() + "/bounded.json";
  TraceLimits limits;
  limits.max_events = 100;
  std::uint64_t dropped = 0;
  {
    ChromeTraceWriter w(path, limits);
    const int track = w.track("core0", "vector");
    for (Tick i = 0; i < 1000; ++i) w.slice(track, "op", i * 10, i * 10 + 5);
    w.counter("late", 20000, 1.0);
    dropped = w.events_dropped();
  }
  EXPECT_EQ(dropped, 901u);
  const json t = read_json(path);
  EXPECT_EQ(events(t, "X").size(), 100u);
  EXPECT_EQ(t.at("otherData").at("truncated"), true);
  EXPECT_EQ(t.at("otherData").at("max_events"), 100);
  EXPECT_EQ(t.at("otherData").at("events_dropped"), 901);
}

TEST(Trace, ClipsToTheTimeWindow) {
  const std::string path = test::scratch_dir() + "/window.json";
  TraceLimits limits;
  limits.window_begin = 1'000'000;
  limits.window_end = 2'000'000;
  {
    ChromeTraceWriter w(path, limits);
    const int track = w.track("core1", "cube");
    w.slice(track, "before", 0, 500'000);
    w.slice(track, "crosses-begin", 900'000, 1'100'000);
    w.slice(track, "inside", 1'200'000, 1'300'000);
    w.slice(track, "crosses-end", 1'900'000, 2'500'000);
    w.slice(track, "after", 2'000'000, 2'100'000);
    w.counter("early", 10, 1);
    w.counter("inside", 1'500'000, 2);
  }
  const json t = read_json(path);
  const auto slices = events(t, "X");
  ASSERT_EQ(slices.size(), 3u);
  EXPECT_EQ(slices[0].at("name"), "crosses-begin");
  EXPECT_DOUBLE_EQ(slices[0].at("ts").get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(slices[0].at("dur").get<double>(), 0.1);
  EXPECT_DOUBLE_EQ(slices[2].at("ts").get<double>() + slices[2].at("dur").get<double>(), 2.0);
  EXPECT_EQ(events(t, "C").size(), 1u);
  EXPECT_EQ(t.at("otherData").at("truncated"), false);
  EXPECT_DOUBLE_EQ(t.at("otherData").at("window").at("begin_us").get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(t.at("otherData").at("window").at("end_us").get<double>(), 2.0);
}

TEST(Trace, AnyLabelBytesGiveValidJson) {
  const std::string path = test::scratch_dir() + "/labels.json";
  const std::string weird = std::string("quote\" back\\slash\nnewline\ttab \x01 bad\xff\xfe utf8 \xc3\xa9 ") + "\xe2\x82";
  {
    ChromeTraceWriter w(path);
    const int track = w.track("proc \"x\"", weird);
    w.slice(track, weird.c_str(), 1, 2);
    w.slice(track, nullptr, 3, 4);
  }
  const json t = read_json(path);
  const auto slices = events(t, "X");
  ASSERT_EQ(slices.size(), 2u);
  const std::string name = slices[0].at("name");
  EXPECT_EQ(name.rfind("quote\" back\\slash\nnewline\ttab \x01 bad", 0), 0u);
  EXPECT_NE(name.find("\xc3\xa9"), std::string::npos);  // valid UTF-8 kept
  EXPECT_NE(name.find("\xef\xbf\xbd"), std::string::npos);  // invalid bytes replaced
  EXPECT_EQ(slices[1].at("name"), "");
}

TEST(Trace, EmptyTraceIsValidAndUnwritablePathIsInputError) {
  const std::string path = test::scratch_dir() + "/empty.json";
  { ChromeTraceWriter w(path); }
  const json t = read_json(path);
  EXPECT_TRUE(t.at("traceEvents").empty());
  EXPECT_THROW(ChromeTraceWriter("/nonexistent-dir/x/trace.json"), InputError);
}

TEST(Trace, CloseIsIdempotentAndLaterEventsAreIgnored) {
  const std::string path = test::scratch_dir() + "/closed.json";
  ChromeTraceWriter w(path);
  const int track = w.track("a", "b");
  w.slice(track, "x", 0, 1);
  w.close();
  w.slice(track, "y", 2, 3);
  w.track("late", "track");
  w.close();
  const json t = read_json(path);
  EXPECT_EQ(events(t, "X").size(), 1u);
}

}  // namespace
}  // namespace npusim::stats
