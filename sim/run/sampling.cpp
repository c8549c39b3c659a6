#include "sim/run/sampling.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <utility>

namespace npusim {
namespace {

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

// Sample standard deviation (n - 1); 0 below two values.
double stdev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double sum = 0;
  for (double x : v) sum += (x - m) * (x - m);
  return std::sqrt(sum / static_cast<double>(v.size() - 1));
}

// Two-sided 95 % quantile of Student's t with `df` degrees of freedom: a
// spread measured from a handful of samples is itself uncertain, and with
// three layers the interval is 4.3, not 2, standard errors wide.
double student_t95(std::size_t df) {
  static const double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                  2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                  2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df == 0) return kTable[0];
  return df <= 30 ? kTable[df - 1] : 1.96;
}

// Variance of N x mean of n values drawn without replacement from N.
double total_variance(double population, const std::vector<double>& sample) {
  const double n = static_cast<double>(sample.size());
  if (sample.size() < 2 || n >= population) return 0;
  const double s = stdev(sample);
  return population * population * (1.0 - n / population) * s * s / n;
}

// Fixed, so that a sampled run is as reproducible as an exact one.
constexpr std::uint64_t kSeed = 0x5eed;

// A layer's structure: its op kinds and expert slots in graph order.
using LayerSignature = std::vector<std::pair<int, int>>;

}  // namespace

std::vector<std::size_t> spread_sample(std::size_t total, std::size_t count, std::uint64_t seed) {
  std::vector<std::size_t> picked;
  if (count >= total) {
    for (std::size_t i = 0; i < total; ++i) picked.push_back(i);
    return picked;
  }
  // One pick at a random place in each of `count` equal strata. Not the
  // strata's middles: layer times can be periodic in the layer index (weights
  // of consecutive layers land on DRAM rows with a period), and evenly spaced
  // picks would alias with that period and hide the spread.
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t begin = i * total / count;
    const std::size_t end = (i + 1) * total / count;
    picked.push_back(begin + static_cast<std::size_t>(rng() % (end - begin)));
  }
  return picked;
}

std::vector<LayerClass> classify_layers(const workloads::Graph& graph, std::uint64_t layers_per_class,
                                        std::uint64_t seed) {
  std::map<int, LayerSignature> signature_of_layer;
  for (const auto id : graph.topological_order()) {
    const workloads::Op& op = graph.op(id);
    if (op.layer < 0) continue;
    signature_of_layer[op.layer].emplace_back(static_cast<int>(op.kind), op.expert);
  }
  std::vector<LayerClass> classes;
  std::map<LayerSignature, std::size_t> class_of_signature;
  for (const auto& [layer, signature] : signature_of_layer) {  // ascending layers
    const auto [it, fresh] = class_of_signature.emplace(signature, classes.size());
    if (fresh) classes.emplace_back();
    classes[it->second].layers.push_back(layer);
  }
  for (std::size_t k = 0; k < classes.size(); ++k) {
    LayerClass& c = classes[k];
    for (std::size_t i : spread_sample(c.layers.size(), static_cast<std::size_t>(layers_per_class), seed + k)) {
      c.simulated.push_back(c.layers[i]);
    }
  }
  return classes;
}

SampledRun::SampledRun(const arch::Machine& machine, SamplingOptions options, std::size_t total_steps)
    : options_(options), total_steps_(total_steps) {
  steps_ = spread_sample(total_steps, static_cast<std::size_t>(options.steps), kSeed);
  for (const StatGroup* group : machine_stat_groups(machine)) {
    for (const Counter& c : group->counters()) counters_.push_back(&c);
  }
  last_values_ = counter_values();
}

std::vector<double> SampledRun::counter_values() const {
  std::vector<double> values(counters_.size());
  for (std::size_t i = 0; i < counters_.size(); ++i) values[i] = static_cast<double>(counters_[i]->value);
  return values;
}

const std::vector<LayerClass>& SampledRun::begin_step(const workloads::Graph& graph) {
  // Each step draws its own layers. Layers that ran in the last simulated
  // step would find their weights still in L2, since the layers that were
  // skipped never evicted them; fresh draws keep that from repeating.
  classes_ = classify_layers(graph, options_.layers_per_class, kSeed + 7919 * estimates_.size());
  int layers = 0;
  for (const auto& c : classes_) layers = std::max(layers, c.layers.back() + 1);
  class_of_layer_.assign(static_cast<std::size_t>(layers), -1);
  layer_simulated_.assign(static_cast<std::size_t>(layers), kSkipped);
  for (std::size_t k = 0; k < classes_.size(); ++k) {
    for (int l : classes_[k].layers) class_of_layer_[static_cast<std::size_t>(l)] = static_cast<int>(k);
    for (int l : classes_[k].simulated) layer_simulated_[static_cast<std::size_t>(l)] = kMeasured;
  }
  // A layer inherits the state its predecessor leaves (its output in L2, open
  // DRAM rows); running that predecessor first, unmeasured, keeps a sampled
  // layer from starting in a state the exact run never has.
  warmup_layers_.clear();
  for (int l = 1; l < layers; ++l) {
    const auto at = static_cast<std::size_t>(l);
    if (layer_simulated_[at] == kMeasured && layer_simulated_[at - 1] == kSkipped && class_of_layer_[at - 1] >= 0) {
      layer_simulated_[at - 1] = kWarmup;
      warmup_layers_.push_back(l - 1);
    }
  }
  layer_seconds_.assign(static_cast<std::size_t>(layers), 0.0);
  layer_flops_delta_.assign(static_cast<std::size_t>(layers), 0.0);
  layer_counters_.assign(static_cast<std::size_t>(layers), std::vector<double>(counters_.size(), 0.0));
  step_counters_.assign(counters_.size(), 0.0);
  step_seconds_ = 0;
  last_values_ = counter_values();
  // The cube work of skipped layers is known exactly from the graph.
  for (const auto id : graph.topological_order()) {
    const workloads::Op& op = graph.op(id);
    if (!simulates(op)) skipped_flops_ += static_cast<double>(op.flops);
  }
  return classes_;
}

bool SampledRun::simulates(const workloads::Op& op) const {
  if (op.layer < 0 || static_cast<std::size_t>(op.layer) >= layer_simulated_.size()) return true;
  return layer_simulated_[static_cast<std::size_t>(op.layer)] != kSkipped;
}

void SampledRun::absorb_counters(int layer) {
  const std::vector<double> now = counter_values();
  const bool in_layer = layer >= 0 && static_cast<std::size_t>(layer) < layer_counters_.size();
  for (std::size_t i = 0; i < now.size(); ++i) {
    const double delta = now[i] - last_values_[i];
    step_counters_[i] += delta;
    if (in_layer) layer_counters_[static_cast<std::size_t>(layer)][i] += delta;
  }
  last_values_ = now;
}

void SampledRun::record_job(int layer, Tick span) {
  const double seconds = ticks_to_seconds(span);
  step_seconds_ += seconds;
  if (layer >= 0 && static_cast<std::size_t>(layer) < layer_seconds_.size()) {
    layer_seconds_[static_cast<std::size_t>(layer)] += seconds;
  }
  absorb_counters(layer);
}

void SampledRun::record_flops(int layer, double executed_less_graph) {
  if (layer >= 0 && static_cast<std::size_t>(layer) < layer_flops_delta_.size()) {
    layer_flops_delta_[static_cast<std::size_t>(layer)] += executed_less_graph;
  }
}

void SampledRun::end_step() {
  // The skipped layers' cube work came from the graph; each differs from
  // what it would have executed as its class's measured layers did.
  double step_delta = 0;
  for (const LayerClass& c : classes_) {
    double measured = 0;
    for (int l : c.simulated) measured += layer_flops_delta_[static_cast<std::size_t>(l)];
    std::size_t skipped = 0;
    for (int l : c.layers) skipped += layer_simulated_[static_cast<std::size_t>(l)] == kSkipped ? 1 : 0;
    const double per_layer = c.simulated.empty() ? 0.0 : measured / static_cast<double>(c.simulated.size());
    step_delta += per_layer * static_cast<double>(c.layers.size());
    skipped_flops_ += per_layer * static_cast<double>(skipped);
  }
  last_step_flops_delta_ = step_delta;
  StepEstimate e;
  e.simulated_seconds = step_seconds_;
  e.estimated_seconds = step_seconds_;
  e.counters = step_counters_;
  e.layer_extra.assign(counters_.size(), 0.0);
  const bool first = estimates_.empty();
  for (const LayerClass& c : classes_) {
    std::vector<double> times;
    for (int l : c.simulated) times.push_back(layer_seconds_[static_cast<std::size_t>(l)]);
    const double population = static_cast<double>(c.layers.size());
    const double sampled = static_cast<double>(c.simulated.size());
    // The skipped layers of the class cost (N - n)/n times the sampled ones.
    const double skipped_share = (population - sampled) / sampled;
    double sampled_total = 0;
    for (double t : times) sampled_total += t;
    e.estimated_seconds += skipped_share * sampled_total;
    e.variance += total_variance(population, times);
    if (c.simulated.size() < c.layers.size()) sampled_class_sizes_.push_back(c.simulated.size());
    if (skipped_share > 0) {
      for (int l : c.simulated) {
        const auto& delta = layer_counters_[static_cast<std::size_t>(l)];
        for (std::size_t i = 0; i < delta.size(); ++i) e.layer_extra[i] += skipped_share * delta[i];
      }
    }
    if (first) {
      first_class_mean_.push_back(mean(times));
      first_class_stdev_.push_back(stdev(times));
    }
  }
  // Warm-up layers ran but stand for nothing: their share is in the estimate.
  for (int l : warmup_layers_) {
    const auto at = static_cast<std::size_t>(l);
    e.estimated_seconds -= layer_seconds_[at];
    for (std::size_t i = 0; i < e.layer_extra.size(); ++i) e.layer_extra[i] -= layer_counters_[at][i];
  }
  for (std::size_t i = 0; i < e.counters.size(); ++i) e.counters[i] += e.layer_extra[i];
  if (first) {
    first_classes_ = classes_;
    first_warmup_layers_ = warmup_layers_;
  }
  estimates_.push_back(std::move(e));
}

void SampledRun::skip_step(const workloads::Graph& graph) {
  for (const auto id : graph.topological_order()) skipped_flops_ += static_cast<double>(graph.op(id).flops);
  skipped_flops_ += last_step_flops_delta_;
}

double SampledRun::step_scale() const {
  return estimates_.empty() ? 0 : static_cast<double>(total_steps_) / static_cast<double>(estimates_.size());
}

double SampledRun::estimated_seconds() const {
  double sum = 0;
  for (const auto& e : estimates_) sum += e.estimated_seconds;
  return step_scale() * sum;
}

double SampledRun::simulated_seconds() const {
  double sum = 0;
  for (const auto& e : estimates_) sum += e.simulated_seconds;
  return sum;
}

// Two-stage sampling: the spread of the step estimates, plus each step's
// own layer-sampling variance scaled with it.
double SampledRun::variance() const {
  std::vector<double> steps;
  double within = 0;
  for (const auto& e : estimates_) {
    steps.push_back(e.estimated_seconds);
    within += e.variance;
  }
  const double scale = step_scale();
  return total_variance(static_cast<double>(total_steps_), steps) + scale * scale * within;
}

// The fewest samples behind any part of the estimate that was sampled,
// less one: the conservative choice for the t quantile.
std::size_t SampledRun::degrees_of_freedom() const {
  std::size_t fewest = 0;
  auto consider = [&](std::size_t sampled, std::size_t population) {
    if (sampled < population && (fewest == 0 || sampled < fewest)) fewest = sampled;
  };
  consider(estimates_.size(), total_steps_);
  for (std::size_t n : sampled_class_sizes_) consider(n, SIZE_MAX);
  return fewest > 0 ? fewest - 1 : 0;
}

CounterExtrapolation SampledRun::extrapolation() const {
  CounterExtrapolation extra;
  const double more_steps = step_scale() - 1.0;
  for (std::size_t i = 0; i < counters_.size(); ++i) {
    double add = 0;
    for (const auto& e : estimates_) add += e.layer_extra[i] + more_steps * e.counters[i];
    if (add != 0) extra[counters_[i]] = add;
  }
  return extra;
}

stats::SamplingReport SampledRun::report() const {
  stats::SamplingReport r;
  r.layers_per_class = options_.layers_per_class;
  r.steps = total_steps_;
  for (std::size_t s : steps_) r.simulated_steps.push_back(s);
  for (std::size_t k = 0; k < first_classes_.size(); ++k) {
    stats::SampledLayerClass c;
    c.layers = first_classes_[k].layers;
    c.simulated = first_classes_[k].simulated;
    c.layer_seconds_mean = first_class_mean_[k];
    c.layer_seconds_stdev = first_class_stdev_[k];
    r.layer_classes.push_back(std::move(c));
  }
  r.warmup_layers = first_warmup_layers_;
  r.simulated_seconds = simulated_seconds();
  r.error_estimate_seconds = student_t95(degrees_of_freedom()) * std::sqrt(variance());
  const double total = estimated_seconds();
  r.error_estimate_relative = total > 0 ? r.error_estimate_seconds / total : 0;
  return r;
}

}  // namespace npusim
