#include "stats/store/sqlite_handle.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include "common/error.h"

namespace npusim::stats {

Database::Database(const std::string& path, bool read_only) : path_(path) {
  const int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw InputError(fmt::format("{}: cannot open results database: {}", path, message));
  }
  sqlite3_extended_result_codes(db_, 1);
  // Several sweep workers may write the same file; wait for the lock instead of failing.
  sqlite3_busy_timeout(db_, 30000);
}

Database::~Database() { sqlite3_close(db_); }

void Database::fail(int code, const std::string& what) const {
  const std::string message = fmt::format("{}: {}: {}", path_, what, sqlite3_errmsg(db_));
  const int primary = code & 0xff;
  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT || primary == SQLITE_CANTOPEN ||
      primary == SQLITE_READONLY || primary == SQLITE_PERM || primary == SQLITE_AUTH) {
    throw InputError(message);
  }
  throw std::runtime_error(message);
}

void Database::exec(const std::string& sql) const {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);
  if (rc != SQLITE_OK) fail(rc, fmt::format("'{}' failed", sql.substr(0, 60)));
}

std::int64_t Database::changes() const { return sqlite3_changes(db_); }

Statement::Statement(const Database& db, const std::string& sql) : db_(db) {
  const int rc = sqlite3_prepare_v2(db.raw(), sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) db.fail(rc, fmt::format("cannot prepare '{}'", sql.substr(0, 60)));
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, const Cell& value) {
  int rc = SQLITE_OK;
  if (std::holds_alternative<std::monostate>(value)) {
    rc = sqlite3_bind_null(stmt_, index);
  } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
    rc = sqlite3_bind_int64(stmt_, index, *i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    rc = sqlite3_bind_double(stmt_, index, *d);
  } else {
    const auto& s = std::get<std::string>(value);
    rc = sqlite3_bind_text(stmt_, index, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  if (rc != SQLITE_OK) db_.fail(rc, fmt::format("cannot bind parameter {}", index));
  return *this;
}

Statement& Statement::bind(int index, const std::optional<double>& value) {
  return value ? bind(index, Cell(*value)) : bind(index, Cell());
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(rc, "query failed");
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int Statement::columns() const { return sqlite3_column_count(stmt_); }

std::string Statement::column_name(int i) const { return sqlite3_column_name(stmt_, i); }

Cell Statement::column(int i) const {
  switch (sqlite3_column_type(stmt_, i)) {
    case SQLITE_INTEGER: return Cell(static_cast<std::int64_t>(sqlite3_column_int64(stmt_, i)));
    case SQLITE_FLOAT: return Cell(sqlite3_column_double(stmt_, i));
    case SQLITE_NULL: return Cell();
    default: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
      return Cell(std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))));
    }
  }
}

}  // namespace npusim::stats
