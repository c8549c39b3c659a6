#pragma once
// The run summary: RunResult as JSON with stable field names (documented in
// stats/README.md, "Summary fields"), and as text for the terminal.
//
// Determinism: objects are written with sorted keys and doubles in their
// shortest round-trip form, so two runs with equal results give byte-equal
// JSON except the "simulator" object (wall time, event count), which
// comparisons must drop.
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stats/run_result.h"

namespace npusim::stats {

inline constexpr int kSummaryVersion = 1;

nlohmann::json summary_json(const RunResult& result);
// Pretty-printed (2-space indent) with a trailing newline.
std::string summary_json_text(const RunResult& result);
// Throws InputError when `path` cannot be written.
void write_summary_json(const RunResult& result, const std::string& path);

// Top-level keys every summary carries, for tests and readers.
const std::vector<std::string>& summary_fields();
// Keys of each element of "ops".
const std::vector<std::string>& summary_op_fields();

// A few screens of human-readable text: identity, time, throughput, energy
// by component, bytes per tier, utilization and the ops that took longest.
void print_summary_text(const RunResult& result, std::ostream& out, std::size_t top_ops = 10);

}  // namespace npusim::stats
