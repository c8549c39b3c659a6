#include "mapper/compression/name_glob.h"

#include <cstdint>
#include <vector>

namespace npusim::mapper {
namespace {

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The alternatives of one brace group's body; a range `a..b` expands to its
// integers. Empty result: the body is malformed.
std::vector<std::string> alternatives(const std::string& body) {
  std::vector<std::string> out;
  const auto dots = body.find("..");
  if (dots != std::string::npos && body.find(',') == std::string::npos) {
    const std::string lo = body.substr(0, dots), hi = body.substr(dots + 2);
    if (!all_digits(lo) || !all_digits(hi) || lo.size() > 9 || hi.size() > 9) return {};
    const std::int64_t a = std::stoll(lo), b = std::stoll(hi);
    if (a > b) return {};
    for (std::int64_t v = a; v <= b; ++v) out.push_back(std::to_string(v));
    return out;
  }
  std::string current;
  for (char c : body) {
    if (c == ',') {
      out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  out.push_back(current);
  return out;
}

// Backtracking match of pattern[p..] against name[n..].
bool match_from(const std::string& pat, std::size_t p, const std::string& name, std::size_t n) {
  while (p < pat.size()) {
    const char c = pat[p];
    if (c == '*') {
      // Try every split; names are short (< 100 characters), patterns shorter.
      for (std::size_t k = n; k <= name.size(); ++k) {
        if (match_from(pat, p + 1, name, k)) return true;
      }
      return false;
    }
    if (c == '{') {
      const auto close = pat.find('}', p);
      for (const std::string& alt : alternatives(pat.substr(p + 1, close - p - 1))) {
        if (name.compare(n, alt.size(), alt) == 0 && match_from(pat, close + 1, name, n + alt.size())) return true;
      }
      return false;
    }
    if (n >= name.size()) return false;
    if (c != '?' && c != name[n]) return false;
    ++p;
    ++n;
  }
  return n == name.size();
}

}  // namespace

std::optional<std::string> name_glob_error(const std::string& pattern) {
  if (pattern.empty()) return std::string("an empty pattern matches no op");
  std::size_t p = 0;
  while (p < pattern.size()) {
    if (pattern[p] == '}') return "'}' at position " + std::to_string(p) + " has no '{'";
    if (pattern[p] != '{') {
      ++p;
      continue;
    }
    const auto close = pattern.find('}', p);
    if (close == std::string::npos) return "'{' at position " + std::to_string(p) + " is never closed";
    const std::string body = pattern.substr(p + 1, close - p - 1);
    if (body.find('{') != std::string::npos) return std::string("braces do not nest");
    if (alternatives(body).empty()) return "'{" + body + "}' is not a list a,b or an increasing range lo..hi";
    p = close + 1;
  }
  return std::nullopt;
}

bool name_glob_match(const std::string& pattern, const std::string& name) {
  return match_from(pattern, 0, name, 0);
}

}  // namespace npusim::mapper
