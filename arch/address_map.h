#pragma once
// One global address space for every tier a tensor may live in. The mapper
// places tensors at addresses; the on-chip network routes by address.
#include <cstdint>

namespace npusim::arch {

enum class Tier { sram, hbm, ddr };

inline constexpr std::uint64_t kHbmBase = 0;
inline constexpr std::uint64_t kDdrBase = 1ULL << 44;
inline constexpr std::uint64_t kSramBase = 1ULL << 46;

// Stream queues (arch/stream/) of layer-pipelined dataflow live in a window
// of the HBM tier's address range far above any HBM capacity, so the network
// routes them like HBM traffic and the Machine peels them off in front of
// the HBM-side port. Queue q spans kStreamQueueSpan bytes of addresses: entry
// t (a micro-batch) of a queue with E-byte entries is at q*span + t*E.
inline constexpr std::uint64_t kStreamBase = 1ULL << 43;
inline constexpr std::uint64_t kStreamQueueSpan = 1ULL << 36;
inline constexpr std::uint32_t kStreamQueues = 64;

inline bool is_stream_address(std::uint64_t address) {
  return address >= kStreamBase && address < kStreamBase + kStreamQueues * kStreamQueueSpan;
}
inline std::uint64_t stream_address(std::uint32_t queue, std::uint64_t offset) {
  return kStreamBase + queue * kStreamQueueSpan + offset;
}

// Barrier counters beside the queues (served by the same block): a store to
// barrier_address(b, n) counts one arrival at barrier b; a load from it
// returns once n arrivals have been counted. It models a cross-core sync
// (a shared flag word the waiters poll), used to order work between core
// groups that exchange no data, e.g. weight preloads wave by wave. The
// count a waiter needs is part of the address, so barriers need no setup.
inline constexpr std::uint64_t kBarrierBase = kStreamBase + kStreamQueues * kStreamQueueSpan;
inline constexpr std::uint64_t kBarrierSpan = 1ULL << 20;
inline constexpr std::uint32_t kBarriers = 1u << 16;

inline bool is_barrier_address(std::uint64_t address) {
  return address >= kBarrierBase && address < kBarrierBase + kBarriers * kBarrierSpan;
}
inline std::uint64_t barrier_address(std::uint32_t barrier, std::uint32_t arrivals) {
  return kBarrierBase + barrier * kBarrierSpan + arrivals;
}

inline Tier tier_of(std::uint64_t address) {
  if (address >= kSramBase) return Tier::sram;
  if (address >= kDdrBase) return Tier::ddr;
  return Tier::hbm;
}

inline std::uint64_t tier_base(Tier tier) {
  switch (tier) {
    case Tier::sram: return kSramBase;
    case Tier::ddr: return kDdrBase;
    case Tier::hbm: return kHbmBase;
  }
  return kHbmBase;
}

inline const char* tier_name(Tier tier) {
  switch (tier) {
    case Tier::sram: return "sram";
    case Tier::hbm: return "hbm";
    case Tier::ddr: return "ddr";
  }
  return "?";
}

}  // namespace npusim::arch
