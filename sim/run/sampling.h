#pragma once
// Sampled fidelity: simulate representative layers and decode steps, scale
// them to the whole run, and say how far off that may be.
//
// Layers. The layers of one step graph fall into classes by structure: the
// same op kinds (and routed-expert slots) in the same order. Dense layers of
// one model are one class; MoE layers are another, and their members differ
// by routing (tokens per expert), so each class is treated as a population to
// sample, not as copies. Of a class of N layers, n = min(N, --sample-layers)
// are simulated, one drawn from each of n equal strata of the class (seeded,
// so runs repeat); ops outside any layer (embedding,
// final norm, lm_head) always are. The layer before each sampled one also
// runs, unmeasured, so that the sampled layer starts from the state it would
// have in the exact run (see begin_step). The class's time is N x the mean of the
// sampled layers, and every machine counter is scaled the same way (the
// skipped layers add (N - n)/n x the sampled layers' counter deltas).
//
// Steps. Of S decode-step graphs, s = min(S, --sample-steps), drawn the same
// way, are run (each with layer sampling) and the run is S/s x their sum.
//
// Error estimate. With x_i the sampled layer times of a class and s_x their
// standard deviation, the class total N x mean(x) has the variance of a
// sample mean without replacement,
//     Var = N^2 (1 - n/N) s_x^2 / n,
// zero when every layer of the class ran (the simple-random-sampling form;
// with one draw per stratum it is, if anything, high). Classes add. Across steps the
// two-stage form applies: S^2 (1 - s/S) s_y^2 / s over the step estimates y_j
// plus (S/s)^2 x the sum of their within-step variances. The reported error
// is a 95 % interval: the standard deviation times Student's t quantile for
// the smallest sample behind it less one (4.30 for three layers), since the
// spread itself comes from a few samples. It measures the spread
// of what was sampled; it cannot see a bias that every sampled layer shares,
// such as a cache left colder by the skipped layers (the tests bound that).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "arch/machine.h"
#include "common/units.h"
#include "sim/run/collect.h"
#include "stats/run_result.h"
#include "workloads/graph.h"

namespace npusim {

struct SamplingOptions {
  std::uint64_t layers_per_class = 3;  // --sample-layers
  std::uint64_t steps = 3;             // --sample-steps
};

// `count` of `total` items, ascending, one drawn from each of `count` equal
// strata by a generator seeded with `seed` (all of them when count >= total).
std::vector<std::size_t> spread_sample(std::size_t total, std::size_t count, std::uint64_t seed);

struct LayerClass {
  std::vector<int> layers;     // ascending
  std::vector<int> simulated;  // the sampled subset, ascending
};

// The layer classes of one graph, in order of their first layer; the draw of
// each class's sampled layers is seeded from `seed`.
std::vector<LayerClass> classify_layers(const workloads::Graph& graph, std::uint64_t layers_per_class,
                                        std::uint64_t seed);

// Collects what a sampled run simulated and turns it into the estimate.
// Call begin_step() before a step's jobs, record_job() after each job,
// end_step() after the last one.
class SampledRun {
 public:
  SampledRun(const arch::Machine& machine, SamplingOptions options, std::size_t total_steps);

  // The steps to run, ascending.
  const std::vector<std::size_t>& simulated_steps() const { return steps_; }
  // Starts a step; returns its layer classes (which say what to run).
  const std::vector<LayerClass>& begin_step(const workloads::Graph& graph);
  // Whether an op of the current step is to be simulated.
  bool simulates(const workloads::Op& op) const;
  // `layer` is the op's layer (-1 outside layers); `span` its simulated time.
  void record_job(int layer, Tick span);
  // A simulated job's cube work less its ops' (negative for a causal fused
  // attention): the skipped layers of its class are taken to differ alike.
  void record_flops(int layer, double executed_less_graph);
  void end_step();
  // A step that is not run: only its cube work is counted, from the graph.
  void skip_step(const workloads::Graph& graph);

  // The whole run's time: what ran plus the scaled share of what did not.
  double estimated_seconds() const;
  // Time of what actually ran.
  double simulated_seconds() const;
  // What the skipped layers and steps add to each counter.
  CounterExtrapolation extrapolation() const;
  // Cube work of every op that was not simulated: the graphs', less what the
  // sampled layers of its class skipped (causal tiles) per layer.
  double skipped_flops() const { return skipped_flops_; }
  stats::SamplingReport report() const;

 private:
  struct StepEstimate {
    double simulated_seconds = 0;
    double estimated_seconds = 0;  // simulated plus the skipped layers' share
    double variance = 0;           // of estimated_seconds, s^2
    std::vector<double> layer_extra;  // per counter: the skipped layers' estimated share
    std::vector<double> counters;     // per counter over the step: simulated plus layer_extra
  };
  double step_scale() const;  // steps in the run per step simulated
  double variance() const;    // of estimated_seconds(), s^2
  std::size_t degrees_of_freedom() const;
  std::vector<double> counter_values() const;
  void absorb_counters(int layer);

  SamplingOptions options_;
  std::size_t total_steps_;
  std::vector<std::size_t> steps_;
  std::vector<const Counter*> counters_;
  std::vector<double> last_values_;

  // The step in progress.
  std::vector<LayerClass> classes_;
  std::vector<int> class_of_layer_;         // by layer index, -1 when not a layer of the graph
  enum LayerRole : char { kSkipped, kMeasured, kWarmup };
  std::vector<char> layer_simulated_;       // by layer index: a LayerRole
  std::vector<int> warmup_layers_;          // run unmeasured before a measured layer
  std::vector<double> layer_seconds_;       // by layer index, simulated layers only
  std::vector<double> layer_flops_delta_;   // by layer index: executed less graph cube work
  double last_step_flops_delta_ = 0;        // of the last simulated step, extrapolated
  std::vector<std::vector<double>> layer_counters_;  // by layer index: counter deltas
  std::vector<double> step_counters_;       // counter deltas of the whole step so far
  double step_seconds_ = 0;

  std::vector<StepEstimate> estimates_;
  std::vector<std::size_t> sampled_class_sizes_;  // n of every class that was sampled, over all steps
  std::vector<LayerClass> first_classes_;   // of the first step, for the report
  std::vector<int> first_warmup_layers_;
  std::vector<double> first_class_mean_, first_class_stdev_;
  double skipped_flops_ = 0;
};

}  // namespace npusim
