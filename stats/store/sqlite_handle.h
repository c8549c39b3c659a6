#pragma once
// Thin RAII over the SQLite C API: a connection and prepared statements that
// throw with the database's file name in the message.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

struct sqlite3;
struct sqlite3_stmt;

namespace npusim::stats {

// A value read from or bound to a column.
using Cell = std::variant<std::monostate, std::int64_t, double, std::string>;

class Database;

class Statement {
 public:
  Statement(const Database& db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, const Cell& value);  // 1-based
  Statement& bind(int index, const std::string& value) { return bind(index, Cell(value)); }
  Statement& bind(int index, double value) { return bind(index, Cell(value)); }
  Statement& bind(int index, std::int64_t value) { return bind(index, Cell(value)); }
  Statement& bind(int index, std::uint64_t value) { return bind(index, Cell(static_cast<std::int64_t>(value))); }
  Statement& bind(int index, int value) { return bind(index, Cell(static_cast<std::int64_t>(value))); }
  Statement& bind(int index, const std::optional<double>& value);

  bool step();   // true while a row is available
  void run();    // steps to completion
  void reset();  // ready to bind and run again

  int columns() const;
  std::string column_name(int i) const;
  Cell column(int i) const;

 private:
  const Database& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  // `read_only` opens an existing file without creating it.
  Database(const std::string& path, bool read_only);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const std::string& sql) const;
  std::int64_t changes() const;
  const std::string& path() const { return path_; }
  sqlite3* raw() const { return db_; }
  // Throws "<path>: <what>: <sqlite message>": InputError when the file is
  // not a usable database (not SQLite, corrupt, cannot be opened), and
  // std::runtime_error for failures of a good file (disk full, I/O).
  [[noreturn]] void fail(int code, const std::string& what) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace npusim::stats
