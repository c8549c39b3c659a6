// The fused lowerings end to end on every shipped machine (split, coupled,
// DDR-only, three-tier): a run with attention and SwiGLU fused finishes,
// reports the fused jobs, and reports the flops its cube executed: the
// unfused run's in decode, fewer by the skipped causal tiles in prefill.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_paths.h"

namespace npusim::test {
namespace {

nlohmann::json run_json(const std::string& hw, const std::string& mapper, const std::string& phase,
                        const std::string& out) {
  const auto r = run_command(npusim_binary() + " run --quiet --hw " + hw + " --model " +
                             source_path("tests/data/models/tiny-llama.yaml") + " --phase " + phase +
                             " --batch 2 --seq 256 --mapper " + source_path("configs/mapper/" + mapper) +
                             " --json " + out);
  EXPECT_EQ(r.exit_code, 0) << hw << " " << mapper << " " << phase << ": " << r.err;
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

TEST(FusionCli, EveryShippedMachineRunsTheFusedLoweringsWithTheCubesFlops) {
  const std::string dir = scratch_dir();
  for (const auto& entry : std::filesystem::directory_iterator(source_path("configs/hw"))) {
    if (entry.path().extension() != ".yaml") continue;
    for (const std::string phase : {"prefill", "decode"}) {
      SCOPED_TRACE(entry.path().string() + " " + phase);
      const auto fused = run_json(entry.path().string(), "fused.yaml", phase, dir + "/fused.json");
      const auto unfused = run_json(entry.path().string(), "unfused.yaml", phase, dir + "/unfused.json");
      std::multiset<std::string> kinds;
      for (const auto& op : fused["ops"]) kinds.insert(op["kind"].get<std::string>());
      const std::size_t steps = phase == "decode" ? fused["steps"].get<std::size_t>() : 1;
      EXPECT_EQ(kinds.count("FusedAttention"), 2 * steps);  // one per layer and step
      EXPECT_EQ(kinds.count("FusedSwiGLU"), 2 * steps);
      EXPECT_EQ(kinds.count("softmax"), 0u);
      EXPECT_EQ(kinds.count("swiglu"), 0u);
      // The flops reported are the cube's: twice the MACs it counted.
      double macs = 0;
      for (const auto& [dtype, n] : fused["activity"]["macs_by_dtype"].items()) macs += n.get<double>();
      EXPECT_DOUBLE_EQ(fused["flops"].get<double>(), 2 * macs);
      if (phase == "decode") {
        EXPECT_DOUBLE_EQ(fused["flops"].get<double>(), unfused["flops"].get<double>());
      } else {
        // Causal prefill skips the key tiles above the diagonal; the unfused
        // score GEMM computes the full square.
        EXPECT_LT(fused["flops"].get<double>(), unfused["flops"].get<double>());
      }
      if (entry.path().filename() == "ascend-910b2.yaml" && phase == "prefill") {
        // 128 x 128 tiles; a group is 2 heads x 256 tokens, head-major, so
        // its 4 query blocks need 1, 2, 1, 2 of 2 key tiles: 2 skipped per
        // group, 2 sequences x 2 KV heads groups, 2 layers, head_dim 64.
        const double skipped = 2.0 * 4 * 2 * 128 * 128 * (64 + 64);
        EXPECT_DOUBLE_EQ(unfused["flops"].get<double>() - fused["flops"].get<double>(), 2 * skipped);
      }
      EXPECT_GT(fused["tokens_per_s"].get<double>(), 0);
    }
  }
}

}  // namespace
}  // namespace npusim::test
