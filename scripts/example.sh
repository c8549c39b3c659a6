#!/usr/bin/env bash
# Installs dependencies, builds npusim and runs the default example: a
# Llama-2-7B decode step (batch 1, context 2048) on the Ascend-910B2-like chip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh release
mkdir -p results
build/npusim run --hw configs/hw/ascend-910b2.yaml --model configs/models/llama-2-7b.yaml \
  --phase decode --batch 1 --seq 2048 --json results/example.json --db results/example.db
