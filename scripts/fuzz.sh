#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang (in build/fuzz, a
# project of its own) and runs each for SECONDS, two at a time, from its seed
# and regression corpora. Fails, naming the input to reproduce with, if a
# target crashes, hangs (over 10 s on one input), runs out of memory (2 GiB,
# or one allocation over 1 GiB, the cap of tests/data/memory_cap_test.cpp)
# or trips a sanitizer.
#   scripts/fuzz.sh [SECONDS [TARGET...]]   (default: 60 s, every target)
# New inputs that reach new code go to build/fuzz/run/corpus/TARGET, which a
# longer local run may keep (docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "usage: scripts/fuzz.sh [SECONDS [TARGET...]]" >&2
  exit 2
fi

./scripts/deps.sh fuzz
build=build/fuzz
echo "== fuzz: build ($build)"
start=$SECONDS
cmake -S tests/fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
if ! cmake --build "$build" -j 2 >"$build/build.log" 2>&1; then
  grep -E -A 3 'error|FAILED' "$build/build.log" | head -n 40 >&2
  echo "fuzz: the build failed; see $build/build.log" >&2
  exit 1
fi
echo "   built in $((SECONDS - start)) s"

if (($# > 0)); then
  targets=("$@")
else
  targets=()
  for source in tests/fuzz/targets/*.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi

run=$build/run
rm -rf "$run/logs" "$run/crashes" "$run/tmp"
mkdir -p "$run/logs" "$run/crashes" "$run/tmp"

# One target: new inputs into run/corpus/NAME, seeds and regressions read.
fuzz_one() {
  local name=$1
  local corpora=("tests/fuzz/corpus/$name")
  [[ -d "tests/fuzz/regressions/$name" ]] && corpora+=("tests/fuzz/regressions/$name")
  mkdir -p "$run/corpus/$name" "$run/crashes/$name"
  if OMP_NUM_THREADS=1 TMPDIR="$PWD/$run/tmp" UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz_$name" "$run/corpus/$name" "${corpora[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$run/crashes/$name/" >"$run/logs/$name.log" 2>&1; then
    echo "   $name: $(grep -o 'Done [0-9]* runs' "$run/logs/$name.log" | cut -d' ' -f2) inputs, no failure"
  else
    echo "FAIL $name: see $run/logs/$name.log"
    grep -E 'ERROR:|runtime error:|SUMMARY:' "$run/logs/$name.log" | head -n 5 | sed 's/^/     /'
    for input in "$run/crashes/$name"/*; do
      [[ -e "$input" ]] || continue
      echo "     input: $input"
      echo "     reproduce: $build/fuzz_$name $input"
    done
    return 1
  fi
}
export -f fuzz_one
export build run seconds

echo "== fuzz: ${#targets[@]} targets, $seconds s each, two at a time"
start=$SECONDS
if printf '%s\n' "${targets[@]}" | xargs -P 2 -I {} bash -c 'fuzz_one {}'; then
  echo "== fuzz: no failure in $((SECONDS - start)) s"
else
  echo "== fuzz: FAILED (a crash input belongs in tests/fuzz/regressions/TARGET/ once fixed)" >&2
  exit 1
fi
