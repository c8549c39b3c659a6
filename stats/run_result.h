#pragma once
// Everything one run produced, in plain data: the driver fills it from the
// machine's counters, the energy model adds energy, and writers turn it into
// the JSON summary, SQLite rows and reports. Field meanings and units are
// documented in README.md ("Summary fields").
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/units.h"

namespace npusim::stats {

struct TierBytes {
  std::uint64_t read = 0;
  std::uint64_t written = 0;
};

// One graph op as it ran.
struct OpResult {
  std::string name;
  std::string kind;
  int layer = -1;
  double flops = 0;        // arithmetic work, 2 per MAC
  double bytes = 0;        // bytes moved between GM tiers and the cores
  double seconds = 0;      // wall-clock span in the simulated machine
  double arithmetic_intensity() const { return bytes > 0 ? flops / bytes : 0; }
  double achieved_flops_per_s() const { return seconds > 0 ? flops / seconds : 0; }
  std::string bound;       // "compute" or "memory", from the machine's ridge point
};

// Event counts the energy model multiplies by per-event energies.
struct ActivityCounts {
  std::map<std::string, double> macs_by_dtype;           // "fp16" -> MACs
  std::map<std::string, double> vector_ops_by_dtype;     // element operations
  std::map<std::string, double> buffer_bytes;            // "l1", "l0a", "l0b", "l0c", "ub" -> bytes accessed
  double l2_bytes = 0;
  double noc_bytes = 0;
  std::map<std::string, double> dram_bytes;              // "hbm", "ddr", "sram" (tier) -> bytes
  std::map<std::string, double> dram_activates;          // per tier
};

// What a sampled-fidelity run simulated and how far off its scaling may be
// (sim/run/sampling.h has the method).
struct SampledLayerClass {
  std::vector<int> layers;     // every layer of the class
  std::vector<int> simulated;  // the ones that ran
  double layer_seconds_mean = 0;
  double layer_seconds_stdev = 0;  // sample standard deviation; 0 with one layer
};

struct SamplingReport {
  std::uint64_t layers_per_class = 0;  // the most simulated per class and step
  std::uint64_t steps = 0;             // step graphs in the run
  std::vector<std::uint64_t> simulated_steps;
  std::vector<SampledLayerClass> layer_classes;  // of the first simulated step
  std::vector<int> warmup_layers;  // run unmeasured before a sampled layer, in that step
  double simulated_seconds = 0;      // time of what actually ran
  double error_estimate_seconds = 0; // half-width of a 95 % interval around `seconds`
  double error_estimate_relative = 0;  // the same over `seconds`
};

struct RunResult {
  // Identity: everything that determines the result.
  std::string npusim_version;
  std::string hw;
  std::string model;
  std::string phase;  // prefill | decode | graph
  std::uint64_t batch = 0;
  std::uint64_t seq = 0;
  std::uint64_t steps = 0;
  std::string mapping;
  std::string mapping_reason;
  std::string compression;
  std::string fidelity;
  std::optional<SamplingReport> sampling;  // set for fidelity "sampled"

  // Time.
  std::uint64_t cycles = 0;  // core clock cycles
  double core_clock_hz = 0;
  double seconds = 0;
  std::optional<double> tokens;  // tokens produced or processed, where they apply
  std::optional<double> tokens_per_s;

  // The machine's roofs, for roofline plots: peak arithmetic rate at the
  // run's dominant precision and peak GM bandwidth. Absent when unknown.
  std::optional<double> peak_flops_per_s;
  std::optional<double> peak_bandwidth_Bps;

  // Work and traffic.
  double flops = 0;
  std::map<std::string, TierBytes> bytes;  // "hbm", "ddr", "sram", "l2" -> read/written
  std::map<std::string, double> utilization;  // "cube", "vector", "hbm_bandwidth", ...
  ActivityCounts activity;
  std::vector<OpResult> ops;

  // Energy (filled by the energy model; absent when no technology table).
  std::optional<double> energy_j;
  std::map<std::string, double> energy_breakdown_j;
  std::optional<double> energy_per_token_j;

  // Counters as the blocks reported them: "core3.cube.busy_cycles" -> value.
  struct CounterValue {
    double value = 0;
    std::string unit;
    std::string description;
  };
  std::map<std::string, CounterValue> counters;

  // Simulator speed, not part of the result's identity.
  double wall_seconds = 0;
  std::uint64_t sim_events = 0;
};

}  // namespace npusim::stats
