#include "sim/run/progress.h"

#include <iostream>

#include <fmt/format.h>

namespace npusim {

Progress::Progress(bool quiet)
    : quiet_(quiet), start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::update(std::size_t step, std::size_t steps, std::size_t job, std::size_t jobs, int layer) {
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(500)) return;
  last_ = now;
  const double done = (static_cast<double>(step) + static_cast<double>(job) / static_cast<double>(jobs)) /
                      static_cast<double>(steps);
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = done > 0 ? elapsed * (1 - done) / done : 0;
  std::cerr << fmt::format("\r[npusim] step {}/{} layer {} job {}/{}  {:5.1f}%  ETA {:.0f} s   ", step + 1, steps,
                           layer, job, jobs, 100 * done, eta)
            << std::flush;
  printed_ = true;
}

void Progress::finish() {
  if (printed_ && !quiet_) std::cerr << "\n";
}

}  // namespace npusim
