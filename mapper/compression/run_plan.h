#pragma once
// The driver's single entry point for `--compression FILE`: load the plan,
// apply it to every graph of the workload against the machine, and return
// what the summary reports.
#include <optional>
#include <string>
#include <vector>

#include "arch/core/core_config.h"
#include "mapper/compression/compression_summary.h"
#include "workloads/graph.h"

namespace npusim::mapper {

struct AppliedCompression {
  std::string name;  // the plan's name, for RunResult::compression
  std::string text;  // the plan file as read, for the run's identity hash
  CompressionSummary summary;  // of the last graph (the largest KV cache)
  std::vector<CompressionCounter> counters;
};

// nullopt when `path` is empty (no plan). InputError for a bad plan file or
// a rule that claims no op.
std::optional<AppliedCompression> apply_compression_file(const std::string& path,
                                                         std::vector<workloads::Graph>& graphs,
                                                         const arch::CoreConfig& core);

}  // namespace npusim::mapper
