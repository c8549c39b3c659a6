#include "sim/cli.h"

#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/dtype.h"
#include "common/error.h"
#include "npusim/version.h"
#include "sim/commands.h"
#include "sim/report_command.h"

namespace npusim {
namespace {

// Precisions a whole model can be simulated at: both weights and
// activations take them (block formats such as mxfp4 are weight-only and
// belong in a compression plan).
std::vector<std::string> simulated_dtype_names() {
  std::vector<std::string> names;
  for (DType t : {DType::fp32, DType::fp16, DType::bf16, DType::fp8_e4m3, DType::fp8_e5m2, DType::int8}) {
    names.push_back(dtype_name(t));
  }
  return names;
}

void add_workload_flags(CLI::App* cmd, std::string& model, std::string& phase, std::uint64_t& batch,
                        std::optional<std::uint64_t>& seq, std::uint64_t& steps, std::string& routing,
                        std::optional<std::string>& dtype) {
  cmd->add_option("--model", model, "Model config: configs/models/*.yaml, a workload YAML, a Hugging Face config.json, or an ONNX file")
      ->required();
  cmd->add_option("--phase", phase, "Inference phase")->check(CLI::IsMember({"prefill", "decode"}));
  cmd->add_option("--batch", batch, "Sequences processed together")->check(CLI::PositiveNumber);
  cmd->add_option("--seq", seq,
                  "Prompt length for prefill; context length at the first step for decode (default 2048)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--steps", steps, "Decode steps; the KV cache grows by one token each step")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--routing", routing, "MoE routing trace (tokens per expert per layer and step)");
  cmd->add_option("--dtype", dtype,
                  "Simulated precision of the model's floating-point weights and activations (the KV cache follows "
                  "the activations); default: the model's own, e.g. fp32 for a default torch ONNX export, which "
                  "the cube cannot run")
      ->check(CLI::IsMember(simulated_dtype_names()));
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"npusim: a cycle-level simulator of an Ascend-like NPU running transformer and MoE inference"};
  app.set_version_flag("--version", std::string("npusim ") + kVersion);
  app.require_subcommand(1);

  RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "Simulate one workload on one machine and print its summary");
  run_cmd->add_option("--hw", run.hw_file, "Hardware config (configs/hw/*.yaml)")->required();
  add_workload_flags(run_cmd, run.model_file, run.phase, run.batch, run.seq, run.steps, run.routing_file, run.dtype);
  run_cmd->add_option("--compression", run.compression_file, "Compression plan (configs/compression/*.yaml)");
  run_cmd->add_option("--mapper", run.mapper_file,
                      "Mapper options: placement policy and tiling search (configs/mapper/*.yaml)");
  run_cmd->add_option("--mapping", run.mapping, "Execution mode")
      ->check(CLI::IsMember({"kernel", "dataflow", "auto"}));
  run_cmd->add_option("--fidelity", run.fidelity, "exact: every layer and step; sampled: representative ones, scaled")
      ->check(CLI::IsMember({"exact", "sampled"}));
  run_cmd->add_option("--sample-layers", run.sample_layers,
                      "sampled: layers simulated per class of identical-structure layers (default 3, at least 2)");
  run_cmd->add_option("--sample-steps", run.sample_steps,
                      "sampled: decode steps simulated, spread over the run (default 3, at least 2)");
  run_cmd->add_option("--json", run.json_file, "Write the summary as JSON to this file");
  run_cmd->add_option("--db", run.db_file, "Store the run in this SQLite results database");
  run_cmd->add_option("--trace", run.trace_file, "Write a Chrome/Perfetto timeline trace to this file");
  run_cmd->add_flag("--quiet", run.quiet, "Print nothing but errors");
  run_cmd->add_flag("--skip-stored", run.skip_stored,
                    "With --db: if this exact run (configs, model, options) is already stored, do not simulate it again");

  std::vector<std::string> validate_files;
  auto* validate_cmd = app.add_subcommand("validate", "Check config files and print their resolved values with units");
  validate_cmd->add_option("files", validate_files, "Config files")->required();

  auto* list_cmd = app.add_subcommand("list", "List every registered component and every parameter");

  GraphOptions graph;
  auto* graph_cmd = app.add_subcommand("graph", "Build a workload graph and print its summary");
  add_workload_flags(graph_cmd, graph.model_file, graph.phase, graph.batch, graph.seq, graph.steps,
                     graph.routing_file, graph.dtype);
  graph_cmd->add_option("--json", graph.json_file, "Write the graph summary as JSON");
  graph_cmd->add_option("--dot", graph.dot_file, "Write the graph in Graphviz DOT format");

  ReportCliOptions report;
  auto* report_cmd = app.add_subcommand("report", "Compare stored runs side by side");
  add_report_flags(report_cmd, report);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }

  try {
    if (*run_cmd) return command_run(run);
    if (*validate_cmd) return command_validate(validate_files);
    if (*list_cmd) return command_list();
    if (*graph_cmd) return command_graph(graph);
    if (*report_cmd) return command_report(report);
  } catch (const InputError& e) {
    std::cerr << "npusim: error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const SimulationError& e) {
    std::cerr << "npusim: simulation error: " << e.what() << "\n";
    return kExitSimulationError;
  } catch (const std::exception& e) {
    std::cerr << "npusim: internal error: " << e.what() << "\n";
    return kExitSimulationError;
  }
  return kExitBadInput;
}

}  // namespace npusim
