#include "mapper/dataflow/chunk_layout.h"

#include <algorithm>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "arch/address_map.h"
#include "common/error.h"
#include "mapper/dataflow/pipeline_sync.h"
#include "mapper/fusion/workspace.h"

namespace npusim::mapper::pipeline {
namespace {

using workloads::TensorRole;

constexpr Bytes kRegionAlignment = 4096;  // as placement aligns what it places

Bytes round_up(Bytes bytes, Bytes to) { return (bytes + to - 1) / to * to; }

constexpr const char* kAppendSuffix = ".append";

bool is_append(const std::string& name) {
  const std::string suffix = kAppendSuffix;
  return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The cache tensor a chunk's appended entries belong to.
std::string cache_of(const std::string& name) {
  return is_append(name) ? name.substr(0, name.size() - std::string(kAppendSuffix).size()) : name;
}

Bytes capacity(const MachineView& m, arch::Tier tier) {
  switch (tier) {
    case arch::Tier::sram: return m.sram_capacity;
    case arch::Tier::ddr: return m.ddr_capacity;
    case arch::Tier::hbm: return m.hbm_capacity;
  }
  return 0;
}

// The lowest and one past the highest address of the activations and workspace.
std::pair<std::uint64_t, std::uint64_t> extent(const workloads::Graph& g, const Placement& p) {
  std::uint64_t lo = std::numeric_limits<std::uint64_t>::max(), hi = 0;
  for (const auto& t : g.tensors()) {
    if (t.role != TensorRole::activation) continue;
    lo = std::min(lo, p.tensors.at(t.id).address);
    hi = std::max(hi, p.tensors.at(t.id).address + t.bytes());
  }
  if (p.workspace_bytes > 0) {
    lo = std::min(lo, p.workspace_address);
    hi = std::max(hi, p.workspace_address + p.workspace_bytes);
  }
  return {lo, hi};
}

}  // namespace

ChunkAssignment assign_chunk_ops(const workloads::Graph& g, int layers, const std::vector<LayerSegment>& segments,
                                 std::size_t stages) {
  ChunkAssignment a;
  a.layer = layer_of_ops(g, layers);
  a.segment.assign(g.num_ops(), 0);
  a.stage.assign(g.num_ops(), 0);
  for (auto id : g.topological_order()) {
    for (std::size_t k = 0; k < segments.size(); ++k) {
      const auto& seg = segments[k];
      if (a.layer[id] < seg.first_layer || a.layer[id] > seg.last_layer) continue;
      const auto n = static_cast<std::size_t>(seg.last_layer - seg.first_layer + 1);
      a.segment[id] = k;
      a.stage[id] = static_cast<std::size_t>(a.layer[id] - seg.first_layer) * stages / n;
    }
  }
  return a;
}

ChunkLayout::ChunkLayout(const std::vector<workloads::Graph>& chunks, const MachineView& sub,
                         const MapperOptions& options, std::size_t stages, std::size_t slots)
    : stages_(stages), slots_(slots), chunks_(chunks.size()) {
  const workloads::Graph& last_chunk = chunks.back();
  const Bytes workspace = fusion_workspace_bytes(sub);
  const Placement ref = place_tensors(last_chunk, sub, options.placement, workspace);
  std::optional<arch::Tier> tier;
  std::uint64_t lowest = std::numeric_limits<std::uint64_t>::max();
  for (const auto& t : last_chunk.tensors()) {
    const TensorPlace& p = ref.tensors.at(t.id);
    if (t.role == TensorRole::weight) {
      weights_[t.name] = p;
      continue;
    }
    if (p.spilled || (tier && *tier != p.tier)) {
      reason_ = fmt::format("tensor '{}' is in tier {}{}, and one layout of the chunks' KV cache and activations "
                            "needs them all in one tier",
                            t.name, arch::tier_name(p.tier), p.spilled ? " (spilled)" : "");
      return;
    }
    tier = p.tier;
    if (t.role == TensorRole::activation) lowest = std::min(lowest, p.address);
    if (t.role == TensorRole::kv_cache && is_append(t.name)) pages_[cache_of(t.name)] = t.bytes();
  }
  if (!ref.staged_address.empty()) {
    reason_ = "the KV cache is prefetched into staging slots, which the chunks' shared layout does not model";
    return;
  }
  if (!tier) {
    reason_ = "the step has no KV cache or activations to lay out";
    return;
  }
  tier_ = *tier;
  if (ref.workspace_bytes > 0) lowest = std::min(lowest, ref.workspace_address);
  // The KV pages where the reference placed its activations, and the
  // activation regions after them.
  std::uint64_t at = lowest;
  for (const auto& [cache, page] : pages_) {
    kv_region_[cache] = at;
    at += round_up(page * chunks.size(), kRegionAlignment);
  }
  for (const auto& g : chunks) {
    const auto [lo, hi] = extent(g, place_tensors(g, sub, options.placement, workspace));
    span_ = std::max(span_, hi - lo);
  }
  span_ = round_up(span_, kRegionAlignment);
  activation_base_ = at;
  const std::uint64_t end = at + regions() * span_;
  const std::uint64_t capacity_end = arch::tier_base(tier_) + capacity(sub, tier_);
  if (end > capacity_end) {
    reason_ = fmt::format("the KV pages and {} activation regions of {} B need {} B of tier {} past its capacity",
                          regions(), span_, end - capacity_end, arch::tier_name(tier_));
  }
}

void ChunkLayout::relocate(const workloads::Graph& g, std::size_t chunk, const ChunkAssignment& at,
                           Placement& p) const {
  const auto [lowest, highest] = extent(g, p);
  if (highest - lowest > span_) {
    throw SimulationError(fmt::format("{}: activations span {} B, past the {} B region laid out for them", g.name(),
                                      highest - lowest, span_));
  }
  const std::vector<std::uint64_t> region = activation_regions(g, chunk, at);
  for (const auto& t : g.tensors()) {
    TensorPlace& place = p.tensors.at(t.id);
    if (t.role == TensorRole::weight) {
      place = weights_.at(t.name);
    } else if (t.role == TensorRole::kv_cache) {
      const std::string cache = cache_of(t.name);
      place.tier = tier_;
      place.address = kv_region_.at(cache) + (is_append(t.name) ? chunk * pages_.at(cache) : 0);
    } else {
      place.tier = tier_;
      place.address = activation_base_ + region[t.id] * span_ + (place.address - lowest);
    }
  }
  if (p.workspace_bytes > 0) p.workspace_address = activation_base_ + (p.workspace_address - lowest);
}

std::vector<std::uint64_t> ChunkLayout::activation_regions(const workloads::Graph& g, std::size_t chunk,
                                                           const ChunkAssignment& at) const {
  std::vector<std::optional<workloads::OpId>> owner(g.num_tensors());
  std::vector<bool> other_stage(g.num_tensors(), false), other_job(g.num_tensors(), false);
  for (auto id : g.topological_order()) {
    for (auto t : g.op(id).outputs) owner[t] = id;
  }
  for (auto id : g.topological_order()) {
    for (auto t : g.op(id).inputs) {
      if (!owner[t]) owner[t] = id;
      other_stage[t] = other_stage[t] || at.stage[*owner[t]] != at.stage[id];
      other_job[t] = other_job[t] || at.segment[*owner[t]] != at.segment[id];
    }
  }
  std::vector<std::uint64_t> region(g.num_tensors(), 0);
  for (std::size_t t = 0; t < region.size(); ++t) {
    const std::size_t s = owner[t] ? at.stage[*owner[t]] : 0;
    region[t] = other_job[t]     ? stages_ * (1 + slots_) + chunk
                : other_stage[t] ? stages_ + s * slots_ + chunk % slots_
                                 : s;
  }
  return region;
}

}  // namespace npusim::mapper::pipeline
