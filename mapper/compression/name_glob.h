#pragma once
// Name patterns of compression rules, matched against op names such as
// `layers.3.mlp.down_proj` (Hugging Face module names, workloads/transformer.h).
//
//   *         any run of characters, dots included (`*.self_attn.*`)
//   ?         one character
//   {a,b,c}   one of the alternatives (`layers.{0,31}.*`)
//   {0..3}    one integer of the inclusive range, written in decimal
//
// A pattern must match the whole name. Braces do not nest.
#include <optional>
#include <string>

namespace npusim::mapper {

// Why the pattern is malformed (unbalanced or empty braces, a bad range), or
// nullopt when it is well formed.
std::optional<std::string> name_glob_error(const std::string& pattern);

// True when `name` matches; the pattern must be well formed.
bool name_glob_match(const std::string& pattern, const std::string& name);

}  // namespace npusim::mapper
