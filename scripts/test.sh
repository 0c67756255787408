#!/usr/bin/env bash
# Installs what the build needs, builds from scratch and runs every test
# through CTest: once optimized with assertions on (the `check` preset, which
# also builds the example consumer against an installed copy), once under
# AddressSanitizer + UndefinedBehaviorSanitizer (the `asan` preset).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh build
jobs=$(nproc)

for preset in check asan; do
  echo "== $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset: test"
  ctest --preset "$preset" -j "$jobs"
done
