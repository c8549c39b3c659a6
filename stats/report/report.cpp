#include "stats/report/report.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "stats/store/results_store.h"

namespace npusim::stats {
namespace {

// The table shows this many hex digits of a run's hash, like short git ids;
// CSV keeps the full hash.
constexpr std::size_t kShortHash = 12;

struct Condition {
  std::string column;
  std::string op;
  std::string value;
};

std::optional<double> as_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

std::optional<double> cell_number(const Cell& c) {
  if (const auto* i = std::get_if<std::int64_t>(&c)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&c)) return *d;
  return std::nullopt;
}

std::string cell_text(const Cell& c, bool for_csv) {
  if (std::holds_alternative<std::monostate>(c)) return for_csv ? "" : "-";
  if (const auto* i = std::get_if<std::int64_t>(&c)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&c)) return for_csv ? fmt::format("{}", *d) : fmt::format("{:.6g}", *d);
  return std::get<std::string>(c);
}

Condition parse_condition(const std::string& text) {
  // Two-character operators first so "<=" is not read as "<".
  for (const char* op : {"!=", "<=", ">=", "=", "<", ">"}) {
    const auto at = text.find(op);
    if (at == std::string::npos || at == 0) continue;
    return {text.substr(0, at), op, text.substr(at + std::string(op).size())};
  }
  throw InputError(fmt::format("--where '{}': expected <column><op><value> with op one of = != < <= > >=", text));
}

bool matches(const Cell& cell, const Condition& c) {
  if (std::holds_alternative<std::monostate>(cell)) return c.op == "!=";
  const auto lhs = cell_number(cell);
  const auto rhs = as_number(c.value);
  int order;
  if (lhs && rhs) {
    order = *lhs < *rhs ? -1 : (*lhs > *rhs ? 1 : 0);
  } else {
    const std::string text = cell_text(cell, true);
    order = text < c.value ? -1 : (text > c.value ? 1 : 0);
  }
  if (c.op == "=") return order == 0;
  if (c.op == "!=") return order != 0;
  if (c.op == "<") return order < 0;
  if (c.op == "<=") return order <= 0;
  if (c.op == ">") return order > 0;
  return order >= 0;
}

void check_column(const std::string& name, const std::set<std::string>& valid, const std::string& what) {
  if (valid.count(name)) return;
  // Runs carry thousands of counters; list the other columns and count those.
  std::string list;
  std::size_t counters = 0;
  for (const auto& v : valid) {
    if (v.rfind("counter.", 0) == 0) {
      ++counters;
      continue;
    }
    list += (list.empty() ? "" : ", ") + v;
  }
  throw InputError(fmt::format("{}: unknown column '{}'; valid columns: {}, and counter.<name> for any of the {} "
                               "stored counters (see a run's --json summary)",
                               what, name, list, counters));
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

}  // namespace

const std::vector<std::string>& default_report_columns() {
  static const std::vector<std::string> v = {"run_hash",    "hw",      "model",        "phase",
                                             "batch",       "seq",     "mapping",      "compression",
                                             "status",      "seconds", "tokens_per_s", "energy_per_token_j"};
  return v;
}

std::vector<std::string> split_columns(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int report_command(const ReportOptions& options, std::ostream& out) {
  const ResultStore store(options.db, ResultStore::Mode::read_only);
  const std::vector<RunRow> rows = store.rows();

  // Valid columns are the fixed runs columns plus every pivoted name present.
  std::set<std::string> valid;
  {
    static const char* fixed[] = {"run_hash", "status", "failure", "npusim_version", "hw", "model", "phase",
                                  "batch", "seq", "steps", "mapping", "mapping_reason", "compression",
                                  "fidelity", "cycles", "seconds", "tokens", "tokens_per_s", "flops",
                                  "peak_flops_per_s", "peak_bandwidth_Bps", "energy_j", "energy_per_token_j",
                                  "wall_seconds", "sim_events"};
    valid.insert(std::begin(fixed), std::end(fixed));
    for (const auto& row : rows) {
      for (const auto& kv : row) valid.insert(kv.first);
    }
  }
  const std::vector<std::string> columns = options.columns.empty() ? default_report_columns() : options.columns;
  for (const auto& c : columns) check_column(c, valid, "--columns");
  std::vector<Condition> conditions;
  for (const auto& w : options.where) {
    conditions.push_back(parse_condition(w));
    check_column(conditions.back().column, valid, fmt::format("--where '{}'", w));
  }

  std::vector<const RunRow*> selected;
  for (const auto& row : rows) {
    const bool keep = std::all_of(conditions.begin(), conditions.end(), [&](const Condition& c) {
      auto it = row.find(c.column);
      return matches(it == row.end() ? Cell() : it->second, c);
    });
    if (keep) selected.push_back(&row);
  }
  const auto cell = [](const RunRow& row, const std::string& column) {
    auto it = row.find(column);
    return it == row.end() ? Cell() : it->second;
  };

  // Table: text left-aligned, numbers right-aligned, two spaces between columns.
  std::vector<std::vector<std::string>> text(selected.size(), std::vector<std::string>(columns.size()));
  std::vector<bool> numeric(columns.size(), true);
  std::vector<std::size_t> width(columns.size());
  for (std::size_t c = 0; c < columns.size(); ++c) {
    width[c] = columns[c].size();
    for (std::size_t r = 0; r < selected.size(); ++r) {
      const Cell v = cell(*selected[r], columns[c]);
      if (std::holds_alternative<std::string>(v)) numeric[c] = false;
      std::string s = cell_text(v, false);
      if (columns[c] == "run_hash") s = s.substr(0, kShortHash);
      width[c] = std::max(width[c], s.size());
      text[r][c] = std::move(s);
    }
  }
  const auto print_row = [&](const std::vector<std::string>& fields) {
    std::string line;
    for (std::size_t c = 0; c < fields.size(); ++c) {
      if (c) line += "  ";
      line += numeric[c] ? fmt::format("{:>{}}", fields[c], width[c]) : fmt::format("{:<{}}", fields[c], width[c]);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << "\n";
  };
  print_row(columns);
  std::vector<std::string> rule;
  for (std::size_t c = 0; c < columns.size(); ++c) rule.push_back(std::string(width[c], '-'));
  print_row(rule);
  for (const auto& fields : text) print_row(fields);
  out << fmt::format("({} of {} runs)\n", selected.size(), rows.size());

  if (options.csv) {
    std::ofstream csv(*options.csv, std::ios::binary | std::ios::trunc);
    if (!csv) throw InputError(fmt::format("{}: cannot write CSV", *options.csv));
    std::string header;
    for (std::size_t c = 0; c < columns.size(); ++c) header += (c ? "," : "") + csv_field(columns[c]);
    csv << header << "\n";
    for (const RunRow* row : selected) {
      std::string line;
      for (std::size_t c = 0; c < columns.size(); ++c) {
        line += (c ? "," : "") + csv_field(cell_text(cell(*row, columns[c]), true));
      }
      csv << line << "\n";
    }
    if (!csv) throw InputError(fmt::format("{}: CSV write failed", *options.csv));
  }
  return 0;
}

}  // namespace npusim::stats
