#include "mapper/placement.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"

namespace npusim::mapper {
namespace {

constexpr Bytes kAlignment = 4096;

// First-fit allocator over one tier, for activations whose lifetimes end.
class ArenaAllocator {
 public:
  explicit ArenaAllocator(Bytes capacity) : capacity_(capacity) {}

  // Returns the offset or nullopt when no free range is large enough.
  std::optional<Bytes> allocate(Bytes size) {
    size = round_up(std::max<Bytes>(size, 1), kAlignment);
    Bytes cursor = 0;
    for (auto it = used_.begin(); it != used_.end(); ++it) {
      if (it->first - cursor >= size) return take(cursor, size);
      cursor = it->first + it->second;
    }
    if (capacity_ - std::min(capacity_, cursor) >= size) return take(cursor, size);
    return std::nullopt;
  }
  void release(Bytes offset) { used_.erase(offset); }
  Bytes peak() const { return peak_; }

 private:
  Bytes take(Bytes offset, Bytes size) {
    used_[offset] = size;
    peak_ = std::max(peak_, offset + size);
    return offset;
  }
  Bytes capacity_;
  std::map<Bytes, Bytes> used_;  // offset -> size
  Bytes peak_ = 0;
};

}  // namespace

Placement place_tensors(const workloads::Graph& graph, const MachineView& machine) {
  using workloads::TensorRole;
  Placement placement;
  placement.tensors.resize(graph.num_tensors());

  struct Tier {
    arch::Tier tier;
    Bytes capacity;
    Bytes used = 0;
  };
  std::vector<Tier> resident_tiers;
  if (machine.hbm_capacity > 0) resident_tiers.push_back({arch::Tier::hbm, machine.hbm_capacity});
  if (machine.ddr_capacity > 0) resident_tiers.push_back({arch::Tier::ddr, machine.ddr_capacity});
  if (resident_tiers.empty()) throw InputError("the machine has neither HBM nor DDR to hold weights");

  for (const auto& t : graph.tensors()) {
    if (t.role == TensorRole::activation) continue;
    const Bytes size = round_up(std::max<Bytes>(t.bytes(), 1), kAlignment);
    bool placed = false;
    for (auto& tier : resident_tiers) {
      if (tier.used + size > tier.capacity) continue;
      placement.tensors[t.id] = {tier.tier, arch::tier_base(tier.tier) + tier.used};
      tier.used += size;
      placement.resident_bytes[arch::tier_name(tier.tier)] += t.bytes();
      placed = true;
      break;
    }
    if (!placed) {
      std::string tried;
      for (const auto& tier : resident_tiers) {
        tried += fmt::format("{}{} ({} of {} B used)", tried.empty() ? "" : ", ", arch::tier_name(tier.tier), tier.used,
                             tier.capacity);
      }
      throw InputError(fmt::format("tensor '{}' ({} B, {}) does not fit in any tier: {}", t.name, t.bytes(),
                                   workloads::role_name(t.role), tried));
    }
  }

  // Activations share what the first tier has left, reused after last use.
  Tier& scratch_tier = resident_tiers.front();
  ArenaAllocator arena(scratch_tier.capacity - scratch_tier.used);
  const std::uint64_t scratch_base = arch::tier_base(scratch_tier.tier) + scratch_tier.used;
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
    auto offset = arena.allocate(t.bytes());
    if (!offset) {
      throw InputError(fmt::format("activation '{}' ({} B) does not fit in what {} has left after weights and KV",
                                   t.name, t.bytes(), arch::tier_name(scratch_tier.tier)));
    }
    placement.tensors[id] = {scratch_tier.tier, scratch_base + *offset};
    allocated[id] = true;
  };
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& op = graph.op(order[i]);
    for (auto id : op.inputs) allocate(id);  // graph inputs have no producer
    for (auto id : op.outputs) allocate(id);
    for (auto id : op.inputs) {
      if (allocated[id] && last_use[id] == i && graph.tensor(id).role == TensorRole::activation) {
        arena.release(placement.tensors[id].address - scratch_base);
      }
    }
  }
  for (const auto& tier : resident_tiers) placement.peak_bytes[arch::tier_name(tier.tier)] = tier.used;
  placement.peak_bytes[arch::tier_name(scratch_tier.tier)] += arena.peak();
  return placement;
}

}  // namespace npusim::mapper
