#include "stats/format.h"

#include <cmath>

#include <fmt/format.h>

namespace npusim::stats {

std::string si(double value, const std::string& unit, int digits) {
  if (value == 0 || !std::isfinite(value)) return fmt::format("{} {}", value, unit);
  static const char* prefixes[] = {"p", "n", "u", "m", "", "k", "M", "G", "T", "P"};
  int index = static_cast<int>(std::floor(std::log10(std::fabs(value)) / 3)) + 4;
  index = std::max(0, std::min(9, index));
  const double scaled = value / std::pow(1000.0, index - 4);
  return fmt::format("{:.{}g} {}{}", scaled, digits, prefixes[index], unit);
}

std::string exact(double value) { return fmt::format("{}", value); }

}  // namespace npusim::stats
