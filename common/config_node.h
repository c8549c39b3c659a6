#pragma once
// Phase one of configuration: a YAML node that remembers where it came from,
// so every error names the file, the line, the YAML path and what was
// expected. Phase two (each part's resolver) turns these into immutable typed
// structs; nothing past the resolvers ever sees YAML.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/units.h"

namespace npusim {

class ConfigNode {
 public:
  static ConfigNode load_file(const std::string& path);
  static ConfigNode load_string(const std::string& text, const std::string& origin);

  const std::string& file() const { return *file_; }
  const std::string& path() const { return path_; }
  int line() const;  // 1-based; 0 when the node has no source position

  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  bool is_null() const { return !node_ || node_.IsNull(); }

  bool has(const std::string& key) const;
  ConfigNode operator[](const std::string& key) const;  // the key must exist
  std::optional<ConfigNode> find(const std::string& key) const;
  std::vector<std::string> keys() const;       // map keys in file order
  std::vector<ConfigNode> elements() const;    // sequence elements
  std::size_t size() const;

  // Rejects any key not in `allowed`, suggesting the closest allowed one.
  void expect_keys(const std::vector<std::string>& allowed) const;
  void expect_map() const;

  std::string raw() const;  // the scalar text as written
  std::string as_string() const;
  std::int64_t as_int() const;
  std::uint64_t as_positive_int() const;  // >= 1
  std::uint64_t as_count() const;         // >= 0
  double as_double() const;
  double as_positive_double() const;
  double as_fraction() const;  // 0..1 inclusive
  bool as_bool() const;
  std::string as_choice(const std::vector<std::string>& choices) const;

  // Quantities with units. A bare number is accepted only where the unit is
  // unambiguous (bytes); the others must say their unit.
  Bytes as_bytes() const;             // 512 KiB, 192 MB, 64 GiB, 4096
  double as_frequency_hz() const;     // 1.8 GHz, 900 MHz
  double as_bandwidth_Bps() const;    // 1.6 TB/s, 410 GB/s, 32 GiB/s
  double as_seconds() const;          // 3.9 us, 350 ns, 2 ms
  double as_energy_j() const;         // 3.9 pJ, 0.2 nJ
  double as_power_w() const;          // 10 W, 250 mW

  // "<file>:<line>: <path>: expected <what>, got <value>"
  [[noreturn]] void fail(const std::string& expected) const;
  // "<file>:<line>: <path>: <message>" for errors that are not a bad value.
  [[noreturn]] void fail_message(const std::string& message) const;
  std::string where() const;  // "<file>:<line>: <path>"

 private:
  ConfigNode(YAML::Node node, std::shared_ptr<const std::string> file, std::string path);
  double quantity(const std::string& what, const std::vector<std::pair<std::string, double>>& units,
                  bool bare_number_ok) const;

  YAML::Node node_;
  std::shared_ptr<const std::string> file_;
  std::string path_;
};

// Levenshtein distance, for "did you mean" hints.
std::size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace npusim
