// Sampled fidelity held to exact: on models small enough to run both, the
// sampled time is within its own error estimate of the exact one and within
// 3 %, its cube work equals the graph's exactly, and it costs fewer events.
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/run/sampling.h"
#include "support/test_paths.h"

namespace npusim::test {
namespace {

using nlohmann::json;

constexpr double kBound = 0.03;  // the stated bound on |sampled - exact| / exact

json run_json(const std::string& args, const std::string& out) {
  const auto r = run_command(npusim_binary() + " run --quiet --hw " + source_path("configs/hw/ascend-910b2.yaml") +
                             " " + args + " --json " + out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

void expect_sampled_matches_exact(const std::string& args, const std::string& name) {
  const std::string dir = scratch_dir();
  const json exact = run_json(args, dir + "/" + name + "-exact.json");
  const json sampled = run_json(args + " --fidelity sampled", dir + "/" + name + "-sampled.json");
  ASSERT_EQ(sampled["fidelity"], "sampled");
  ASSERT_TRUE(sampled.contains("sampling"));
  ASSERT_FALSE(exact.contains("sampling"));
  const json& s = sampled["sampling"];

  const double t_exact = exact["seconds"].get<double>();
  const double t_sampled = sampled["seconds"].get<double>();
  const double error = std::abs(t_sampled - t_exact);
  // The estimate is a 95 % half-width from the spread of the sampled layers:
  // it misses one run in twenty by design and cannot see a bias every sample
  // shares (state left by skipped layers), so one run is held to twice it —
  // an estimate overconfident by more than that is wrong — and to kBound.
  EXPECT_LE(error, 2 * s["error_estimate_seconds"].get<double>())
      << name << ": exact " << t_exact << " s, sampled " << t_sampled << " s";
  EXPECT_LE(error / t_exact, kBound) << name << ": exact " << t_exact << " s, sampled " << t_sampled << " s";
  EXPECT_NEAR(s["error_estimate_relative"].get<double>(), s["error_estimate_seconds"].get<double>() / t_sampled,
              1e-12);

  // Cube work is the graph's, exactly: simulated ops plus the skipped ones.
  EXPECT_EQ(sampled["flops"].get<double>(), exact["flops"].get<double>()) << name;
  // Traffic is extrapolated like time, so it lands near the exact figure.
  const double hbm_exact = exact["bytes"]["hbm"]["read"].get<double>();
  EXPECT_NEAR(sampled["bytes"]["hbm"]["read"].get<double>() / hbm_exact, 1.0, kBound) << name;

  // Fewer layers ran, and it shows in the events.
  std::size_t layers = 0, simulated = 0;
  for (const auto& c : s["layer_classes"]) {
    layers += c["layers"].size();
    simulated += c["simulated"].size();
    const std::set<int> members(c["layers"].begin(), c["layers"].end());
    for (const auto& l : c["simulated"]) EXPECT_TRUE(members.count(l.get<int>())) << "sampled layer not in its class";
  }
  EXPECT_LT(simulated + s["warmup_layers"].size(), layers) << name;
  EXPECT_LT(sampled["simulator"]["events"].get<double>(), 0.6 * exact["simulator"]["events"].get<double>()) << name;
  EXPECT_LT(s["simulated_seconds"].get<double>(), t_sampled) << name;
}

TEST(SampledFidelity, DenseLlamaPrefillWithinItsEstimateOfExact) {
  expect_sampled_matches_exact("--model " + source_path("tests/data/models/small-llama.yaml") +
                                   " --phase prefill --seq 256",
                               "llama-prefill");
}

// Fused causal attention executes fewer flops than its ops count; the
// skipped layers are taken to skip as many as the sampled ones did.
TEST(SampledFidelity, FusedCausalPrefillCountsTheExecutedFlops) {
  const std::string dir = scratch_dir();
  const std::string args = "--model " + source_path("tests/data/models/small-llama.yaml") +
                           " --phase prefill --seq 512 --mapper " + source_path("configs/mapper/fused.yaml");
  const json exact = run_json(args, dir + "/exact.json");
  const json sampled = run_json(args + " --fidelity sampled", dir + "/sampled.json");
  ASSERT_TRUE(sampled.contains("sampling"));
  double macs = 0;
  for (const auto& [dtype, n] : exact["activity"]["macs_by_dtype"].items()) macs += n.get<double>();
  EXPECT_EQ(exact["flops"].get<double>(), 2 * macs);
  EXPECT_EQ(sampled["flops"].get<double>(), exact["flops"].get<double>());
}

// Split-KV decode: each layer's attention runs as a fused job and a combine
// job that shares its op; neither may count the op's graph FLOPs twice or
// skip them when the sampled layers are extrapolated.
TEST(SampledFidelity, SplitKvDecodeCountsTheExecutedFlops) {
  const std::string dir = scratch_dir();
  std::ifstream in(source_path("tests/data/models/small-llama.yaml"));
  std::stringstream text;
  text << in.rdbuf();
  std::string model = text.str();
  const std::string mha = "num_kv_heads: 16";
  ASSERT_NE(model.find(mha), std::string::npos);
  model.replace(model.find(mha), mha.size(), "num_kv_heads: 4");  // 4 KV heads leave most of 24 cores idle
  std::ofstream(dir + "/small-gqa.yaml") << model;
  const std::string args = "--model " + dir + "/small-gqa.yaml --phase decode --seq 4096 --mapper " +
                           source_path("configs/mapper/fused.yaml");
  const json exact = run_json(args, dir + "/exact.json");
  const json sampled = run_json(args + " --fidelity sampled", dir + "/sampled.json");
  ASSERT_TRUE(sampled.contains("sampling"));
  bool split = false;
  for (const auto& op : exact["ops"]) split |= op["name"].get<std::string>().find("split_kv_combine") != std::string::npos;
  ASSERT_TRUE(split) << "the cost model no longer splits this decode's keys";
  double macs = 0;
  for (const auto& [dtype, n] : exact["activity"]["macs_by_dtype"].items()) macs += n.get<double>();
  EXPECT_EQ(exact["flops"].get<double>(), 2 * macs);
  EXPECT_EQ(sampled["flops"].get<double>(), exact["flops"].get<double>());
}

TEST(SampledFidelity, DenseLlamaDecodeWithinItsEstimateOfExact) {
  expect_sampled_matches_exact("--model " + source_path("tests/data/models/small-llama.yaml") +
                                   " --phase decode --seq 1024",
                               "llama-decode");
}

TEST(SampledFidelity, MoeQwenDecodeWithinItsEstimateOfExact) {
  expect_sampled_matches_exact("--model " + source_path("configs/models/qwen1.5-moe-a2.7b.yaml") +
                                   " --phase decode --seq 256",
                               "qwen-moe-decode");
}

TEST(SampledFidelity, DecodeStepsAreSampledToo) {
  const std::string dir = scratch_dir();
  const std::string args = "--model " + source_path("tests/data/models/small-llama.yaml") +
                           " --phase decode --seq 512 --steps 6";
  const json exact = run_json(args, dir + "/exact.json");
  const json sampled = run_json(args + " --fidelity sampled --sample-steps 2", dir + "/sampled.json");
  const json& s = sampled["sampling"];
  EXPECT_EQ(s["steps"].get<int>(), 6);
  ASSERT_EQ(s["simulated_steps"].size(), 2u);
  const double t_exact = exact["seconds"].get<double>();
  const double error = std::abs(sampled["seconds"].get<double>() - t_exact);
  EXPECT_LE(error, s["error_estimate_seconds"].get<double>());
  EXPECT_LE(error / t_exact, kBound);
  EXPECT_EQ(sampled["flops"].get<double>(), exact["flops"].get<double>());
  EXPECT_EQ(sampled["tokens"].get<double>(), exact["tokens"].get<double>());
}

TEST(SampledFidelity, BadSamplingFlagsAreBadInputNamingTheFlag) {
  const std::string base = npusim_binary() + " run --quiet --hw " + source_path("configs/hw/ascend-910b2.yaml") +
                           " --model " + source_path("tests/data/models/small-llama.yaml");
  struct Case {
    std::string flags;
    std::string names;
  };
  for (const Case& c : {Case{"--fidelity sampled --sample-layers 1", "--sample-layers"},
                        Case{"--fidelity sampled --sample-layers -3", "--sample-layers"},
                        Case{"--fidelity sampled --sample-layers many", "--sample-layers"},
                        Case{"--fidelity sampled --sample-steps 0", "--sample-steps"},
                        Case{"--sample-layers 4", "--fidelity sampled"},
                        Case{"--fidelity sampled --mapping dataflow", "--mapping kernel"}}) {
    const auto r = run_command(base + " " + c.flags);
    EXPECT_EQ(r.exit_code, 2) << c.flags;
    EXPECT_NE(r.err.find(c.names), std::string::npos) << c.flags << ": " << r.err;
  }
}

// The picks cover every stratum once, in order, and repeat run to run.
TEST(SampledFidelity, SpreadSampleDrawsOnePerStratum) {
  const auto picks = spread_sample(24, 3, 7);
  ASSERT_EQ(picks.size(), 3u);
  for (std::size_t i = 0; i < picks.size(); ++i) {
    EXPECT_GE(picks[i], i * 8);
    EXPECT_LT(picks[i], (i + 1) * 8);
  }
  EXPECT_EQ(picks, spread_sample(24, 3, 7));
  EXPECT_EQ(spread_sample(2, 3, 7), (std::vector<std::size_t>{0, 1}));
}

}  // namespace
}  // namespace npusim::test
