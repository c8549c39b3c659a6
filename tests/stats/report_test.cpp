#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "common/error.h"
#include "stats/report/report.h"
#include "stats/store/results_store.h"
#include "support/test_paths.h"

namespace npusim::stats {
namespace {

RunResult run(const std::string& hw, std::uint64_t batch, const std::string& compression, double tokens_per_s,
              std::optional<double> energy_per_token) {
  RunResult r;
  r.npusim_version = "0.1.0";
  r.hw = hw;
  r.model = "llama-8b";
  r.phase = hw == "sn40l" ? "prefill" : "decode";
  r.batch = batch;
  r.seq = 2048;
  r.mapping = "kernel-by-kernel";
  r.compression = compression;
  r.fidelity = "exact";
  r.seconds = 0.5;
  r.tokens_per_s = tokens_per_s;
  r.energy_per_token_j = energy_per_token;
  if (energy_per_token) {
    r.energy_breakdown_j = {{"cube", 0.1 * static_cast<double>(batch)}, {"hbm", 0.3}};
    r.energy_j = r.energy_breakdown_j["cube"] + r.energy_breakdown_j["hbm"];
  }
  r.utilization = {{"cube", 0.25}};
  return r;
}

// Three runs with round numbers, stored in an order unlike the report's.
std::string known_db() {
  const std::string db = test::scratch_dir() + "/runs.db";
  ResultStore store(db, ResultStore::Mode::read_write);
  store.put("c", run("sn40l", 1, "none", 8192, std::nullopt));
  store.put("b", run("ascend-910b2", 32, "w4a8", 1280, 0.0234375));
  store.put("a", run("ascend-910b2", 8, "w8a8", 640, 0.05));
  return db;
}

std::string report(const ReportOptions& o) {
  std::ostringstream out;
  EXPECT_EQ(report_command(o, out), 0);
  return out.str();
}

TEST(Report, PrintsChosenColumnsAlignedOneRowPerRun) {
  ReportOptions o;
  o.db = known_db();
  o.columns = split_columns("hw, model,batch,compression,tokens_per_s,energy_per_token_j");
  EXPECT_EQ(report(o),
            "hw            model     batch  compression  tokens_per_s  energy_per_token_j\n"
            "------------  --------  -----  -----------  ------------  ------------------\n"
            "ascend-910b2  llama-8b      8  w8a8                  640                0.05\n"
            "ascend-910b2  llama-8b     32  w4a8                 1280           0.0234375\n"
            "sn40l         llama-8b      1  none                 8192                   -\n"
            "(3 of 3 runs)\n");
}

TEST(Report, FiltersWithWhereConditions) {
  ReportOptions o;
  o.db = known_db();
  o.columns = {"hw", "batch", "energy.cube"};
  o.where = {"hw=ascend-910b2", "batch>=16"};
  EXPECT_EQ(report(o),
            "hw            batch  energy.cube\n"
            "------------  -----  -----------\n"
            "ascend-910b2     32          3.2\n"
            "(1 of 3 runs)\n");
  o.where = {"hw!=ascend-910b2"};
  EXPECT_NE(report(o).find("sn40l"), std::string::npos);
  o.where = {"util.cube<0.5", "tokens_per_s>1000"};
  EXPECT_NE(report(o).find("(2 of 3 runs)"), std::string::npos);
}

TEST(Report, DefaultColumnsShowShortHashes) {
  ReportOptions o;
  o.db = known_db();
  const std::string text = report(o);
  EXPECT_EQ(text.rfind("run_hash      hw            model     phase", 0), 0u) << text;
  EXPECT_NE(text.find(ResultStore::key("a").substr(0, 12) + "  ascend-910b2"), std::string::npos) << text;
}

TEST(Report, ExportsCsv) {
  ReportOptions o;
  o.db = known_db();
  o.columns = {"hw", "batch", "compression", "tokens_per_s", "energy_per_token_j", "run_hash"};
  o.csv = o.db + ".csv";
  report(o);
  std::ifstream in(*o.csv);
  const std::string csv((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(csv,
            "hw,batch,compression,tokens_per_s,energy_per_token_j,run_hash\n"
            "ascend-910b2,8,w8a8,640,0.05," + ResultStore::key("a") + "\n"
            "ascend-910b2,32,w4a8,1280,0.0234375," + ResultStore::key("b") + "\n"
            "sn40l,1,none,8192,," + ResultStore::key("c") + "\n");
}

TEST(Report, CsvQuotesFieldsThatNeedIt) {
  const std::string db = test::scratch_dir() + "/q.db";
  RunResult r = run("ascend-910b2", 1, "w8a8", 1, 1.0);
  r.mapping_reason = "fits, \"barely\"";
  ResultStore(db, ResultStore::Mode::read_write).put("q", r);
  ReportOptions o;
  o.db = db;
  o.columns = {"mapping_reason"};
  o.csv = db + ".csv";
  report(o);
  std::ifstream in(*o.csv);
  const std::string csv((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(csv, "mapping_reason\n\"fits, \"\"barely\"\"\"\n");
}

TEST(Report, UnknownColumnListsValidOnes) {
  ReportOptions o;
  o.db = known_db();
  o.columns = {"hw", "speed"};
  try {
    report_command(o, std::cout);
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("unknown column 'speed'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("valid columns: "), std::string::npos) << msg;
    EXPECT_NE(msg.find("tokens_per_s"), std::string::npos) << msg;
    EXPECT_NE(msg.find("energy.cube"), std::string::npos) << msg;
  }
  o.columns = {};
  o.where = {"sped>3"};
  EXPECT_THROW(report_command(o, std::cout), InputError);
  o.where = {"no operator here"};
  EXPECT_THROW(report_command(o, std::cout), InputError);
}

TEST(Report, MissingDatabaseIsAnInputError) {
  ReportOptions o;
  o.db = test::scratch_dir() + "/absent.db";
  try {
    report_command(o, std::cout);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(o.db), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace npusim::stats

namespace npusim::stats {
namespace {

// Any stored counter is a column, so a sweep's table can show e.g. the
// compression summary's weight bytes beside tokens/s.
TEST(Report, CountersAreColumnsByName) {
  const std::string db = test::scratch_dir() + "/counters.db";
  {
    ResultStore store(db, ResultStore::Mode::read_write);
    RunResult r = run("ascend-910b2", 1, "w4a8", 290, 0.5);
    r.counters["compression.weight_bytes.hbm"] = {3669450752.0, "B", "stored weight bytes"};
    store.put("w4a8", r);
    store.put("w16", run("ascend-910b2", 1, "none", 96, 1.3));
  }
  ReportOptions o;
  o.db = db;
  o.columns = split_columns("compression,counter.compression.weight_bytes.hbm");
  EXPECT_EQ(report(o),
            "compression  counter.compression.weight_bytes.hbm\n"
            "-----------  ------------------------------------\n"
            "none                                            -\n"
            "w4a8                                  3.66945e+09\n"
            "(2 of 2 runs)\n");
  o.columns = {"counter.no.such"};
  try {
    report_command(o, std::cout);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("counter.<name> for any of the 1 stored counters"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace npusim::stats
