#pragma once
// The model configs shipped in configs/models, for tests that must cover
// every one of them (a new model is covered without editing the test).
#include <string>
#include <vector>

namespace npusim::test {

// File names (not paths) under configs/models, sorted.
std::vector<std::string> shipped_models();

// A GoogleTest parameter name for a model file: its stem, with every
// character that is not alphanumeric replaced by '_'.
std::string model_test_name(const std::string& model_file);

}  // namespace npusim::test
