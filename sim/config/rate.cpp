#include "sim/config/rate.h"

#include <cstdlib>
#include <string>

namespace npusim::arch {

namespace {
constexpr const char* kPerCycle = "B/cycle";
constexpr const char* kExpected = "a bandwidth in B/cycle or a rate (GB/s, TB/s, GiB/s, ...)";
}  // namespace

double bytes_per_cycle(const ConfigNode& node, const Clock& clock) {
  if (!node.is_scalar()) node.fail(kExpected);
  const std::string text = node.raw();
  const std::string suffix = kPerCycle;
  const auto at = text.rfind(suffix);
  if (at != std::string::npos && at + suffix.size() == text.size()) {
    const std::string number = text.substr(0, at);
    char* end = nullptr;
    const double v = std::strtod(number.c_str(), &end);
    while (end && (*end == ' ' || *end == '\t')) ++end;
    if (end == number.c_str() || (end && *end != '\0') || !(v > 0)) node.fail(kExpected);
    return v;
  }
  if (text.find("/s") == std::string::npos) node.fail(kExpected);
  return node.as_bandwidth_Bps() / clock.hz();
}

}  // namespace npusim::arch
