#pragma once
// SHA-256 (FIPS 180-4), for content-addressed run keys. A run's key must be
// stable across machines and releases, so no library hash with an
// implementation-defined result (std::hash) will do.
#include <array>
#include <cstdint>
#include <string>

namespace npusim::stats {

std::array<std::uint8_t, 32> sha256(const std::string& data);
std::string sha256_hex(const std::string& data);  // 64 lowercase hex digits

}  // namespace npusim::stats
