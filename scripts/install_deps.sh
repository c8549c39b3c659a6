#!/usr/bin/env bash
# Installs everything npusim needs from Debian's packages. Idempotent: a
# second run installs nothing new.
set -euo pipefail
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

packages=(
  build-essential cmake pkg-config git
  libsystemc-dev            # SystemC 2.3 + TLM-2.0, found with pkg-config
  libboost-graph-dev        # graph IR
  libfmt-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev
  libsqlite3-dev            # results store
  libgtest-dev              # tests
  libonnx-dev libprotobuf-dev protobuf-compiler   # ONNX import
  python3 python3-numpy python3-matplotlib        # plots
  python3-torch python3-onnx                      # scripts/trace_model.py
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "install_deps: all ${#packages[@]} packages already installed"
fi
