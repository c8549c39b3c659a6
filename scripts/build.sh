#!/usr/bin/env bash
# Configures and builds npusim with a preset from CMakePresets.json.
# Usage: scripts/build.sh [release|asan]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
case "$preset" in
  release|asan) ;;
  *) echo "build.sh: unknown preset '$preset' (expected release or asan)" >&2; exit 2 ;;
esac
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j"$(nproc)"
