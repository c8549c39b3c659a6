#pragma once
// One global address space for every tier a tensor may live in. The mapper
// places tensors at addresses; the on-chip network routes by address.
#include <cstdint>

namespace npusim::arch {

enum class Tier { sram, hbm, ddr };

inline constexpr std::uint64_t kHbmBase = 0;
inline constexpr std::uint64_t kDdrBase = 1ULL << 44;
inline constexpr std::uint64_t kSramBase = 1ULL << 46;

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
