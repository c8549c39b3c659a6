#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "stats/summary_json.h"
#include "tests/stats/sample_runs.h"

namespace npusim::stats {
namespace {

using nlohmann::json;

TEST(Summary, HasEveryStableFieldName) {
  const json j = summary_json(test::make_sample_run());
  std::vector<std::string> keys;
  for (const auto& kv : j.items()) keys.push_back(kv.key());
  std::vector<std::string> expected = summary_fields();
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys, expected);
  for (const char* required : {"npusim_version", "hw", "model", "phase", "batch", "seq", "steps", "mapping",
                               "mapping_reason", "compression", "fidelity", "cycles", "seconds", "tokens_per_s",
                               "energy_j", "energy_per_token_j", "energy_breakdown_j", "bytes", "utilization",
                               "flops", "ops", "counters", "simulator", "peak_flops_per_s", "peak_bandwidth_Bps"}) {
    EXPECT_TRUE(j.contains(required)) << required;
  }
  ASSERT_FALSE(j["ops"].empty());
  std::vector<std::string> op_keys;
  for (const auto& kv : j["ops"][0].items()) op_keys.push_back(kv.key());
  std::vector<std::string> expected_op = summary_op_fields();
  std::sort(expected_op.begin(), expected_op.end());
  EXPECT_EQ(op_keys, expected_op);
  EXPECT_TRUE(j["bytes"]["hbm"].contains("read"));
  EXPECT_TRUE(j["bytes"]["hbm"].contains("written"));
  EXPECT_TRUE(j["simulator"].contains("wall_seconds"));
  EXPECT_TRUE(j["simulator"].contains("events"));
  EXPECT_TRUE(j["energy_breakdown_j"].contains("static"));
}

TEST(Summary, ValuesRoundTrip) {
  const RunResult r = test::make_sample_run();
  const json j = json::parse(summary_json_text(r));
  EXPECT_EQ(j["energy_j"].get<double>(), *r.energy_j);
  EXPECT_EQ(j["tokens_per_s"].get<double>(), *r.tokens_per_s);
  EXPECT_EQ(j["cycles"].get<std::uint64_t>(), r.cycles);
  EXPECT_EQ(j["ops"][0]["arithmetic_intensity"].get<double>(), r.ops[0].arithmetic_intensity());
  EXPECT_EQ(j["bytes"]["hbm"]["read"].get<std::uint64_t>(), r.bytes.at("hbm").read);
}

TEST(Summary, TokensAndEnergyAreNullWhereTheyDoNotApply) {
  RunResult r;
  r.phase = "graph";
  const json j = summary_json(r);
  EXPECT_TRUE(j["tokens_per_s"].is_null());
  EXPECT_TRUE(j["energy_j"].is_null());
  EXPECT_TRUE(j["energy_per_token_j"].is_null());
  EXPECT_TRUE(j["energy_breakdown_j"].is_object());
  EXPECT_TRUE(j["ops"].is_array());
}

TEST(Summary, IdenticalRunsAreByteIdenticalExceptSimulator) {
  RunResult a = test::make_sample_run();
  RunResult b = test::make_sample_run();
  b.wall_seconds = 99.5;
  b.sim_events = 7;
  EXPECT_NE(summary_json_text(a), summary_json_text(b));
  json ja = summary_json(a), jb = summary_json(b);
  ja.erase("simulator");
  jb.erase("simulator");
  EXPECT_EQ(ja.dump(2), jb.dump(2));
  b.wall_seconds = a.wall_seconds;
  b.sim_events = a.sim_events;
  EXPECT_EQ(summary_json_text(a), summary_json_text(b));
}

TEST(Summary, WritesFileAndPrintsText) {
  const RunResult r = test::make_sample_run();
  const std::string path = test::scratch_dir() + "/summary.json";
  write_summary_json(r, path);
  std::ifstream in(path);
  EXPECT_EQ(json::parse(in)["hw"], "ascend-910b2");
  std::ostringstream text;
  print_summary_text(r, text, 3);
  const std::string s = text.str();
  for (const char* needle : {"hw ascend-910b2", "model llama-3-8b", "decode batch 8 seq 2048", "tokens/s",
                             "energy", "/token)", "static", "hbm", "top ops by time (3 of 16)"}) {
    EXPECT_NE(s.find(needle), std::string::npos) << needle << "\n" << s;
  }
}

}  // namespace
}  // namespace npusim::stats
