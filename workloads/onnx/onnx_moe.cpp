#include "workloads/onnx/onnx_moe.h"

#include <fmt/format.h>

#include "common/error.h"

namespace npusim::workloads::onnx_import {
namespace {

// x * count / tokens without overflow for the sizes a graph holds.
std::uint64_t scaled(std::uint64_t x, std::uint64_t count, std::uint64_t tokens) {
  return static_cast<std::uint64_t>(static_cast<unsigned __int128>(x) * count / tokens);
}

void scale_op(Op& op, std::uint64_t count, std::uint64_t tokens) {
  if (op.matmul) {
    op.matmul->m = count;
    op.flops = 2 * op.matmul->macs();
  }
  op.vector_ops = scaled(op.vector_ops, count, tokens);
  op.bytes_read.activation = scaled(op.bytes_read.activation, count, tokens);
  op.bytes_written.activation = scaled(op.bytes_written.activation, count, tokens);
  // The whole weight is read once if the expert runs at all.
  if (count == 0) op.bytes_read.weight = 0;
}

}  // namespace

bool is_router_scope(const std::string& scope) {
  const auto dot = scope.rfind('.');
  const std::string module = dot == std::string::npos ? scope : scope.substr(dot + 1);
  return module == "gate" || module == "router";
}

MoeLayers find_moe_layers(const std::vector<PendingOp>& ops, const std::vector<TopKCandidate>& topks,
                          const std::string& path) {
  std::map<int, std::uint64_t> experts;
  MoeLayers out;
  for (const auto& p : ops) {
    if (p.op.layer < 0 || p.op.expert < 0) continue;
    auto& count = experts[p.op.layer];
    count = std::max(count, static_cast<std::uint64_t>(p.op.expert) + 1);
    if (!p.op.matmul) continue;
    auto [it, fresh] = out.tokens.emplace(p.op.layer, p.op.matmul->m);
    if (!fresh && it->second != p.op.matmul->m) {
      throw InputError(fmt::format("{}: op '{}' runs on {} tokens but other experts of layer {} on {}; npusim "
                                   "expects an export that runs every expert on every token of the layer",
                                   path, p.op.name, p.op.matmul->m, p.op.layer, it->second));
    }
    if (p.op.matmul->batch != 1) {
      throw InputError(fmt::format("{}: expert op '{}' is a batched matmul; expected one [tokens, K] x [K, N] "
                                   "matmul per expert", path, p.op.name));
    }
  }
  for (const auto& [layer, count] : experts) {
    if (!out.tokens.count(layer) || out.tokens.at(layer) == 0) {
      throw InputError(fmt::format("{}: the experts of layer {} hold no matmul over the layer's tokens", path, layer));
    }
    std::uint64_t top_k = 0;
    for (const auto& t : topks) {
      if (t.layer == layer && t.width == count) top_k = t.k;
    }
    if (top_k == 0) {
      throw InputError(fmt::format("{}: layer {} has {} experts (ops named layers.{}...experts.E) but no TopK over "
                                   "{} router scores with a constant k",
                                   path, layer, count, layer, count));
    }
    out.info.push_back({layer, count, top_k});
  }
  for (const auto& p : ops) {
    if (p.op.matmul && p.op.expert < 0 && experts.count(p.op.layer) && is_router_scope(p.scope)) {
      out.router_layers.insert(p.op.layer);
    }
  }
  return out;
}

void apply_routing(const MoeLayers& moe, const RoutingSource& routing, std::uint64_t step,
                   std::vector<PendingOp>& ops, const std::string& path) {
  std::map<int, std::vector<std::uint64_t>> counts;
  for (const auto& layer : moe.info) {
    MoeConfig config;
    config.num_experts = layer.experts;
    config.top_k = layer.top_k;
    const std::uint64_t tokens = moe.tokens.at(layer.layer);
    try {
      counts[layer.layer] = routing.route(static_cast<std::uint64_t>(layer.layer), step, tokens, config);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{} (routing for MoE layer {} of {})", e.what(), layer.layer, path));
    }
  }
  for (auto& p : ops) {
    if (p.op.expert < 0 || !counts.count(p.op.layer)) continue;
    const std::uint64_t tokens = moe.tokens.at(p.op.layer);
    scale_op(p.op, counts[p.op.layer].at(static_cast<std::size_t>(p.op.expert)), tokens);
  }
}

}  // namespace npusim::workloads::onnx_import
