#pragma once
// Per-line bit masks of a tag block (at most 64 lines) and their runs of
// consecutive set bits, which become single requests to the tier below.
#include <cstdint>

namespace npusim::arch {

// Lines first..last inclusive, 0 <= first <= last < 64.
inline std::uint64_t line_span(unsigned first, unsigned last) {
  const unsigned n = last - first + 1;
  return (n == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << n) - 1)) << first;
}

inline unsigned line_count(std::uint64_t mask) { return static_cast<unsigned>(__builtin_popcountll(mask)); }

// Calls f(first_line, lines) for each run of set bits, lowest first.
template <typename F>
void for_each_line_run(std::uint64_t mask, F&& f) {
  while (mask) {
    const unsigned first = static_cast<unsigned>(__builtin_ctzll(mask));
    const std::uint64_t rest = ~(mask >> first);
    const unsigned lines = rest ? static_cast<unsigned>(__builtin_ctzll(rest)) : 64 - first;
    f(first, lines);
    mask &= ~line_span(first, first + lines - 1);
  }
}

}  // namespace npusim::arch
