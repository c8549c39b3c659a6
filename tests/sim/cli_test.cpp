// The command line as a user meets it: every shipped config validates,
// identical runs give identical JSON, unbuilt options refuse clearly.
#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_paths.h"

namespace npusim::test {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Cli, ValidateAcceptsEveryShippedConfig) {
  std::string files;
  for (const char* dir :
       {"configs/hw", "configs/models", "configs/workloads", "configs/tech", "configs/compression", "configs/mapper"}) {
    for (const auto& entry : std::filesystem::directory_iterator(source_path(dir))) {
      if (entry.path().extension() == ".yaml") files += " " + entry.path().string();
    }
  }
  const auto r = run_command(npusim_binary() + " validate" + files);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("hw ascend-910b2"), std::string::npos);
  EXPECT_NE(r.out.find("chip peak 353.9 TFLOPS"), std::string::npos) << "910B2 fp16 peak is 353.8 TFLOPS [A17]";
  EXPECT_NE(r.out.find("compression plan w4a8-g128"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mapper options"), std::string::npos) << r.out;
}

TEST(Cli, VersionAndHelp) {
  auto r = run_command(npusim_binary() + " --version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("npusim 0."), std::string::npos);
  r = run_command(npusim_binary() + " --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* sub : {"run", "validate", "list", "graph", "report"}) {
    EXPECT_NE(r.out.find(sub), std::string::npos) << sub;
  }
}

TEST(Cli, ListShowsComponentsAndParametersWithUnits) {
  const auto r = run_command(npusim_binary() + " list");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"HBM2E", "fr-fcfs", "crossbar", "mesh", "cache", "scratchpad", "event-table", "llama"}) {
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
  }
  EXPECT_NE(r.out.find("cube_cores"), std::string::npos);
  EXPECT_NE(r.out.find("[B/cycle]"), std::string::npos);
}

TEST(Cli, BadFlagsAreBadInput) {
  auto r = run_command(npusim_binary() + " run --hw x.yaml");
  EXPECT_EQ(r.exit_code, 2) << "missing --model";
  r = run_command(npusim_binary() + " run --hw x.yaml --model y.yaml --phase train");
  EXPECT_EQ(r.exit_code, 2);
  r = run_command(npusim_binary() + " run --hw x.yaml --model y.yaml --batch 0");
  EXPECT_EQ(r.exit_code, 2);
  r = run_command(npusim_binary() + " frobnicate");
  EXPECT_EQ(r.exit_code, 2);
}

// An explicit graph has no layers, so sampled fidelity has nothing to leave
// out: it simulates everything and reports no error.
TEST(Cli, SampledFidelityOnAGraphWithoutLayersIsExact) {
  const std::string dir = scratch_dir();
  const std::string base = npusim_binary() + " run --quiet --hw " + source_path("configs/hw/ascend-910b2.yaml") +
                           " --model " + source_path("configs/workloads/matmul.yaml");
  ASSERT_EQ(run_command(base + " --json " + dir + "/exact.json").exit_code, 0);
  const auto r = run_command(base + " --fidelity sampled --json " + dir + "/sampled.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto exact = nlohmann::json::parse(read_file(dir + "/exact.json"));
  const auto sampled = nlohmann::json::parse(read_file(dir + "/sampled.json"));
  EXPECT_EQ(sampled["seconds"], exact["seconds"]);
  EXPECT_EQ(sampled["flops"], exact["flops"]);
  EXPECT_EQ(sampled["sampling"]["error_estimate_seconds"].get<double>(), 0.0);
  EXPECT_TRUE(sampled["sampling"]["layer_classes"].empty());
}

TEST(Cli, AHardwareConfigGivenAsACompressionPlanIsBadInput) {
  const auto r = run_command(npusim_binary() + " run --hw " + source_path("configs/hw/ascend-910b2.yaml") +
                             " --model " + source_path("configs/workloads/matmul.yaml") + " --compression " +
                             source_path("configs/hw/ascend-910b2.yaml"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("ascend-910b2.yaml:"), std::string::npos) << r.err;
}

TEST(Cli, IdenticalRunsGiveIdenticalJson) {
  const std::string dir = scratch_dir();
  const std::string base = npusim_binary() + " run --quiet --hw " + source_path("configs/hw/ascend-910b2.yaml") +
                           " --model " + source_path("configs/workloads/mlp.yaml") + " --phase prefill --json ";
  ASSERT_EQ(run_command(base + dir + "/a.json").exit_code, 0);
  ASSERT_EQ(run_command(base + dir + "/b.json").exit_code, 0);
  auto a = nlohmann::json::parse(read_file(dir + "/a.json"));
  auto b = nlohmann::json::parse(read_file(dir + "/b.json"));
  // Wall time is the simulator's, not the simulated machine's.
  a.erase("simulator");
  b.erase("simulator");
  EXPECT_EQ(a.dump(), b.dump());
  for (const char* field : {"npusim_version", "hw", "model", "phase", "batch", "seq", "steps", "cycles", "seconds",
                            "tokens_per_s", "energy_j", "energy_breakdown_j", "bytes", "utilization"}) {
    EXPECT_TRUE(a.contains(field)) << field;
  }
  EXPECT_GT(a["cycles"].get<double>(), 0);
  EXPECT_TRUE(a["utilization"].contains("cube"));
  EXPECT_TRUE(a["utilization"].contains("vector"));
  EXPECT_TRUE(a["utilization"].contains("hbm_bandwidth"));
}

}  // namespace
}  // namespace npusim::test

namespace npusim::test {
namespace {

// Every shipped machine runs the MLP block end to end, whatever its tiers
// (HBM only, DDR only, SRAM + HBM + DDR).
TEST(Cli, EveryShippedMachineRunsTheMlpBlock) {
  for (const auto& entry : std::filesystem::directory_iterator(source_path("configs/hw"))) {
    if (entry.path().extension() != ".yaml") continue;
    const auto r = run_command(npusim_binary() + " run --quiet --hw " + entry.path().string() + " --model " +
                               source_path("configs/workloads/mlp.yaml") + " --phase prefill");
    EXPECT_EQ(r.exit_code, 0) << entry.path() << ": " << r.err;
  }
}

}  // namespace
}  // namespace npusim::test

namespace npusim::test {
namespace {

// A run asked for a trace writes valid Chrome JSON with a track per core
// pipe and per DRAM pseudo-channel, and the run's JSON and DB row beside it.
TEST(Cli, RunWritesTraceJsonAndDatabaseRow) {
  const std::string dir = scratch_dir();
  const auto r = run_command(npusim_binary() + " run --quiet --hw " + source_path("configs/hw/ascend-910b2.yaml") +
                             " --model " + source_path("configs/workloads/mlp.yaml") + " --phase prefill --json " +
                             dir + "/s.json --db " + dir + "/runs.db --trace " + dir + "/trace.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto trace = nlohmann::json::parse(read_file(dir + "/trace.json"));
  std::set<std::string> processes, threads;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "process_name") processes.insert(e["args"]["name"].get<std::string>());
    if (e["ph"] == "M" && e["name"] == "thread_name") threads.insert(e["args"]["name"].get<std::string>());
  }
  for (const char* p : {"aic0", "aiv0", "hbm"}) EXPECT_TRUE(processes.count(p)) << p;
  for (const char* t : {"cube", "mte2", "fixpipe", "vector", "pc0"}) EXPECT_TRUE(threads.count(t)) << t;
  const auto report = run_command(npusim_binary() + " report " + dir + "/runs.db --columns hw,model,status");
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_NE(report.out.find("ascend-910b2"), std::string::npos) << report.out;
  EXPECT_NE(report.out.find("(1 of 1 runs)"), std::string::npos) << report.out;
}

}  // namespace
}  // namespace npusim::test

namespace npusim::test {
namespace {

// A resumed sweep: the same run with --skip-stored is found in the database
// and not simulated again, while a different mapper config is a new point
// (it changes the mapping, so it is part of the run's identity).
TEST(Cli, SkipStoredSkipsOnlyTheExactRunAlreadyInTheDatabase) {
  const std::string dir = scratch_dir();
  const std::string base = npusim_binary() + " run --quiet --hw " + source_path("configs/hw/ascend-910b2.yaml") +
                           " --model " + source_path("configs/workloads/mlp.yaml") + " --phase prefill --db " + dir +
                           "/runs.db --skip-stored";
  ASSERT_EQ(run_command(base).exit_code, 0);
  auto again = run_command(npusim_binary() + " run --hw " + source_path("configs/hw/ascend-910b2.yaml") + " --model " +
                           source_path("configs/workloads/mlp.yaml") + " --phase prefill --db " + dir +
                           "/runs.db --skip-stored");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("already stored"), std::string::npos) << again.out;
  ASSERT_EQ(run_command(base + " --mapper " + source_path("configs/mapper/confirm.yaml")).exit_code, 0);
  const auto report = run_command(npusim_binary() + " report " + dir + "/runs.db --columns hw,counter.driver.jobs");
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_NE(report.out.find("(2 of 2 runs)"), std::string::npos) << report.out;

  const auto no_db = run_command(npusim_binary() + " run --quiet --hw " + source_path("configs/hw/ascend-910b2.yaml") +
                                 " --model " + source_path("configs/workloads/mlp.yaml") + " --skip-stored");
  EXPECT_EQ(no_db.exit_code, 2);
  EXPECT_NE(no_db.err.find("--skip-stored needs --db"), std::string::npos) << no_db.err;
}

}  // namespace
}  // namespace npusim::test

namespace npusim::test {
namespace {

// Asked to confirm its top four, the mapper simulates four dataflow
// candidates of an op chain on the probe machine, and the summary says
// which it kept; without the option nothing is simulated.
TEST(Cli, ConfirmTopSimulatesTheBestDataflowCandidatesAndNamesTheOneKept) {
  const std::string dir = scratch_dir();
  const std::string base = npusim_binary() + " run --quiet --hw " + source_path("configs/hw/ascend-910b2.yaml") +
                           " --model " + source_path("tests/data/mapper/mlp-chain-small.yaml") +
                           " --phase prefill --mapping dataflow --json ";
  const auto confirmed = run_command(base + dir + "/confirmed.json --mapper " + source_path("configs/mapper/confirm.yaml"));
  ASSERT_EQ(confirmed.exit_code, 0) << confirmed.err;
  const auto plain = run_command(base + dir + "/plain.json");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const auto c = nlohmann::json::parse(read_file(dir + "/confirmed.json"));
  const auto p = nlohmann::json::parse(read_file(dir + "/plain.json"));
  EXPECT_EQ(c["counters"]["driver.dataflow_confirmations"]["value"].get<double>(), 4.0);
  EXPECT_EQ(p["counters"]["driver.dataflow_confirmations"]["value"].get<double>(), 0.0);
  const std::string reason = c["mapping_reason"].get<std::string>();
  EXPECT_NE(reason.find("fastest of the model's top 4"), std::string::npos) << reason;
  EXPECT_EQ(p["mapping_reason"].get<std::string>().find("simulated"), std::string::npos);
}

}  // namespace
}  // namespace npusim::test
