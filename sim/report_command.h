#pragma once
// `npusim report`: the CLI side of stats/report.
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace npusim {

struct ReportCliOptions {
  std::string db;
  std::string columns;
  std::vector<std::string> where;
  std::string csv;
};

void add_report_flags(CLI::App* command, ReportCliOptions& options);
int command_report(const ReportCliOptions& options);

}  // namespace npusim
