#pragma once
// Quantities that are easy to mix up get their own types, and every
// conversion between clock domains is an explicit call.
#include <cmath>
#include <cstdint>
#include <limits>

namespace npusim {

// Simulated time in picoseconds: the SystemC kernel runs at 1 ps resolution,
// and every clock domain converts its cycles into this one time base.
using Tick = std::uint64_t;
inline constexpr Tick kTicksPerSecond = 1'000'000'000'000ULL;
inline constexpr Tick kNever = std::numeric_limits<Tick>::max();

using Cycles = std::uint64_t;
using Bytes = std::uint64_t;

inline constexpr Bytes KiB = 1024;
inline constexpr Bytes MiB = 1024 * KiB;
inline constexpr Bytes GiB = 1024 * MiB;

// A clock domain. Conversions round once on the total rather than
// accumulating a rounded period, so N cycles is always N cycles of time.
class Clock {
 public:
  Clock() = default;
  explicit Clock(double hz) : hz_(hz) {}

  double hz() const { return hz_; }
  double period_ps() const { return 1e12 / hz_; }

  // Duration of `cycles` whole cycles, rounded up to the next picosecond.
  Tick to_ticks(double cycles) const {
    return static_cast<Tick>(std::ceil(cycles * 1e12 / hz_ - 1e-6));
  }
  // Whole cycles that have fully elapsed in `ticks`.
  Cycles to_cycles(Tick ticks) const {
    return static_cast<Cycles>(std::floor(static_cast<double>(ticks) * hz_ / 1e12 + 1e-9));
  }
  // Cycles in `ticks`, counting a started cycle as a cycle.
  Cycles to_cycles_ceil(Tick ticks) const {
    return static_cast<Cycles>(std::ceil(static_cast<double>(ticks) * hz_ / 1e12 - 1e-9));
  }

 private:
  double hz_ = 1e9;
};

inline double ticks_to_seconds(Tick t) { return static_cast<double>(t) / static_cast<double>(kTicksPerSecond); }

inline constexpr std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }
inline constexpr std::uint64_t round_up(std::uint64_t a, std::uint64_t b) { return ceil_div(a, b) * b; }

}  // namespace npusim
