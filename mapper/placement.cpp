#include "mapper/placement.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "common/error.h"
#include "mapper/compression/storage.h"

namespace npusim::mapper {
namespace {

using workloads::TensorRole;
constexpr Bytes kAlignment = 4096;

// First-fit allocator over one tier, for activations whose lifetimes end.
class ArenaAllocator {
 public:
  ArenaAllocator(std::uint64_t base, Bytes capacity) : base_(base), capacity_(capacity) {}

  std::optional<std::uint64_t> allocate(Bytes size) {
    size = round_up(std::max<Bytes>(size, 1), kAlignment);
    Bytes cursor = 0;
    for (const auto& [offset, length] : used_) {
      if (offset - cursor >= size) return take(cursor, size);
      cursor = offset + length;
    }
    if (capacity_ - std::min(capacity_, cursor) >= size) return take(cursor, size);
    return std::nullopt;
  }
  bool owns(std::uint64_t address) const { return address >= base_ && address < base_ + capacity_; }
  void release(std::uint64_t address) { used_.erase(address - base_); }
  Bytes peak() const { return peak_; }

 private:
  std::uint64_t take(Bytes offset, Bytes size) {
    used_[offset] = size;
    peak_ = std::max(peak_, offset + size);
    return base_ + offset;
  }
  std::uint64_t base_;
  Bytes capacity_;
  std::map<Bytes, Bytes> used_;  // offset -> size
  Bytes peak_ = 0;
};

struct TierState {
  Bytes capacity = 0;
  Bytes used = 0;  // resident bytes, from the tier's base
};

Bytes capacity_of(const MachineView& m, arch::Tier t) {
  switch (t) {
    case arch::Tier::sram: return m.sram_capacity;
    case arch::Tier::hbm: return m.hbm_capacity;
    case arch::Tier::ddr: return m.ddr_capacity;
  }
  return 0;
}

// A compression plan that says where the KV cache lives (its kv_cache.tier,
// recorded on the tensor) moves the cache's home tier; the policy's spill
// rule still applies, unless it would spill into that same tier.
TierRule kv_cache_rule(const workloads::Tensor& t, const TierRule& policy) {
  if (t.kv_format.tier.empty()) return policy;
  TierRule rule = policy;
  if (t.kv_format.tier == "ddr") rule.tier = arch::Tier::ddr;
  else if (t.kv_format.tier == "hbm") rule.tier = arch::Tier::hbm;
  else if (t.kv_format.tier == "sram") rule.tier = arch::Tier::sram;
  else throw InputError(fmt::format("tensor '{}': KV-cache tier '{}' is not hbm, ddr or sram", t.name, t.kv_format.tier));
  if (rule.has_spill && rule.spill == rule.tier) rule.has_spill = false;
  return rule;
}

// Stored bytes of a cache tensor: its compressed, paged size when a plan
// annotated it, else dense.
Bytes kv_stored_bytes(const workloads::Tensor& t) {
  if (t.kv_format.tier.empty() || t.shape.size() != 4) return t.bytes();
  const KvStorage s = kv_storage(t.kv_format, t.dtype, t.shape[0], t.shape[1], t.shape[2], t.shape[3]);
  return static_cast<Bytes>(std::ceil(s.allocated_bytes));
}

// Caches to prefetch: the plan asks, they ended up in DDR, and a matmul
// (attention) reads them; by layer.
std::map<int, std::vector<workloads::TensorId>> prefetched_caches(const workloads::Graph& graph,
                                                                   const Placement& placement) {
  std::vector<bool> read_by_matmul(graph.num_tensors(), false);
  for (auto id : graph.topological_order()) {
    const auto& op = graph.op(id);
    if (!workloads::is_matmul_like(op.kind)) continue;
    for (auto in : op.inputs) read_by_matmul[in] = true;
  }
  std::map<int, std::vector<workloads::TensorId>> by_layer;
  for (const auto& t : graph.tensors()) {
    if (t.role == TensorRole::kv_cache && t.kv_format.prefetch && read_by_matmul[t.id] &&
        placement.tensors[t.id].tier == arch::Tier::ddr) {
      by_layer[t.layer].push_back(t.id);
    }
  }
  return by_layer;
}

}  // namespace

std::uint64_t Placement::read_address(workloads::TensorId id) const {
  auto it = staged_address.find(id);
  return it != staged_address.end() ? it->second : tensors.at(id).address;
}

std::string Placement::describe() const {
  std::string out;
  for (const auto& [tier, bytes] : resident_bytes) {
    out += fmt::format("{}{} {:.2f} GB", out.empty() ? "" : ", ", tier, static_cast<double>(bytes) / 1e9);
  }
  return fmt::format("{} resident; {} tensors spilled", out.empty() ? "nothing" : out, spilled_tensors);
}

std::vector<bool> hot_experts(const workloads::Graph& graph, const PlacementPolicy& policy) {
  // tokens[layer][expert]: from the profile when there is one, else from
  // each expert's first matmul in this graph.
  std::map<int, std::map<int, std::uint64_t>> tokens;
  for (auto id : graph.topological_order()) {
    const auto& op = graph.op(id);
    if (op.expert >= 0 && op.matmul) {
      auto& t = tokens[op.layer][op.expert];
      t = std::max(t, op.matmul->m);
    }
  }
  if (!policy.expert_profile_source.empty()) {
    for (auto& [layer, experts] : tokens) {
      auto it = policy.expert_profile.find(static_cast<std::uint64_t>(layer));
      if (it == policy.expert_profile.end()) {
        throw InputError(fmt::format("{}: hot_from: the routing profile has no entry for MoE layer {}",
                                     policy.expert_profile_source, layer));
      }
      for (auto& [e, t] : experts) {
        if (static_cast<std::size_t>(e) >= it->second.size()) {
          throw InputError(fmt::format("{}: hot_from: layer {} of the routing profile has {} experts, the model more",
                                       policy.expert_profile_source, layer, it->second.size()));
        }
        t = it->second[static_cast<std::size_t>(e)];
      }
    }
  }
  const double fraction = policy.hot_expert_fraction;
  std::map<int, std::vector<bool>> hot_by_layer;
  for (auto& [layer, experts] : tokens) {
    std::vector<std::pair<std::uint64_t, int>> ranked;
    for (const auto& [e, t] : experts) ranked.push_back({t, e});
    // Most tokens first; ties by index so the choice is deterministic.
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    const auto keep = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(fraction * ranked.size())));
    auto& hot = hot_by_layer[layer];
    int max_e = 0;
    for (const auto& r : ranked) max_e = std::max(max_e, r.second);
    hot.assign(static_cast<std::size_t>(max_e) + 1, false);
    for (std::size_t i = 0; i < keep && i < ranked.size(); ++i) hot[static_cast<std::size_t>(ranked[i].second)] = true;
  }
  std::vector<bool> out(graph.num_tensors(), false);
  for (const auto& t : graph.tensors()) {
    if (t.expert < 0) continue;
    auto it = hot_by_layer.find(t.layer);
    out[t.id] = it != hot_by_layer.end() && static_cast<std::size_t>(t.expert) < it->second.size() &&
                it->second[static_cast<std::size_t>(t.expert)];
  }
  return out;
}

Placement place_tensors(const workloads::Graph& graph, const MachineView& machine, const PlacementPolicy& policy,
                        Bytes workspace_bytes, Bytes expansion_workspace_bytes) {
  Placement placement;
  placement.tensors.resize(graph.num_tensors());
  std::map<arch::Tier, TierState> tiers;
  for (arch::Tier t : {arch::Tier::sram, arch::Tier::hbm, arch::Tier::ddr}) tiers[t].capacity = capacity_of(machine, t);
  const std::vector<bool> hot = hot_experts(graph, policy);

  auto rule_for = [&](const workloads::Tensor& t) -> TierRule {
    if (t.role == TensorRole::kv_cache) return kv_cache_rule(t, policy.kv_cache);
    if (t.role == TensorRole::activation) return policy.activations;
    if (t.expert >= 0) return hot[t.id] ? policy.hot_experts : policy.cold_experts;
    return policy.weights;
  };
  auto fail = [&](const workloads::Tensor& t, const TierRule& rule) {
    const auto& home = tiers[rule.tier];
    std::string why = home.capacity == 0
                          ? fmt::format("the machine has no {} tier", arch::tier_name(rule.tier))
                          : fmt::format("{} has {} of {} B used", arch::tier_name(rule.tier), home.used, home.capacity);
    std::string spill = "the placement policy configures no spill tier for it";
    if (rule.has_spill) {
      const auto& s = tiers[rule.spill];
      spill = s.capacity == 0 ? fmt::format("its spill tier {} does not exist on this machine", arch::tier_name(rule.spill))
                              : fmt::format("its spill tier {} is full too ({} of {} B used)", arch::tier_name(rule.spill),
                                            s.used, s.capacity);
    }
    throw InputError(fmt::format("tensor '{}' ({} B, {}) does not fit in tier {}: {}, and {}", t.name, t.bytes(),
                                 workloads::role_name(t.role), arch::tier_name(rule.tier), why, spill));
  };

  // Resident tensors, in graph order.
  for (const auto& t : graph.tensors()) {
    if (t.role == TensorRole::activation) continue;
    const TierRule rule = rule_for(t);
    const Bytes size = round_up(std::max<Bytes>(t.bytes(), 1), kAlignment);
    std::optional<arch::Tier> chosen;
    for (int attempt = 0; attempt < (rule.has_spill ? 2 : 1) && !chosen; ++attempt) {
      const arch::Tier tier = attempt == 0 ? rule.tier : rule.spill;
      if (tiers[tier].used + size <= tiers[tier].capacity) chosen = tier;
    }
    if (!chosen) fail(t, rule);
    auto& state = tiers[*chosen];
    placement.tensors[t.id] = {*chosen, arch::tier_base(*chosen) + state.used, *chosen != rule.tier};
    if (*chosen != rule.tier) ++placement.spilled_tensors;
    state.used += size;
    placement.resident_bytes[arch::tier_name(*chosen)] += t.bytes();
  }

  // KV prefetch staging: two slots of the largest layer's prefetched cache,
  // so layer i reads one while layer i + 1's is copied into the other.
  const auto prefetched = prefetched_caches(graph, placement);
  if (!prefetched.empty()) {
    Bytes slot = 0;
    for (const auto& [layer, ids] : prefetched) {
      Bytes layer_bytes = 0;
      for (auto id : ids) layer_bytes += round_up(kv_stored_bytes(graph.tensor(id)), kAlignment);
      slot = std::max(slot, layer_bytes);
    }
    auto& hbm = tiers[arch::Tier::hbm];
    const auto& first = graph.tensor(prefetched.begin()->second.front());
    if (hbm.capacity == 0) {
      throw InputError(fmt::format("tensor '{}': KV prefetch stages the next layer's cache in HBM, and the machine has "
                                   "no hbm tier; set kv_cache.prefetch: false",
                                   first.name));
    }
    if (hbm.used + 2 * slot > hbm.capacity) {
      throw InputError(fmt::format("the KV prefetch staging buffer (2 x {} B, for tensors such as '{}') does not fit in "
                                   "tier hbm: {} of {} B used",
                                   slot, first.name, hbm.used, hbm.capacity));
    }
    const std::uint64_t base = arch::tier_base(arch::Tier::hbm) + hbm.used;
    for (const auto& [layer, ids] : prefetched) {
      std::uint64_t at = base + static_cast<std::uint64_t>(layer < 0 ? 0 : layer % 2) * slot;
      for (auto id : ids) {
        const Bytes bytes = kv_stored_bytes(graph.tensor(id));
        placement.staged_address[id] = at;
        placement.staged_bytes[id] = bytes;
        at += round_up(bytes, kAlignment);
      }
    }
    hbm.used += 2 * slot;
    placement.kv_staging_bytes = 2 * slot;
    placement.resident_bytes["hbm"] += 2 * slot;
  }

  // Activations: arenas over what each tier has left, reused after last use.
  std::map<arch::Tier, ArenaAllocator> arenas;
  for (auto& [tier, state] : tiers) {
    arenas.emplace(tier, ArenaAllocator(arch::tier_base(tier) + state.used, state.capacity - std::min(state.capacity, state.used)));
  }
  const TierRule& act = policy.activations;
  // Workspaces are held for the whole run, in the activations' tier like the tiles they stage.
  auto reserve = [&](Bytes bytes, const char* what) {
    std::optional<std::uint64_t> at = arenas.at(act.tier).allocate(bytes);
    if (!at && act.has_spill) at = arenas.at(act.spill).allocate(bytes);
    if (!at) {
      throw InputError(fmt::format("the {} ({} B) does not fit in tier {} or its spill tier", what, bytes,
                                   arch::tier_name(act.tier)));
    }
    return *at;
  };
  if (workspace_bytes > 0) {
    placement.workspace_address = reserve(workspace_bytes, "fusion workspace");
    placement.workspace_bytes = workspace_bytes;
  }
  if (expansion_workspace_bytes > 0) {
    placement.expansion_workspace_address = reserve(expansion_workspace_bytes, "weight expansion workspace");
    placement.expansion_workspace_bytes = expansion_workspace_bytes;
  }
  const auto order = graph.topological_order();
  std::vector<std::size_t> last_use(graph.num_tensors(), 0);
  for (std::size_t i = 0; i < order.size(); ++i) {
    for (auto id : graph.op(order[i]).inputs) last_use[id] = i;
    for (auto id : graph.op(order[i]).outputs) last_use[id] = std::max(last_use[id], i);
  }
  std::vector<bool> allocated(graph.num_tensors(), false);
  auto allocate = [&](workloads::TensorId id) {
    const auto& t = graph.tensor(id);
    if (t.role != TensorRole::activation || allocated[id]) return;
    std::optional<std::uint64_t> at = arenas.at(act.tier).allocate(t.bytes());
    arch::Tier tier = act.tier;
    if (!at && act.has_spill) {
      tier = act.spill;
      at = arenas.at(tier).allocate(t.bytes());
      if (at) ++placement.spilled_tensors;
    }
    if (!at) fail(t, act);
    placement.tensors[id] = {tier, *at, tier != act.tier};
    allocated[id] = true;
  };
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& op = graph.op(order[i]);
    for (auto id : op.inputs) allocate(id);  // graph inputs have no producer
    for (auto id : op.outputs) allocate(id);
    for (auto id : op.inputs) {
      if (allocated[id] && last_use[id] == i && graph.tensor(id).role == TensorRole::activation) {
        arenas.at(placement.tensors[id].tier).release(placement.tensors[id].address);
      }
    }
  }
  for (auto& [tier, state] : tiers) {
    const Bytes peak = state.used + arenas.at(tier).peak();
    if (peak > 0) placement.peak_bytes[arch::tier_name(tier)] = peak;
  }
  return placement;
}

}  // namespace npusim::mapper
