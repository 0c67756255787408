#!/usr/bin/env bash
# Installs what the build needs, builds from scratch and runs every test
# through CTest: once optimized with assertions on (the `check` preset, which
# also builds the example consumer against an installed copy), once under
# AddressSanitizer + UndefinedBehaviorSanitizer (the `asan` preset). Then
# runs every libFuzzer target for FUZZ_SECONDS (default 60; 0 skips them),
# as scripts/fuzz.sh does.
#
#   scripts/test.sh [--repeat N] [--load K] [--preset NAME]...
#
# --repeat N   runs each preset's whole suite N times in a row (default 1),
#              stopping at the first round that fails
# --load K     keeps K busy loops spinning on the CPU while the tests run,
#              to show that no test depends on the machine being quiet
# --preset P   only this preset (check or asan); may be given twice
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/test.sh [--repeat N] [--load K] [--preset check|asan]..." >&2
  exit 2
}
repeat=1 load=0 presets=()
while (($# > 0)); do
  case "$1" in
    --repeat) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || usage; repeat=$2; shift 2 ;;
    --load) [[ "${2:-}" =~ ^[0-9]+$ ]] || usage; load=$2; shift 2 ;;
    --preset) [[ "${2:-}" == check || "${2:-}" == asan ]] || usage; presets+=("$2"); shift 2 ;;
    *) usage ;;
  esac
done
((${#presets[@]} > 0)) || presets=(check asan)

./scripts/deps.sh build
jobs=$(nproc)

for preset in "${presets[@]}"; do
  echo "== $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
done

spinners=()
stop_load() {
  ((${#spinners[@]} == 0)) || kill "${spinners[@]}" 2>/dev/null || true
  spinners=()
}
trap stop_load EXIT
for ((i = 0; i < load; i++)); do
  bash -c 'while :; do :; done' &
  spinners+=($!)
done
((load == 0)) || echo "== load: $load busy loops beside the tests"

for preset in "${presets[@]}"; do
  for ((round = 1; round <= repeat; round++)); do
    if ((repeat > 1)); then echo "== $preset: test, round $round of $repeat"; else echo "== $preset: test"; fi
    start=$SECONDS
    if ! ctest --preset "$preset" -j "$jobs"; then
      ((repeat == 1)) || echo "== $preset: round $round of $repeat FAILED" >&2
      exit 8
    fi
    ((repeat == 1)) || echo "== $preset: round $round of $repeat passed in $((SECONDS - start)) s"
  done
done
stop_load

fuzz_seconds=${FUZZ_SECONDS:-60}
if ((fuzz_seconds > 0)); then
  echo "== fuzz: every target for $fuzz_seconds s"
  ./scripts/fuzz.sh "$fuzz_seconds"
fi
