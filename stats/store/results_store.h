#pragma once
// The SQLite results store: one row per design point, keyed by the SHA-256
// of the run's canonical identity, with per-op, per-unit, per-tier, per-energy-
// component and per-counter rows beside it. A sweep asks lookup() before
// running a point and put() after, so it resumes and never runs a point twice.
//
// Concurrency: the file is in WAL mode, so readers never block the writer
// and the writer never blocks readers; writers (sweep workers, MPI ranks)
// take turns per run, each run being one transaction.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stats/run_result.h"
#include "stats/store/sqlite_handle.h"

namespace npusim::stats {

struct StoredRun {
  std::string run_hash;
  std::string status;   // "ok" | "failed"
  std::string failure;  // the reason, for failed runs
};

// One run as flat named cells: every runs column except the bulky identity
// and summary_json, plus "energy.<component>", "util.<unit>",
// "bytes.<tier>.read", "bytes.<tier>.written" and "counter.<name>".
using RunRow = std::map<std::string, Cell>;

class ResultStore {
 public:
  enum class Mode {
    read_write,  // creates the file and the schema when missing
    read_only,   // the file must exist and hold this schema version
  };

  // Throws InputError naming `path` when the file is missing (read_only),
  // not an SQLite database, or not a results database of kSchemaVersion.
  ResultStore(const std::string& path, Mode mode);

  // The key of a run: SHA-256 hex of its canonical identity string.
  static std::string key(const std::string& identity);

  // Stores a finished run under key(identity). Returns false, writing
  // nothing, when the key is already stored.
  bool put(const std::string& identity, const RunResult& result);
  // Records a design point that failed, with its reason; `result` carries
  // whatever identity fields are known. Same return as put().
  bool put_failed(const std::string& identity, const RunResult& result, const std::string& reason);

  std::optional<StoredRun> lookup(const std::string& run_hash) const;
  std::int64_t run_count() const;

  // Every run, ordered by hw, model, phase, batch, seq, steps, mapping,
  // compression and hash, so reports are deterministic.
  std::vector<RunRow> rows() const;

  const std::string& path() const { return db_->path(); }

 private:
  bool insert(const std::string& identity, const RunResult& result, const std::string* failure);
  void check_schema(bool create);

  std::unique_ptr<Database> db_;
};

}  // namespace npusim::stats
