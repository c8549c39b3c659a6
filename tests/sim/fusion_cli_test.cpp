// The fused lowerings end to end on every shipped machine (split, coupled,
// DDR-only, three-tier): a run with attention and SwiGLU fused finishes,
// reports the fused jobs, and does exactly the flops of the unfused run.
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

TEST(FusionCli, EveryShippedMachineRunsTheFusedLoweringsWithTheSameFlops) {
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
      EXPECT_DOUBLE_EQ(fused["flops"].get<double>(), unfused["flops"].get<double>());
      EXPECT_GT(fused["tokens_per_s"].get<double>(), 0);
    }
  }
}

}  // namespace
}  // namespace npusim::test
