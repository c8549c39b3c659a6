#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "common/error.h"
#include "stats/store/results_store.h"
#include "stats/store/schema.h"
#include "stats/store/sha256.h"
#include "tests/stats/sample_runs.h"

namespace npusim::stats {
namespace {

std::int64_t count(const std::string& db, const std::string& table) {
  Database d(db, true);
  Statement s(d, "SELECT count(*) FROM " + table);
  s.step();
  return std::get<std::int64_t>(s.column(0));
}

void expect_input_error_naming(const std::string& path, ResultStore::Mode mode, const std::string& needle) {
  try {
    ResultStore store(path, mode);
    FAIL() << "no error for " << path;
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ":", 0), 0u) << msg;  // starts with the file name
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

TEST(StoreSha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // 55 and 56 bytes straddle the padding boundary.
  EXPECT_EQ(sha256_hex(std::string(55, 'x')).size(), 64u);
  EXPECT_NE(sha256_hex(std::string(55, 'x')), sha256_hex(std::string(56, 'x')));
}

TEST(Store, SameRunStoredTwiceIsOneRow) {
  const std::string db = test::scratch_dir() + "/results.db";
  const test::SampleSpec spec;
  const RunResult r = test::make_sample_run(spec);
  const std::string identity = test::sample_identity(spec);
  {
    ResultStore store(db, ResultStore::Mode::read_write);
    EXPECT_TRUE(store.put(identity, r));
    EXPECT_FALSE(store.put(identity, r));
  }
  {
    ResultStore again(db, ResultStore::Mode::read_write);  // a resumed sweep
    EXPECT_FALSE(again.put(identity, r));
    EXPECT_EQ(again.run_count(), 1);
  }
  EXPECT_EQ(count(db, "runs"), 1);
  EXPECT_EQ(count(db, "ops"), static_cast<std::int64_t>(r.ops.size()));
  EXPECT_EQ(count(db, "units"), static_cast<std::int64_t>(r.utilization.size()));
  EXPECT_EQ(count(db, "energy"), static_cast<std::int64_t>(r.energy_breakdown_j.size()));
  EXPECT_EQ(count(db, "counters"), static_cast<std::int64_t>(r.counters.size()));
  EXPECT_EQ(count(db, "tiers"), static_cast<std::int64_t>(r.bytes.size()));
}

TEST(Store, LookupFindsDoneAndFailedPoints) {
  const std::string db = test::scratch_dir() + "/results.db";
  ResultStore store(db, ResultStore::Mode::read_write);
  test::SampleSpec a;
  test::SampleSpec b;
  b.batch = 64;
  const std::string ka = ResultStore::key(test::sample_identity(a));
  const std::string kb = ResultStore::key(test::sample_identity(b));
  EXPECT_NE(ka, kb);
  EXPECT_FALSE(store.lookup(ka));
  store.put(test::sample_identity(a), test::make_sample_run(a));
  RunResult partial;
  partial.hw = b.hw;
  partial.model = b.model;
  store.put_failed(test::sample_identity(b), partial, "L1 overflow: tile needs 600 KiB of 512 KiB");
  const auto done = store.lookup(ka);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, "ok");
  EXPECT_EQ(done->failure, "");
  const auto failed = store.lookup(kb);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, "failed");
  EXPECT_EQ(failed->failure, "L1 overflow: tile needs 600 KiB of 512 KiB");
  EXPECT_FALSE(store.lookup(ResultStore::key("something else")));
}

TEST(Store, PersistsTheSummaryAndOpRows) {
  const std::string db = test::scratch_dir() + "/results.db";
  const RunResult r = test::make_sample_run();
  const std::string identity = "identity-1";
  ResultStore(db, ResultStore::Mode::read_write).put(identity, r);
  Database d(db, true);
  Statement s(d, "SELECT name, kind, layer, flops, bound FROM ops WHERE run_hash = ? ORDER BY idx");
  s.bind(1, ResultStore::key(identity));
  for (const auto& op : r.ops) {
    ASSERT_TRUE(s.step());
    EXPECT_EQ(std::get<std::string>(s.column(0)), op.name);
    EXPECT_EQ(std::get<std::string>(s.column(1)), op.kind);
    EXPECT_EQ(std::get<std::int64_t>(s.column(2)), op.layer);
    EXPECT_EQ(std::get<double>(s.column(3)), op.flops);
    EXPECT_EQ(std::get<std::string>(s.column(4)), op.bound);
  }
  EXPECT_FALSE(s.step());
  Statement e(d, "SELECT energy_j, summary_json FROM runs");
  ASSERT_TRUE(e.step());
  EXPECT_EQ(std::get<double>(e.column(0)), *r.energy_j);
  const auto summary = nlohmann::json::parse(std::get<std::string>(e.column(1)));
  EXPECT_EQ(summary["hw"], r.hw);
}

TEST(Store, UsesWalAndReadersDoNotBlockTheWriter) {
  const std::string db = test::scratch_dir() + "/results.db";
  ResultStore writer(db, ResultStore::Mode::read_write);
  writer.put("first", test::make_sample_run());
  {
    Database check(db, true);
    Statement mode(check, "PRAGMA journal_mode");
    ASSERT_TRUE(mode.step());
    EXPECT_EQ(std::get<std::string>(mode.column(0)), "wal");
  }
  // A reader holds an open read transaction while the writer commits.
  Database reader(db, true);
  reader.exec("BEGIN");
  Statement before(reader, "SELECT count(*) FROM runs");
  ASSERT_TRUE(before.step());
  EXPECT_EQ(std::get<std::int64_t>(before.column(0)), 1);
  before.reset();
  sqlite3_busy_timeout(reader.raw(), 0);
  test::SampleSpec other;
  other.batch = 2;
  EXPECT_TRUE(writer.put("second", test::make_sample_run(other)));
  // The reader's snapshot is unchanged until it ends its transaction.
  ASSERT_TRUE(before.step());
  EXPECT_EQ(std::get<std::int64_t>(before.column(0)), 1);
  before.reset();
  reader.exec("COMMIT");
  EXPECT_EQ(ResultStore(db, ResultStore::Mode::read_only).run_count(), 2);
}

TEST(Store, MissingDatabaseIsAnInputErrorNamingTheFile) {
  const std::string path = test::scratch_dir() + "/nothing-here.db";
  expect_input_error_naming(path, ResultStore::Mode::read_only, "no such results database");
}

TEST(Store, CorruptDatabaseIsAnInputErrorNamingTheFile) {
  const std::string path = test::scratch_dir() + "/corrupt.db";
  std::ofstream(path) << std::string(8192, 'x') << "this is not an SQLite file";
  expect_input_error_naming(path, ResultStore::Mode::read_only, "not a database");
  expect_input_error_naming(path, ResultStore::Mode::read_write, "not a database");
}

TEST(Store, ForeignOrEmptyDatabaseIsRejected) {
  const std::string dir = test::scratch_dir();
  const std::string foreign = dir + "/foreign.db";
  Database(foreign, false).exec("CREATE TABLE people (name TEXT)");
  expect_input_error_naming(foreign, ResultStore::Mode::read_write, "not an npusim results database");
  const std::string empty = dir + "/empty.db";
  std::ofstream(empty).flush();
  expect_input_error_naming(empty, ResultStore::Mode::read_only, "empty database");
}

TEST(Store, WrongSchemaVersionIsRejected) {
  const std::string path = test::scratch_dir() + "/old.db";
  ResultStore(path, ResultStore::Mode::read_write).put("x", test::make_sample_run());
  Database(path, false).exec("UPDATE schema_version SET version = 99");
  expect_input_error_naming(path, ResultStore::Mode::read_only, "schema version 99");
  expect_input_error_naming(path, ResultStore::Mode::read_write, "schema version 99");
}

}  // namespace
}  // namespace npusim::stats
