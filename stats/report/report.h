#pragma once
// `npusim report DB [--columns a,b,c] [--where 'hw=ascend-910b2' ...] [--csv FILE]`:
// stored runs side by side, one row per run, as an aligned table on `out`
// and optionally as CSV.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace npusim::stats {

struct ReportOptions {
  std::string db;                    // results database (read only)
  std::vector<std::string> columns;  // empty: default_report_columns()
  // Conditions, all of which a run must meet: <column><op><value> with op one
  // of = != < <= > >=. Numbers compare as numbers, text as text.
  std::vector<std::string> where;
  std::optional<std::string> csv;    // also write the selected rows here
};

const std::vector<std::string>& default_report_columns();

// Returns the exit code (0). Bad input — a missing or corrupt database, an
// unknown column (the message lists the valid ones), a malformed condition,
// an unwritable CSV path — throws npusim::InputError for the CLI to map to
// exit code 2.
int report_command(const ReportOptions& options, std::ostream& out);

// Splits "a,b, c" into {"a", "b", "c"}, for the CLI's --columns.
std::vector<std::string> split_columns(const std::string& list);

}  // namespace npusim::stats
