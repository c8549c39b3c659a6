// The plot scripts run on inputs the library writes, producing real PNGs;
// bad input fails with exit code 2 and a message naming the file.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "stats/summary_json.h"
#include "tests/stats/sample_runs.h"

namespace npusim::stats {
namespace {

const char* kPython = "/usr/bin/python3";

bool have_matplotlib() {
  return test::run_command(std::string(kPython) + " -c 'import matplotlib, numpy'").exit_code == 0;
}

test::CommandResult plot(const std::string& script, const std::string& args) {
  return test::run_command(fmt::format("{} {} {}", kPython, test::source_path("scripts/" + script), args));
}

void expect_png(const test::CommandResult& r, const std::string& png) {
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(png, std::ios::binary);
  std::string head(8, '\0');
  in.read(head.data(), 8);
  EXPECT_EQ(head, "\x89PNG\r\n\x1a\n");
  EXPECT_GT(std::filesystem::file_size(png), 10000u);
}

#define REQUIRE_MATPLOTLIB() \
  if (!have_matplotlib()) GTEST_SKIP() << kPython << " lacks matplotlib/numpy"

TEST(StatsPlots, EnergyFromSummaryAndDatabase) {
  REQUIRE_MATPLOTLIB();
  const std::string dir = test::scratch_dir();
  write_summary_json(test::make_sample_run(), dir + "/summary.json");
  test::write_sample_sweep(dir + "/results.db");
  expect_png(plot("plot_energy.py", dir + "/summary.json " + dir + "/energy_summary.png"), dir + "/energy_summary.png");
  expect_png(plot("plot_energy.py", dir + "/results.db " + dir + "/energy_db.png --per-token --where \"batch=8\""),
             dir + "/energy_db.png");
}

TEST(StatsPlots, Roofline) {
  REQUIRE_MATPLOTLIB();
  const std::string dir = test::scratch_dir();
  test::SampleSpec s;
  s.batch = 64;  // matmuls, attention and vector ops at three distinct intensities
  write_summary_json(test::make_sample_run(s), dir + "/summary.json");
  expect_png(plot("plot_roofline.py", dir + "/summary.json " + dir + "/roofline.png"), dir + "/roofline.png");
}

TEST(StatsPlots, UtilizationFromTrace) {
  REQUIRE_MATPLOTLIB();
  const std::string dir = test::scratch_dir();
  test::write_sample_trace(dir + "/trace.json");
  expect_png(plot("plot_utilization.py", dir + "/trace.json " + dir + "/utilization.png --bins 80"),
             dir + "/utilization.png");
}

TEST(StatsPlots, Pareto) {
  REQUIRE_MATPLOTLIB();
  const std::string dir = test::scratch_dir();
  test::write_sample_sweep(dir + "/results.db");
  expect_png(plot("plot_pareto.py", dir + "/results.db " + dir + "/pareto.png"), dir + "/pareto.png");
}

TEST(StatsPlots, BadInputExitsTwoNamingTheFile) {
  REQUIRE_MATPLOTLIB();
  const std::string dir = test::scratch_dir();
  std::ofstream(dir + "/junk.json") << "{ not json";
  std::ofstream(dir + "/junk.db") << "SQLite format 3" << std::string(200, '\0');
  std::ofstream(dir + "/other.json") << "{\"hello\": 1}";
  for (const auto& [script, input] : std::vector<std::pair<std::string, std::string>>{
           {"plot_energy.py", "junk.json"}, {"plot_energy.py", "missing.json"}, {"plot_energy.py", "junk.db"},
           {"plot_roofline.py", "other.json"}, {"plot_utilization.py", "other.json"},
           {"plot_pareto.py", "junk.json"}, {"plot_pareto.py", "missing.db"}}) {
    const auto r = plot(script, dir + "/" + input + " " + dir + "/out.png");
    EXPECT_EQ(r.exit_code, 2) << script << " " << input << "\n" << r.err;
    EXPECT_NE(r.err.find(dir + "/" + input), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("Traceback"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace npusim::stats
