#include "mapper/compression/run_plan.h"

#include <fstream>
#include <sstream>

#include "mapper/compression/apply_plan.h"
#include "mapper/compression/plan.h"

namespace npusim::mapper {

std::optional<AppliedCompression> apply_compression_file(const std::string& path, std::vector<workloads::Graph>& graphs,
                                                         const arch::CoreConfig& core) {
  if (path.empty()) return std::nullopt;
  const CompressionPlan plan = load_compression_plan(path);
  apply_compression_plan(plan, graphs, compression_target(core));
  AppliedCompression applied;
  applied.name = plan.name;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  applied.text = text.str();
  if (!graphs.empty()) applied.summary = summarize_compression(graphs.back());
  applied.counters = compression_counters(applied.summary);
  return applied;
}

}  // namespace npusim::mapper
