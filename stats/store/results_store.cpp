#include "stats/store/results_store.h"

#include <filesystem>

#include <fmt/format.h>

#include "common/error.h"
#include "stats/store/schema.h"
#include "stats/store/sha256.h"
#include "stats/summary_json.h"

namespace npusim::stats {
namespace {

// Rolls back unless committed, so an exception mid-run leaves no partial run.
class Transaction {
 public:
  explicit Transaction(const Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!done_) {
      try {
        db_.exec("ROLLBACK");
      } catch (...) {
        // Already failing; the original exception is the one to report.
      }
    }
  }
  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }

 private:
  const Database& db_;
  bool done_ = false;
};

bool table_exists(const Database& db, const std::string& name) {
  Statement s(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  s.bind(1, name);
  return s.step();
}

}  // namespace

ResultStore::ResultStore(const std::string& path, Mode mode) {
  const bool read_only = mode == Mode::read_only;
  if (read_only && !std::filesystem::exists(path)) {
    throw InputError(fmt::format("{}: no such results database", path));
  }
  db_ = std::make_unique<Database>(path, read_only);
  if (!read_only) db_->exec("PRAGMA journal_mode=WAL");
  check_schema(!read_only);
}

void ResultStore::check_schema(bool create) {
  // The first read of the header is where a file that is not SQLite fails.
  if (!table_exists(*db_, "schema_version")) {
    Statement count(*db_, "SELECT count(*) FROM sqlite_master");
    count.step();
    const bool empty = std::get<std::int64_t>(count.column(0)) == 0;
    if (!empty) throw InputError(fmt::format("{}: not an npusim results database (no schema_version table)", path()));
    if (!create) throw InputError(fmt::format("{}: empty database, no results stored", path()));
  }
  if (create) {
    Transaction t(*db_);
    for (const char* sql : kSchemaStatements) db_->exec(sql);
    Statement rows(*db_, "SELECT count(*) FROM schema_version");
    rows.step();
    if (std::get<std::int64_t>(rows.column(0)) == 0) {
      Statement insert(*db_, "INSERT INTO schema_version (version) VALUES (?)");
      insert.bind(1, kSchemaVersion).run();
    }
    t.commit();
  }
  Statement version(*db_, "SELECT version FROM schema_version");
  if (!version.step()) throw InputError(fmt::format("{}: schema_version table is empty", path()));
  const Cell v = version.column(0);
  const auto* number = std::get_if<std::int64_t>(&v);
  if (!number || *number != kSchemaVersion || version.step()) {
    throw InputError(fmt::format("{}: results database has schema version {}, this npusim reads version {}", path(),
                                 number ? std::to_string(*number) : "(not a number)", kSchemaVersion));
  }
}

std::string ResultStore::key(const std::string& identity) { return sha256_hex(identity); }

bool ResultStore::put(const std::string& identity, const RunResult& result) {
  return insert(identity, result, nullptr);
}

bool ResultStore::put_failed(const std::string& identity, const RunResult& result, const std::string& reason) {
  return insert(identity, result, &reason);
}

bool ResultStore::insert(const std::string& identity, const RunResult& r, const std::string* failure) {
  const std::string hash = key(identity);
  Transaction t(*db_);
  Statement run(*db_,
                "INSERT OR IGNORE INTO runs (run_hash, identity, status, failure, npusim_version, hw, model, phase,"
                " batch, seq, steps, mapping, mapping_reason, compression, fidelity, cycles, seconds, tokens,"
                " tokens_per_s, flops, peak_flops_per_s, peak_bandwidth_Bps, energy_j, energy_per_token_j,"
                " wall_seconds, sim_events, summary_json)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  const auto opt = [](const std::optional<double>& v) { return v ? Cell(*v) : Cell(); };
  const auto u64 = [](std::uint64_t v) { return Cell(static_cast<std::int64_t>(v)); };
  const std::vector<Cell> values = {
      hash, identity, std::string(failure ? "failed" : "ok"), failure ? Cell(*failure) : Cell(),
      r.npusim_version, r.hw, r.model, r.phase, u64(r.batch), u64(r.seq), u64(r.steps),
      r.mapping, r.mapping_reason, r.compression, r.fidelity, u64(r.cycles), r.seconds, opt(r.tokens),
      opt(r.tokens_per_s), r.flops, opt(r.peak_flops_per_s), opt(r.peak_bandwidth_Bps), opt(r.energy_j),
      opt(r.energy_per_token_j), r.wall_seconds, u64(r.sim_events), summary_json_text(r)};
  for (std::size_t n = 0; n < values.size(); ++n) run.bind(static_cast<int>(n) + 1, values[n]);
  run.run();
  if (db_->changes() == 0) return false;  // already stored: the earlier copy stands

  Statement op(*db_,
               "INSERT INTO ops (run_hash, idx, name, kind, layer, flops, bytes, seconds, arithmetic_intensity,"
               " achieved_flops_per_s, bound) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  for (std::size_t n = 0; n < r.ops.size(); ++n) {
    const OpResult& o = r.ops[n];
    op.bind(1, hash).bind(2, static_cast<std::int64_t>(n)).bind(3, o.name).bind(4, o.kind).bind(5, o.layer);
    op.bind(6, o.flops).bind(7, o.bytes).bind(8, o.seconds).bind(9, o.arithmetic_intensity());
    op.bind(10, o.achieved_flops_per_s()).bind(11, o.bound);
    op.run();
    op.reset();
  }
  Statement unit(*db_, "INSERT INTO units (run_hash, unit, utilization) VALUES (?,?,?)");
  for (const auto& kv : r.utilization) {
    unit.bind(1, hash).bind(2, kv.first).bind(3, kv.second).run();
    unit.reset();
  }
  Statement tier(*db_, "INSERT INTO tiers (run_hash, tier, bytes_read, bytes_written) VALUES (?,?,?,?)");
  for (const auto& kv : r.bytes) {
    tier.bind(1, hash).bind(2, kv.first).bind(3, kv.second.read).bind(4, kv.second.written).run();
    tier.reset();
  }
  Statement energy(*db_, "INSERT INTO energy (run_hash, component, joules) VALUES (?,?,?)");
  for (const auto& kv : r.energy_breakdown_j) {
    energy.bind(1, hash).bind(2, kv.first).bind(3, kv.second).run();
    energy.reset();
  }
  Statement counter(*db_, "INSERT INTO counters (run_hash, name, value, unit, description) VALUES (?,?,?,?,?)");
  for (const auto& kv : r.counters) {
    counter.bind(1, hash).bind(2, kv.first).bind(3, kv.second.value).bind(4, kv.second.unit);
    counter.bind(5, kv.second.description).run();
    counter.reset();
  }
  t.commit();
  return true;
}

std::optional<StoredRun> ResultStore::lookup(const std::string& run_hash) const {
  Statement s(*db_, "SELECT status, failure FROM runs WHERE run_hash = ?");
  s.bind(1, run_hash);
  if (!s.step()) return std::nullopt;
  StoredRun out;
  out.run_hash = run_hash;
  out.status = std::get<std::string>(s.column(0));
  const Cell failure = s.column(1);
  if (const auto* text = std::get_if<std::string>(&failure)) out.failure = *text;
  return out;
}

std::int64_t ResultStore::run_count() const {
  Statement s(*db_, "SELECT count(*) FROM runs");
  s.step();
  return std::get<std::int64_t>(s.column(0));
}

std::vector<RunRow> ResultStore::rows() const {
  std::vector<RunRow> out;
  std::map<std::string, std::size_t> index;
  Statement runs(*db_,
                 "SELECT * FROM runs ORDER BY hw, model, phase, batch, seq, steps, mapping, compression, run_hash");
  while (runs.step()) {
    RunRow row;
    for (int c = 0; c < runs.columns(); ++c) {
      const std::string name = runs.column_name(c);
      if (name == "identity" || name == "summary_json") continue;
      row[name] = runs.column(c);
    }
    index[std::get<std::string>(row["run_hash"])] = out.size();
    out.push_back(std::move(row));
  }
  // Per-run detail tables pivoted into prefixed columns.
  const auto pivot = [&](const std::string& sql, const auto& add) {
    Statement s(*db_, sql);
    while (s.step()) {
      auto it = index.find(std::get<std::string>(s.column(0)));
      if (it != index.end()) add(out[it->second], s);
    }
  };
  pivot("SELECT run_hash, component, joules FROM energy", [](RunRow& row, const Statement& s) {
    row["energy." + std::get<std::string>(s.column(1))] = s.column(2);
  });
  pivot("SELECT run_hash, unit, utilization FROM units", [](RunRow& row, const Statement& s) {
    row["util." + std::get<std::string>(s.column(1))] = s.column(2);
  });
  pivot("SELECT run_hash, tier, bytes_read, bytes_written FROM tiers", [](RunRow& row, const Statement& s) {
    const std::string tier = std::get<std::string>(s.column(1));
    row["bytes." + tier + ".read"] = s.column(2);
    row["bytes." + tier + ".written"] = s.column(3);
  });
  pivot("SELECT run_hash, name, value FROM counters", [](RunRow& row, const Statement& s) {
    row["counter." + std::get<std::string>(s.column(1))] = s.column(2);
  });
  return out;
}

}  // namespace npusim::stats
