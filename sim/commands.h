#pragma once
// The subcommands of `npusim`. Each returns the process exit code and throws
// InputError (exit 2) or SimulationError (exit 1) for the CLI to report.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace npusim {

struct RunOptions {
  std::string hw_file;
  std::string model_file;
  std::string phase = "decode";
  std::uint64_t batch = 1;
  std::optional<std::uint64_t> seq;  // defaults per phase
  std::uint64_t steps = 1;
  std::string compression_file;
  std::string mapper_file;  // placement policy and search options (configs/mapper/*.yaml)
  std::string mapping = "kernel";
  std::string fidelity = "exact";
  // Sampled fidelity: layers simulated per layer class, decode steps simulated.
  std::optional<std::int64_t> sample_layers;
  std::optional<std::int64_t> sample_steps;
  std::string routing_file;
  std::optional<std::string> dtype;  // --dtype: simulated precision of weights and activations
  std::string json_file;
  std::string db_file;
  std::string trace_file;
  bool quiet = false;
  bool skip_stored = false;  // with db_file: do nothing if the run is already stored
};

struct GraphOptions {
  std::string model_file;
  std::string phase = "decode";
  std::uint64_t batch = 1;
  std::optional<std::uint64_t> seq;
  std::uint64_t steps = 1;
  std::string routing_file;
  std::optional<std::string> dtype;
  std::string json_file;
  std::string dot_file;
};

int command_run(const RunOptions& options);
int command_validate(const std::vector<std::string>& files);
int command_list();
int command_graph(const GraphOptions& options);

}  // namespace npusim
