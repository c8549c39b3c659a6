#pragma once
// Number formatting shared by the terminal summary and the report table.
#include <string>

namespace npusim::stats {

// "1.235 ms", "12.3 GB/s": value scaled to an SI prefix between p and P,
// with `digits` significant digits. Zero prints as "0 <unit>".
std::string si(double value, const std::string& unit, int digits = 4);

// Shortest text that reads back to the same double ("0.1", "2e-12").
std::string exact(double value);

}  // namespace npusim::stats
