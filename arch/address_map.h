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
