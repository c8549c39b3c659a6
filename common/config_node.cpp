#include "common/config_node.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "common/error.h"

namespace npusim {
namespace {

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

// Parses the whole string as a finite double; nullopt otherwise.
std::optional<double> parse_double(const std::string& text) {
  const std::string t = trim(text);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(t.c_str(), &end);
  if (errno != 0 || end != t.c_str() + t.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

ConfigNode::ConfigNode(YAML::Node node, std::shared_ptr<const std::string> file, std::string path)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)) {}

ConfigNode ConfigNode::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open file", path));
  try {
    return ConfigNode(YAML::Load(in), std::make_shared<const std::string>(path), "");
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}:{}: YAML syntax error: {}", path, e.mark.line + 1, e.msg));
  }
}

ConfigNode ConfigNode::load_string(const std::string& text, const std::string& origin) {
  try {
    return ConfigNode(YAML::Load(text), std::make_shared<const std::string>(origin), "");
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}:{}: YAML syntax error: {}", origin, e.mark.line + 1, e.msg));
  }
}

int ConfigNode::line() const {
  if (!node_) return 0;
  const auto mark = node_.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

std::string ConfigNode::where() const {
  const std::string shown_path = path_.empty() ? "(top level)" : path_;
  return line() > 0 ? fmt::format("{}:{}: {}", *file_, line(), shown_path)
                    : fmt::format("{}: {}", *file_, shown_path);
}

void ConfigNode::fail(const std::string& expected) const {
  std::string got;
  if (is_null()) {
    got = "nothing";
  } else if (node_.IsScalar()) {
    got = fmt::format("\"{}\"", node_.Scalar());
  } else if (node_.IsMap()) {
    got = "a map";
  } else {
    got = "a list";
  }
  throw InputError(fmt::format("{}: expected {}, got {}", where(), expected, got));
}

void ConfigNode::fail_message(const std::string& message) const {
  throw InputError(fmt::format("{}: {}", where(), message));
}

void ConfigNode::expect_map() const {
  if (!node_.IsMap()) fail("a map of keys");
}

bool ConfigNode::has(const std::string& key) const {
  return node_.IsMap() && static_cast<bool>(node_[key]);
}

std::optional<ConfigNode> ConfigNode::find(const std::string& key) const {
  if (!node_.IsMap()) return std::nullopt;
  // Look up by iteration: operator[] on a const node is fine, but iterating
  // gives us the key's own mark when the value is null.
  for (const auto& kv : node_) {
    if (kv.first.Scalar() == key) {
      YAML::Node value = kv.second;
      return ConfigNode(value ? value : YAML::Node(YAML::NodeType::Null), file_, join_path(path_, key));
    }
  }
  return std::nullopt;
}

ConfigNode ConfigNode::operator[](const std::string& key) const {
  expect_map();
  auto child = find(key);
  if (!child) fail_message(fmt::format("missing required key '{}'", key));
  return *child;
}

std::vector<std::string> ConfigNode::keys() const {
  std::vector<std::string> out;
  if (!node_.IsMap()) return out;
  for (const auto& kv : node_) out.push_back(kv.first.Scalar());
  return out;
}

std::vector<ConfigNode> ConfigNode::elements() const {
  if (!node_.IsSequence()) fail("a list");
  std::vector<ConfigNode> out;
  std::size_t i = 0;
  for (const auto& element : node_) {
    out.push_back(ConfigNode(element, file_, fmt::format("{}[{}]", path_, i++)));
  }
  return out;
}

std::size_t ConfigNode::size() const { return node_.size(); }

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

void ConfigNode::expect_keys(const std::vector<std::string>& allowed) const {
  expect_map();
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string hint;
    std::size_t best = 3;
    for (const auto& candidate : allowed) {
      const std::size_t d = edit_distance(key, candidate);
      if (d < best) {
        best = d;
        hint = fmt::format(" (did you mean '{}'?)", candidate);
      }
    }
    std::string list;
    for (const auto& candidate : allowed) list += (list.empty() ? "" : ", ") + candidate;
    const ConfigNode key_node(kv.first, file_, join_path(path_, key));
    throw InputError(fmt::format("{}: unknown key '{}'{}; allowed keys: {}", key_node.where(), key, hint, list));
  }
}

std::string ConfigNode::raw() const {
  if (!node_.IsScalar()) fail("a single value");
  return node_.Scalar();
}

std::string ConfigNode::as_string() const {
  if (!node_.IsScalar()) fail("a string");
  return node_.Scalar();
}

std::int64_t ConfigNode::as_int() const {
  if (!node_.IsScalar()) fail("an integer");
  const std::string t = trim(node_.Scalar());
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(t.c_str(), &end, 10);
  if (t.empty() || errno != 0 || end != t.c_str() + t.size()) fail("an integer");
  return v;
}

std::uint64_t ConfigNode::as_positive_int() const {
  if (!node_.IsScalar()) fail("a positive integer");
  const std::string t = trim(node_.Scalar());
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(t.c_str(), &end, 10);
  if (t.empty() || errno != 0 || end != t.c_str() + t.size() || v < 1) fail("a positive integer");
  return static_cast<std::uint64_t>(v);
}

std::uint64_t ConfigNode::as_count() const {
  if (!node_.IsScalar()) fail("a non-negative integer");
  const std::string t = trim(node_.Scalar());
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(t.c_str(), &end, 10);
  if (t.empty() || errno != 0 || end != t.c_str() + t.size() || v < 0) fail("a non-negative integer");
  return static_cast<std::uint64_t>(v);
}

double ConfigNode::as_double() const {
  if (!node_.IsScalar()) fail("a number");
  auto v = parse_double(node_.Scalar());
  if (!v) fail("a number");
  return *v;
}

double ConfigNode::as_positive_double() const {
  if (!node_.IsScalar()) fail("a positive number");
  auto v = parse_double(node_.Scalar());
  if (!v || *v <= 0) fail("a positive number");
  return *v;
}

double ConfigNode::as_fraction() const {
  if (!node_.IsScalar()) fail("a fraction between 0 and 1");
  auto v = parse_double(node_.Scalar());
  if (!v || *v < 0 || *v > 1) fail("a fraction between 0 and 1");
  return *v;
}

bool ConfigNode::as_bool() const {
  if (!node_.IsScalar()) fail("true or false");
  const std::string t = trim(node_.Scalar());
  if (t == "true") return true;
  if (t == "false") return false;
  fail("true or false");
}

std::string ConfigNode::as_choice(const std::vector<std::string>& choices) const {
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : " | ") + c;
  if (!node_.IsScalar()) fail("one of " + list);
  const std::string t = trim(node_.Scalar());
  if (std::find(choices.begin(), choices.end(), t) == choices.end()) fail("one of " + list);
  return t;
}

double ConfigNode::quantity(const std::string& what,
                            const std::vector<std::pair<std::string, double>>& units,
                            bool bare_number_ok) const {
  std::string unit_list;
  for (const auto& u : units) unit_list += (unit_list.empty() ? "" : ", ") + u.first;
  const std::string expected = fmt::format("{} with a unit ({})", what, unit_list);
  if (!node_.IsScalar()) fail(expected);
  const std::string text = trim(node_.Scalar());
  // Split at the first character that cannot belong to a number.
  std::size_t split = 0;
  while (split < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[split])) || text[split] == '.' || text[split] == '-' ||
          text[split] == '+' || ((text[split] == 'e' || text[split] == 'E') && split > 0 &&
                                 split + 1 < text.size() &&
                                 (std::isdigit(static_cast<unsigned char>(text[split + 1])) ||
                                  text[split + 1] == '-' || text[split + 1] == '+')))) {
    ++split;
  }
  const auto number = parse_double(text.substr(0, split));
  const std::string unit = trim(text.substr(split));
  if (!number || *number < 0) fail(expected);
  if (unit.empty()) {
    if (bare_number_ok) return *number;
    fail(expected);
  }
  for (const auto& u : units) {
    if (u.first == unit) return *number * u.second;
  }
  fail(expected);
}

Bytes ConfigNode::as_bytes() const {
  static const std::vector<std::pair<std::string, double>> units = {
      {"B", 1},        {"KiB", 1024.0}, {"MiB", 1024.0 * 1024}, {"GiB", 1024.0 * 1024 * 1024},
      {"TiB", 1024.0 * 1024 * 1024 * 1024}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}};
  const double v = quantity("a size", units, true);
  if (v != std::floor(v)) fail("a whole number of bytes");
  return static_cast<Bytes>(v);
}

double ConfigNode::as_frequency_hz() const {
  static const std::vector<std::pair<std::string, double>> units = {
      {"Hz", 1}, {"kHz", 1e3}, {"MHz", 1e6}, {"GHz", 1e9}};
  const double v = quantity("a frequency", units, false);
  if (v <= 0) fail("a positive frequency with a unit (Hz, kHz, MHz, GHz)");
  return v;
}

double ConfigNode::as_bandwidth_Bps() const {
  static const std::vector<std::pair<std::string, double>> units = {
      {"B/s", 1}, {"KB/s", 1e3}, {"MB/s", 1e6}, {"GB/s", 1e9}, {"TB/s", 1e12},
      {"KiB/s", 1024.0}, {"MiB/s", 1024.0 * 1024}, {"GiB/s", 1024.0 * 1024 * 1024}};
  const double v = quantity("a bandwidth", units, false);
  if (v <= 0) fail("a positive bandwidth with a unit (GB/s, TB/s, ...)");
  return v;
}

double ConfigNode::as_seconds() const {
  static const std::vector<std::pair<std::string, double>> units = {
      {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"ns", 1e-9}, {"ps", 1e-12}};
  return quantity("a duration", units, false);
}

double ConfigNode::as_energy_j() const {
  static const std::vector<std::pair<std::string, double>> units = {
      {"J", 1}, {"mJ", 1e-3}, {"uJ", 1e-6}, {"nJ", 1e-9}, {"pJ", 1e-12}, {"fJ", 1e-15}};
  return quantity("an energy", units, false);
}

double ConfigNode::as_power_w() const {
  static const std::vector<std::pair<std::string, double>> units = {
      {"W", 1}, {"mW", 1e-3}, {"uW", 1e-6}, {"kW", 1e3}};
  return quantity("a power", units, false);
}

}  // namespace npusim
