#include "workloads/routing.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace npusim::workloads {

std::unique_ptr<Router> make_router(const RouterParams& params) {
  const auto& registry = RouterRegistry::instance();
  if (!registry.contains(params.name)) {
    std::string names;
    for (const auto& n : registry.names()) names += (names.empty() ? "" : " | ") + n;
    throw InputError(fmt::format("router: expected one of {}, got \"{}\"", names, params.name));
  }
  return registry.create(params.name, params);
}

void check_conservation(const std::vector<std::uint64_t>& counts, std::uint64_t tokens, const MoeConfig& moe,
                        const std::string& where) {
  if (counts.size() != moe.num_experts) {
    throw InputError(fmt::format("{}: expected {} per-expert counts (one per routed expert), got {}", where,
                                 moe.num_experts, counts.size()));
  }
  const std::uint64_t per_group = moe.experts_per_group();
  for (std::uint64_t g = 0; g < moe.num_groups; ++g) {
    std::uint64_t sum = 0;
    for (std::uint64_t e = g * per_group; e < (g + 1) * per_group; ++e) {
      if (counts[e] > tokens) {
        throw InputError(fmt::format("{}[{}]: expert {} receives {} tokens, more than the {} tokens in the layer",
                                     where, e, e, counts[e], tokens));
      }
      sum += counts[e];
    }
    const std::uint64_t expected = tokens * moe.top_k_per_group();
    if (sum != expected) {
      const std::string group = moe.num_groups > 1 ? fmt::format(" in group {}", g) : "";
      throw InputError(fmt::format("{}: expected counts{} summing to tokens x top_k = {} x {} = {}, got {}", where,
                                   group, tokens, moe.top_k_per_group(), expected, sum));
    }
  }
}

RoutingTrace RoutingTrace::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open routing trace", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

RoutingTrace RoutingTrace::parse(const std::string& text, const std::string& origin) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(fmt::format("{}: JSON syntax error: {}", origin, e.what()));
  }
  auto fail = [&](const std::string& field, const std::string& what) {
    throw InputError(fmt::format("{}: {}: {}", origin, field, what));
  };
  if (!doc.is_object()) fail("(top level)", "expected an object with \"format\" and \"layers\"");
  for (const auto& [key, value] : doc.items()) {
    if (key != "format" && key != "layers") fail(key, "unknown key; allowed keys: format, layers");
  }
  if (!doc.contains("format") || doc["format"] != "npusim-routing-v1") {
    fail("format", "expected \"npusim-routing-v1\"");
  }
  if (!doc.contains("layers") || !doc["layers"].is_array()) fail("layers", "expected a list of layer entries");
  RoutingTrace trace;
  trace.origin_ = origin;
  const auto& layers = doc["layers"];
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& entry = layers[i];
    const std::string at = fmt::format("layers[{}]", i);
    if (!entry.is_object()) fail(at, "expected an object with \"layer\" and \"steps\"");
    for (const auto& [key, value] : entry.items()) {
      if (key != "layer" && key != "steps") fail(at + "." + key, "unknown key; allowed keys: layer, steps");
    }
    if (!entry.contains("layer") || !entry["layer"].is_number_unsigned()) {
      fail(at + ".layer", "expected a non-negative integer layer index");
    }
    const auto layer = entry["layer"].get<std::uint64_t>();
    if (trace.layers_.count(layer)) fail(at + ".layer", fmt::format("layer {} appears twice", layer));
    if (!entry.contains("steps") || !entry["steps"].is_array() || entry["steps"].empty()) {
      fail(at + ".steps", "expected a non-empty list of per-step expert counts");
    }
    LayerEntry parsed;
    parsed.index = i;
    const auto& steps = entry["steps"];
    for (std::size_t s = 0; s < steps.size(); ++s) {
      const std::string step_at = fmt::format("{}.steps[{}]", at, s);
      if (!steps[s].is_array()) fail(step_at, "expected a list of token counts, one per expert");
      std::vector<std::uint64_t> counts;
      for (std::size_t e = 0; e < steps[s].size(); ++e) {
        if (!steps[s][e].is_number_unsigned()) {
          fail(fmt::format("{}[{}]", step_at, e), fmt::format("expected a non-negative integer, got {}",
                                                              steps[s][e].dump()));
        }
        counts.push_back(steps[s][e].get<std::uint64_t>());
      }
      parsed.steps.push_back(std::move(counts));
    }
    trace.layers_.emplace(layer, std::move(parsed));
  }
  return trace;
}

void RoutingTrace::check_covers(const ModelConfig& model, std::uint64_t steps) const {
  for (std::uint64_t layer = 0; layer < model.num_layers; ++layer) {
    const bool moe = model.is_moe_layer(layer);
    auto it = layers_.find(layer);
    if (moe && it == layers_.end()) {
      throw InputError(fmt::format("{}: layers: no entry for MoE layer {} of {}", origin_, layer, model.name));
    }
    if (!moe && it != layers_.end()) {
      throw InputError(fmt::format("{}: layers[{}].layer: layer {} is not an MoE layer of {}", origin_,
                                   it->second.index, layer, model.name));
    }
    if (moe && it->second.steps.size() != steps) {
      throw InputError(fmt::format("{}: layers[{}].steps: expected {} steps for this workload, got {}", origin_,
                                   it->second.index, steps, it->second.steps.size()));
    }
  }
  for (const auto& [layer, entry] : layers_) {
    if (layer >= model.num_layers) {
      throw InputError(fmt::format("{}: layers[{}].layer: expected a layer below {}, got {}", origin_, entry.index,
                                   model.num_layers, layer));
    }
  }
}

std::vector<std::uint64_t> RoutingTrace::route(std::uint64_t layer, std::uint64_t step, std::uint64_t tokens,
                                               const MoeConfig& moe) const {
  auto it = layers_.find(layer);
  if (it == layers_.end()) throw InputError(fmt::format("{}: layers: no entry for MoE layer {}", origin_, layer));
  if (step >= it->second.steps.size()) {
    throw InputError(fmt::format("{}: layers[{}].steps: no counts for step {} (the trace has {})", origin_,
                                 it->second.index, step, it->second.steps.size()));
  }
  const auto& counts = it->second.steps[step];
  check_conservation(counts, tokens, moe, fmt::format("{}: layers[{}].steps[{}]", origin_, it->second.index, step));
  return counts;
}

std::map<std::uint64_t, std::vector<std::uint64_t>> RoutingTrace::tokens_per_expert() const {
  std::map<std::uint64_t, std::vector<std::uint64_t>> out;
  for (const auto& [layer, entry] : layers_) {
    auto& total = out[layer];
    for (const auto& step : entry.steps) {
      if (total.size() < step.size()) total.resize(step.size(), 0);
      for (std::size_t e = 0; e < step.size(); ++e) total[e] += step[e];
    }
  }
  return out;
}

}  // namespace npusim::workloads
