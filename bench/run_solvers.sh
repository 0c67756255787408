#!/usr/bin/env bash
# The classic-solver benchmarks in one go (see docs/benchmarks.md):
#   1. installs the missing Debian packages (as root),
#   2. configures and builds the release preset with the benchmarks,
#   3. descent vs LBFGS++ on extended Rosenbrock at n = 10^4 and 10^6,
#   4. descent vs scipy L-BFGS-B at the same sizes,
#   5. the Moré–Garbow–Hillstrom table for descent and for scipy,
#   6. a summary of the ratios and solved counts.
#
#   bench/run_solvers.sh            # everything, a few minutes on 2 cores
#   QUICK=1 bench/run_solvers.sh    # fewer repeats, to check that it all runs
#   SKIP_BUILD=1 bench/run_solvers.sh
#
# Environment: JOBS (build jobs, default 2), RESULTS (directory for the JSON
# files, default build/release/bench-results), TOL (default 1e-6),
# SKIP_APT=1 to leave packages alone. Run it on a quiet machine: anything
# else running on the same cores changes the timings (not the evaluations).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS="${JOBS:-2}"
TOL="${TOL:-1e-6}"
RESULTS="${RESULTS:-$ROOT/build/release/bench-results}"
PY=/usr/bin/python3  # Debian's, with scipy and numpy; another python3 may come first on PATH
export GFORTRAN_UNBUFFERED_PRECONNECTED=y  # scipy L-BFGS-B's Fortran messages in place, not at exit
BIN="$ROOT/build/release/bin"

if [[ -n "${QUICK:-}" ]]; then
  REP_SMALL=3; REP_LARGE=2; REP_SCIPY_LARGE=1; WARMUP_LARGE=0
else
  REP_SMALL=7; REP_LARGE=5; REP_SCIPY_LARGE=3; WARMUP_LARGE=1
fi

# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

# --- 1. packages ------------------------------------------------------------
install_missing liblbfgspp-dev libbenchmark-dev pybind11-dev python3-dev python3-scipy python3-numpy

# --- 2. build -----------------------------------------------------------------
if [[ -z "${SKIP_BUILD:-}" ]]; then
  section "configure and build (preset release, DESCENT_BUILD_BENCH=ON, -j$JOBS)"
  cmake --preset release -DDESCENT_BUILD_BENCH=ON >/dev/null
  cmake --build --preset release -j"$JOBS"
fi
for t in descent bench_lbfgs_peers bench_lbfgsb_peers; do
  [[ -x "$BIN/$t" ]] || { echo "$BIN/$t was not built" >&2; exit 1; }
done
ls "$ROOT"/build/release/python/descent_problems*.so >/dev/null 2>&1 ||
  { echo "build/release/python/descent_problems*.so was not built (pybind11-dev, python3-dev?)" >&2; exit 1; }

mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.json
START=$SECONDS
uptime_now() { cat /proc/loadavg | cut -d' ' -f1-3; }
echo "load average before the runs: $(uptime_now) (on a quiet machine it is near 0)"

# --- 3. descent vs LBFGS++ ------------------------------------------------------
section "descent vs LBFGS++, extended Rosenbrock n = 10^4"
"$BIN/bench_lbfgs_peers" --n 10000 --m 6 --m 10 --tol "$TOL" --repeats "$REP_SMALL" \
  --json-out "$RESULTS/peers_10000.json"
# At n = 10^6 a vector is 8 MB. glibc returns freed blocks that large to the
# kernel, so every new one is page-faulted in again, and on these virtual
# machines a first touch costs microseconds per 4 KiB page: a solver that
# allocates temporaries per iteration (LBFGS++ does, two per iteration) pays
# for it in system time. The 10^6 runs go twice: with glibc's defaults (what
# a user gets) and with malloc told to keep and reuse freed memory (the
# algorithms alone).
REUSE_ENV=(MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 MALLOC_TOP_PAD_=268435456)
for malloc in default reuse; do
  suffix=""; envs=()
  if [[ $malloc == reuse ]]; then suffix="_reuse"; envs=("${REUSE_ENV[@]}"); fi
  section "descent vs LBFGS++, extended Rosenbrock n = 10^6 ($malloc malloc)"
  # The two documented strong Wolfe searches only, to keep the run short.
  env "${envs[@]}" "$BIN/bench_lbfgs_peers" --n 1000000 --m 6 --m 10 --tol "$TOL" --repeats "$REP_LARGE" \
    --warmup "$WARMUP_LARGE" --linesearch nocedal-wright --linesearch more-thuente \
    --json-out "$RESULTS/peers_1000000$suffix.json"
done

# --- 4. descent vs scipy L-BFGS-B -------------------------------------------------
section "descent vs scipy L-BFGS-B, extended Rosenbrock n = 10^4"
"$PY" bench/scipy_solvers.py lbfgsb --n 10000 --m 6 --m 10 --tol "$TOL" --repeats "$REP_SMALL" \
  --json-out "$RESULTS/scipy_lbfgsb_10000.json"
for malloc in default reuse; do
  suffix=""; envs=()
  if [[ $malloc == reuse ]]; then suffix="_reuse"; envs=("${REUSE_ENV[@]}"); fi
  section "descent vs scipy L-BFGS-B, extended Rosenbrock n = 10^6 ($malloc malloc)"
  env "${envs[@]}" "$PY" bench/scipy_solvers.py lbfgsb --n 1000000 --m 6 --m 10 --tol "$TOL" \
    --repeats "$REP_SCIPY_LARGE" --warmup 0 --json-out "$RESULTS/scipy_lbfgsb_1000000$suffix.json"
done

# --- 5. Moré–Garbow–Hillstrom ---------------------------------------------------------
section "descent on the Moré–Garbow–Hillstrom set"
DESCENT_METHODS=(--method lbfgs --method trust-region --method newton --method bfgs)
"$BIN/descent" minimize --suite mgh "${DESCENT_METHODS[@]}"
"$BIN/descent" minimize --suite mgh "${DESCENT_METHODS[@]}" --json >"$RESULTS/descent_mgh.json"
section "scipy on the Moré–Garbow–Hillstrom set"
"$PY" bench/scipy_solvers.py mgh --time-limit 5 --json-out "$RESULTS/scipy_mgh.json"

# --- 6. bound-constrained: L-BFGS-B against scipy's and LBFGS++'s ------------------
# n = 10^4 only (10^6 takes tens of minutes: BOUNDED_LARGE=1 adds it).
BOUNDED_SIZES=(--n 10000)
[[ -n "${BOUNDED_LARGE:-}" ]] && BOUNDED_SIZES+=(--n 1000000)
section "descent vs scipy L-BFGS-B, the bound-constrained set"
"$PY" bench/scipy_bounded.py "${BOUNDED_SIZES[@]}" --repeats "$REP_SMALL" --json-out "$RESULTS/scipy_bounded.json"
section "descent vs LBFGS++ LBFGSBSolver, the bound-constrained set"
"$BIN/bench_lbfgsb_peers" "${BOUNDED_SIZES[@]}" --repeats "$REP_SMALL" --json-out "$RESULTS/lbfgsb_peers.json"

# --- 7. summary ---------------------------------------------------------------------
section "summary (ratios are descent / peer: below 1, descent is cheaper)"
"$PY" bench/summarize.py "$RESULTS"
echo "load average after the runs: $(uptime_now); $((SECONDS - START)) s of benchmarks; JSON in $RESULTS"
