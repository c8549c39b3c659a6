// The chunked-prefill layer pipeline from the command line: a mapper file
// asks for stages and chunks, the run says what it did, and its work is
// kernel-by-kernel's by closed form.
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_paths.h"

namespace npusim::test {
namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

// tiny-llama-4l prefill of 512 tokens: in 4 chunks on 4 stages as asked,
// its FLOPs are kernel-by-kernel's with the attention ops' scaled by
// (C+1)/(2C) (causal attention over chunks; chunked_prefill_test.cpp);
// auto weighs the pipeline against kernel-by-kernel and says which won.
TEST(ChunkedPrefillCli, AMapperFileAsksForChunksAndTheRunReportsThem) {
  const std::string dir = scratch_dir();
  const std::string mapper = dir + "/chunks.yaml";
  std::ofstream(mapper) << "pipeline:\n  stages: 4\n  prefill_chunks: 4\n  handoff_slots: 2\n";
  const std::string base = npusim_binary() + " run --quiet --hw " + source_path("configs/hw/ascend-910b2.yaml") +
                           " --model " + source_path("tests/data/models/tiny-llama-4l.yaml") +
                           " --phase prefill --seq 512 --json ";
  const auto chunked = run_command(base + dir + "/chunked.json --mapping dataflow --mapper " + mapper);
  ASSERT_EQ(chunked.exit_code, 0) << chunked.err;
  const auto kernel = run_command(base + dir + "/kernel.json --mapping kernel");
  ASSERT_EQ(kernel.exit_code, 0) << kernel.err;
  const auto automatic = run_command(base + dir + "/auto.json --mapping auto --mapper " + mapper);
  ASSERT_EQ(automatic.exit_code, 0) << automatic.err;

  const auto c = read_json(dir + "/chunked.json");
  const auto k = read_json(dir + "/kernel.json");
  const auto a = read_json(dir + "/auto.json");
  const std::string reason = c["mapping_reason"].get<std::string>();
  EXPECT_NE(reason.find("prefill in 4 chunks of 128 tokens through 4 stages"), std::string::npos) << reason;
  double attention = 0;
  for (const auto& op : k["ops"]) {
    const std::string kind = op["kind"].get<std::string>();
    if (kind == "attention_score" || kind == "softmax" || kind == "attention_context") {
      attention += op["flops"].get<double>();
    }
  }
  ASSERT_GT(attention, 0);
  const double expected = k["flops"].get<double>() - attention + attention * 5.0 / 8.0;
  EXPECT_NEAR(c["flops"].get<double>(), expected, 1e-9 * expected);
  EXPECT_GT(c["tokens_per_s"].get<double>(), 0);

  const std::string why = a["mapping_reason"].get<std::string>();
  const bool dataflow = a["mapping"].get<std::string>() == "dataflow";
  EXPECT_NE(why.find(dataflow ? "auto: dataflow" : "auto: kernel-by-kernel"), std::string::npos) << why;
  EXPECT_NE(why.find(dataflow ? "outweighs re-reading" : "re-reads its stage's weights"), std::string::npos) << why;
}

}  // namespace
}  // namespace npusim::test
