#!/usr/bin/env bash
# Installs dependencies, builds npusim and runs the whole test suite.
# With --sanitize it builds and tests the AddressSanitizer/UBSan build too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh release
(cd build && ctest --output-on-failure -j"$(nproc)")
if [[ ${1:-} == "--sanitize" ]]; then
  scripts/build.sh asan
  # SystemC keeps its kernel alive until exit by design, so leak checks would
  # only report the kernel; address and undefined-behaviour checks stay on.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure -j"$(nproc)")
fi
