#include "sim/report_command.h"

#include <iostream>

#include <CLI/CLI.hpp>

#include "stats/report/report.h"

namespace npusim {

void add_report_flags(CLI::App* command, ReportCliOptions& options) {
  command->add_option("db", options.db, "Results database written by `npusim run --db`")->required();
  command->add_option("--columns", options.columns, "Comma-separated columns to show (default: a summary set)");
  command->add_option("--where", options.where, "Filter: <column><op><value>, op one of = != < <= > >= (repeatable)");
  command->add_option("--csv", options.csv, "Also write the selected rows as CSV to this file");
}

int command_report(const ReportCliOptions& cli) {
  stats::ReportOptions options;
  options.db = cli.db;
  if (!cli.columns.empty()) options.columns = stats::split_columns(cli.columns);
  options.where = cli.where;
  if (!cli.csv.empty()) options.csv = cli.csv;
  return stats::report_command(options, std::cout);
}

}  // namespace npusim
