#!/usr/bin/env bash
# Installs what the build needs, builds from scratch and runs every test
# through CTest: once optimized with assertions on (the `check` preset, which
# also builds the example consumer against an installed copy), once under
# AddressSanitizer + UndefinedBehaviorSanitizer (the `asan` preset). Then
# runs every libFuzzer target for FUZZ_SECONDS (default 60; 0 skips them),
# as scripts/fuzz.sh does.
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

fuzz_seconds=${FUZZ_SECONDS:-60}
if ((fuzz_seconds > 0)); then
  echo "== fuzz: every target for $fuzz_seconds s"
  ./scripts/fuzz.sh "$fuzz_seconds"
fi
