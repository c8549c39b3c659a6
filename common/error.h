#pragma once
// Errors that reach the user. Bad input (exit code 2) and simulation failures
// (exit code 1) are distinct types so the driver maps them without guessing.
#include <stdexcept>
#include <string>

namespace npusim {

// Something the user supplied is wrong: a config file, a flag, a model file.
// The message already names where (file, line, YAML path) and what was expected.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

// The simulated machine cannot run what it was given: a buffer overflow, a
// deadlock between pipes, a placement that does not fit.
class SimulationError : public std::runtime_error {
 public:
  explicit SimulationError(const std::string& message) : std::runtime_error(message) {}
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitSimulationError = 1;
inline constexpr int kExitBadInput = 2;

}  // namespace npusim
