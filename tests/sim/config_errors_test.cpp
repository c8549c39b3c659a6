// Bad hardware configs stop `npusim validate` with exit code 2 and a message
// naming the file, the line, the YAML path and what was expected.
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "support/test_paths.h"

namespace npusim::test {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The default config with one line replaced, written to a scratch file whose
// tech path still resolves (the file sits next to a copy of configs/tech).
std::string variant(const std::string& dir, const std::string& from, const std::string& to) {
  std::string text = read_file(source_path("configs/hw/ascend-910b2.yaml"));
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "the default config no longer contains: " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  text = std::regex_replace(text, std::regex("tech: \\.\\./tech/7nm.yaml"),
                            "tech: " + source_path("configs/tech/7nm.yaml"));
  const std::string path = dir + "/bad.yaml";
  std::ofstream(path) << text;
  return path;
}

int line_of(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find(needle) != std::string::npos) return n;
  }
  return 0;
}

struct BadConfig {
  std::string name;
  std::string from;
  std::string to;
  std::string yaml_path;   // must appear in the message
  std::string expected;    // must appear in the message
  std::string line_needle; // the message names the line holding this text
};

void PrintTo(const BadConfig& c, std::ostream* os) { *os << c.name; }

class ConfigErrors : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ConfigErrors, NameFileLinePathAndExpectationWithExitTwo) {
  const BadConfig& c = GetParam();
  const std::string dir = scratch_dir();
  const std::string path = variant(dir, c.from, c.to);
  const auto r = run_command(npusim_binary() + " validate " + path);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(c.yaml_path), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
  const int line = line_of(path, c.line_needle);
  ASSERT_GT(line, 0);
  EXPECT_NE(r.err.find(path + ":" + std::to_string(line) + ":"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, ConfigErrors,
    ::testing::Values(
        BadConfig{"word_for_count", "cube_cores: 24", "cube_cores: twenty-four", "core.cube_cores",
                  "expected a positive integer, got \"twenty-four\"", "cube_cores: twenty-four"},
        BadConfig{"clock_without_unit", "clock: 1.8 GHz                  # npu-smi", "clock: 1800  # npu-smi",
                  "core.clock", "expected a frequency with a unit", "clock: 1800"},
        BadConfig{"unknown_key", "cube_fill_drain_cycles: 32", "cube_fill_drian_cycles: 32",
                  "core.cube_fill_drian_cycles", "did you mean 'cube_fill_drain_cycles'", "cube_fill_drian_cycles"},
        BadConfig{"size_bad_unit", "l1: 512 KiB", "l1: 512 KB/s", "core.buffers.l1", "expected a size",
                  "l1: 512 KB/s"},
        BadConfig{"negative_size", "ub: 192 KiB", "ub: -192 KiB", "core.buffers.ub", "expected a size",
                  "ub: -192 KiB"},
        BadConfig{"bad_style", "style: split", "style: fused", "core.style", "split", "style: fused"},
        BadConfig{"bad_dram_preset", "preset: HBM2E", "preset: HBM9", "hbm.preset", "HBM2", "preset: HBM9"},
        BadConfig{"bad_page_policy", "page_policy: open", "page_policy: ajar", "hbm.page_policy", "open",
                  "page_policy: ajar"},
        BadConfig{"bad_mapping", "address_mapping: RoBaBgCoCh", "address_mapping: RoRoCoCh", "hbm.address_mapping",
                  "expected", "address_mapping: RoRoCoCh"},
        BadConfig{"bad_l2_impl", "impl: cache", "impl: magic", "l2.impl", "cache", "impl: magic"},
        BadConfig{"bad_noc_impl", "impl: crossbar", "impl: torus", "noc.impl", "crossbar", "impl: torus"},
        BadConfig{"bandwidth_without_unit", "bandwidth: 8 TB/s", "bandwidth: 8 # no unit", "l2.bandwidth", "expected",
                  "bandwidth: 8 # no unit"},
        BadConfig{"bad_cube_shape", "int8: [16, 32, 16]", "int8: [16, 32]", "core.cube.int8", "expected",
                  "int8: [16, 32]"}),
    [](const ::testing::TestParamInfo<BadConfig>& info) { return info.param.name; });

TEST(ConfigErrorsMissing, MissingFileIsBadInput) {
  const auto r = run_command(npusim_binary() + " validate /nonexistent/hw.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/hw.yaml: cannot open file"), std::string::npos) << r.err;
}

TEST(ConfigErrorsMissing, YamlSyntaxErrorNamesTheLine) {
  const std::string dir = scratch_dir();
  const std::string path = dir + "/broken.yaml";
  std::ofstream(path) << "name: x\ncore:\n  clock: [1.8 GHz\n";
  const auto r = run_command(npusim_binary() + " validate " + path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(path + ":"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("YAML syntax error"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace npusim::test
