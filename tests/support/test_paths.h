#pragma once
#include <string>

namespace npusim::test {

// Absolute path of a file in the source tree (configs/, tests/data/, ...).
std::string source_path(const std::string& relative);

// Path of the built npusim executable, for end-to-end tests.
std::string npusim_binary();

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs a shell command with stdout and stderr captured separately.
CommandResult run_command(const std::string& command);

// A fresh empty directory under the build tree, unique per test.
std::string scratch_dir();

}  // namespace npusim::test
