#include "mapper/kv_prefetch.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "common/error.h"

namespace npusim::mapper {
namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

struct LayerSpan {
  std::size_t first_op = kNone;      // first op of the layer, in topological order
  std::size_t first_reader = kNone;  // first op reading the layer's staged cache
  std::size_t last_reader = 0;
  std::vector<workloads::TensorId> staged;
};

}  // namespace

std::map<workloads::OpId, std::vector<KvCopy>> schedule_kv_prefetch(
    const workloads::Graph& graph, const Placement& placement,
    const std::function<bool(workloads::OpId)>& runs_as_job) {
  std::map<workloads::OpId, std::vector<KvCopy>> out;
  if (placement.staged_address.empty()) return out;
  std::map<int, LayerSpan> layers;
  for (const auto& [id, address] : placement.staged_address) layers[graph.tensor(id).layer].staged.push_back(id);
  const auto order = graph.topological_order();
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& op = graph.op(order[i]);
    auto& span = layers[op.layer];
    span.first_op = std::min(span.first_op, i);
    for (auto in : op.inputs) {
      if (!placement.staged_address.count(in)) continue;
      auto& owner = layers[graph.tensor(in).layer];
      owner.first_reader = std::min(owner.first_reader, i);
      owner.last_reader = std::max(owner.last_reader, i);
    }
  }
  for (const auto& [layer, span] : layers) {
    if (span.staged.empty() || span.first_reader == kNone) continue;
    // After the slot's previous occupant (layer - 2) is read for the last
    // time and not before the previous layer starts.
    std::size_t begin = 0;
    if (auto prev = layers.find(layer - 1); prev != layers.end() && prev->second.first_op != kNone) {
      begin = prev->second.first_op;
    }
    if (auto occupant = layers.find(layer - 2); occupant != layers.end() && !occupant->second.staged.empty()) {
      begin = std::max(begin, occupant->second.last_reader + 1);
    }
    std::vector<std::pair<workloads::OpId, double>> carriers;
    double weight_sum = 0;
    for (std::size_t i = begin; i < span.first_reader; ++i) {
      if (!runs_as_job(order[i])) continue;
      const auto& op = graph.op(order[i]);
      const double w = static_cast<double>(std::max<Bytes>(1, op.bytes_read.total() + op.bytes_written.total()));
      carriers.push_back({order[i], w});
      weight_sum += w;
    }
    if (carriers.empty()) {
      throw InputError(fmt::format("KV prefetch of layer {}: no op runs before its attention reads '{}' to carry the "
                                   "copy; set kv_cache.prefetch: false",
                                   layer, graph.tensor(span.staged.front()).name));
    }
    // The layer's caches as one byte stream, cut into the carriers' shares.
    Bytes total = 0;
    for (auto id : span.staged) total += placement.staged_bytes.at(id);
    std::size_t tensor = 0;
    Bytes offset = 0, assigned = 0;
    double weight_done = 0;
    for (std::size_t c = 0; c < carriers.size(); ++c) {
      weight_done += carriers[c].second;
      const Bytes until = c + 1 == carriers.size()
                              ? total
                              : static_cast<Bytes>(static_cast<double>(total) * weight_done / weight_sum);
      while (assigned < until && tensor < span.staged.size()) {
        const auto id = span.staged[tensor];
        const Bytes left_in_tensor = placement.staged_bytes.at(id) - offset;
        const Bytes take = std::min(left_in_tensor, until - assigned);
        out[carriers[c].first].push_back(
            {placement.tensors.at(id).address + offset, placement.staged_address.at(id) + offset, take});
        assigned += take;
        offset += take;
        if (offset == placement.staged_bytes.at(id)) {
          ++tensor;
          offset = 0;
        }
      }
    }
  }
  return out;
}

VectorProblem kv_copy_problem(const KvCopy& copy) {
  VectorProblem p;
  p.elements = copy.bytes;
  p.dtype = DType::int8;  // one byte per element: the copy moves bytes, not values
  p.in_bytes_per_element = 1;
  p.out_bytes_per_element = 1;
  p.in_address = copy.from;
  p.out_address = copy.to;
  return p;
}

}  // namespace npusim::mapper
