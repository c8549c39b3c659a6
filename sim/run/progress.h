#pragma once
// Progress of a long run on stderr: step, job and an estimate of the time
// left. Silent with --quiet, and never printed more than twice a second.
#include <chrono>
#include <cstddef>

namespace npusim {

class Progress {
 public:
  explicit Progress(bool quiet);
  void update(std::size_t step, std::size_t steps, std::size_t job, std::size_t jobs, int layer);
  void finish();

 private:
  bool quiet_;
  bool printed_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace npusim
