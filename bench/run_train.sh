#!/usr/bin/env bash
# The training benchmarks in one go (see docs/training.md):
#   1. installs the missing Debian packages (as root),
#   2. configures and builds the release preset,
#   3. with the same thread count for every side:
#        mlp        descent train --model mlp:784-256-128-10, Adam lr 1e-3, batch
#                   128, EPOCHS epochs, seed 1, against bench/torch_train.py, the
#                   same recipe in PyTorch: samples/s and test accuracy, REPEATS
#                   times, the two sides' order alternating;
#        lenet      descent train --model cnn:lenet, Adam lr 2e-3 with a cosine
#                   schedule, batch LENET_BATCH: test accuracy;
#        logistic   descent train --model logistic --optimizer lbfgs --l2 1e-4
#                   --max-iter MAX_ITER (float64, full batch) against
#                   bench/scipy_logistic.py, scipy's L-BFGS-B on the same
#                   objective: training loss and seconds;
#        converge   the same descent run with --gtol 1e-6 --max-iter
#                   CONVERGE_MAX_ITER: seconds and iterations to converge;
#      lenet, logistic and converge LONG_REPEATS times,
#   4. a summary (bench/summarize_train.py, Markdown): descent / torch
#      samples/s (target >= 4), MLP test accuracy (>= 0.87 after 5 epochs),
#      LeNet test accuracy (>= 0.90), descent's L-BFGS training loss against
#      scipy's (<=) and scipy / descent seconds (>= 5).
#
#   bench/run_train.sh             # everything; some minutes on 2 cores
#   QUICK=1 bench/run_train.sh     # 1 epoch, 20 iterations, the Python sides on the
#                                  # first 5,000 images: checks that it all runs
#   SKIP_BUILD=1 bench/run_train.sh
#
# Environment: JOBS (build jobs, default 2), RESULTS (directory for the
# results, default build/release/bench-results; they go to train.jsonl, one
# JSON object per run), THREADS (the one thread count of every side, default
# 2), REPEATS (repeats of the MLP throughput, default 3), LONG_REPEATS
# (repeats of the long runs, default 1), EPOCHS (default 5), LENET_BATCH
# (default 32), MAX_ITER (default 500), CONVERGE_MAX_ITER (default 100000),
# LIMIT (the Python sides train on the first LIMIT images; default all;
# descent train has no such flag, so only QUICK sets it), TORCH_OPENBLAS_THREADS
# (OpenBLAS threads under PyTorch's matrix products, default 1, 0 for
# OpenBLAS's default: see bench/torch_model.py), BIN (the directory holding
# descent, default build/release/bin; with SKIP_BUILD=1, to time another
# build), SKIP_APT=1 to leave packages alone. Run it on a quiet machine:
# OpenMP programs whose threads share their cores with anything else slow
# down by far more than the differences measured here.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS="${JOBS:-2}"
RESULTS="${RESULTS:-$ROOT/build/release/bench-results}"
PY=/usr/bin/python3  # Debian's, with torch; another python3 may come first on PATH
BIN="${BIN:-$ROOT/build/release/bin}"
THREADS="${THREADS:-2}"
TORCH_OPENBLAS_THREADS="${TORCH_OPENBLAS_THREADS:-1}"
if [[ -n "${QUICK:-}" ]]; then
  REPEATS="${REPEATS:-1}"; LONG_REPEATS="${LONG_REPEATS:-1}"; EPOCHS="${EPOCHS:-1}"
  MAX_ITER="${MAX_ITER:-20}"; CONVERGE_MAX_ITER="${CONVERGE_MAX_ITER:-20}"; LIMIT="${LIMIT:-5000}"
else
  REPEATS="${REPEATS:-3}"; LONG_REPEATS="${LONG_REPEATS:-1}"; EPOCHS="${EPOCHS:-5}"
  MAX_ITER="${MAX_ITER:-500}"; CONVERGE_MAX_ITER="${CONVERGE_MAX_ITER:-100000}"; LIMIT="${LIMIT:-0}"
fi
LENET_BATCH="${LENET_BATCH:-32}"
MLP=mlp:784-256-128-10
L2=1e-4
# The recipe of the stepper runs, descent's flags (torch_train.py takes the same names).
RECIPE=(--optimizer adam --lr 0.001 --epochs "$EPOCHS" --seed 1)

# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

# --- 1. packages ------------------------------------------------------------
install_missing python3-torch python3-numpy python3-scipy dataset-fashion-mnist

# --- 2. build -----------------------------------------------------------------
build_release descent_cli
start_results train
record_machine threads="$THREADS" repeats="$REPEATS" long_repeats="$LONG_REPEATS" epochs="$EPOCHS" \
  max_iter="$MAX_ITER" converge_max_iter="$CONVERGE_MAX_ITER" limit="$LIMIT" quick="$([[ -n "${QUICK:-}" ]] && echo true || echo false)"

STEPPER_SHOWN='{samples_per_second:9.0f} samples/s  {seconds:7.2f} s  train loss {train_loss:.4f}  test accuracy {test_accuracy:.4f}'
SOLVER_SHOWN='{iterations:6d} iterations  {seconds:8.2f} s  train loss {train_loss:.9f}  |g| {gradient_norm:.2e}  test accuracy {test_accuracy:.4f}'

mlp_side() {  # mlp_side SIDE REPEAT
  case $1 in
    descent) run_json mlp descent "$2" "$STEPPER_SHOWN" "$BIN/descent" train --data fashion-mnist --model "$MLP" \
               "${RECIPE[@]}" --batch-size 128 --threads "$THREADS" --json ;;
    torch) run_json mlp torch "$2" "$STEPPER_SHOWN" "$PY" bench/torch_train.py --model "$MLP" "${RECIPE[@]}" \
             --batch-size 128 --threads "$THREADS" --openblas-threads "$TORCH_OPENBLAS_THREADS" --limit "$LIMIT" \
             --json ;;
  esac
}

logistic_side() {  # logistic_side SIDE REPEAT
  case $1 in
    descent) run_json logistic descent "$2" "$SOLVER_SHOWN" "$BIN/descent" train --data fashion-mnist \
               --model logistic --optimizer lbfgs --l2 "$L2" --max-iter "$MAX_ITER" --threads "$THREADS" --json ;;
    scipy) run_json logistic scipy "$2" "$SOLVER_SHOWN" "$PY" bench/scipy_logistic.py --l2 "$L2" \
             --max-iter "$MAX_ITER" --threads "$THREADS" --limit "$LIMIT" --json ;;
  esac
}

# --- 3a. MLP throughput: descent vs PyTorch ---------------------------------------
for ((r = 1; r <= REPEATS; ++r)); do
  section "mlp, repeat $r of $REPEATS: $MLP, Adam, batch 128, $EPOCHS epoch(s), $THREADS thread(s) (load average $(uptime_now))"
  # The order alternates with the repeat, so no side always runs first.
  if ((r % 2)); then mlp_side descent "$r"; mlp_side torch "$r"; else mlp_side torch "$r"; mlp_side descent "$r"; fi
done

# --- 3b. the long runs ------------------------------------------------------------
for ((r = 1; r <= LONG_REPEATS; ++r)); do
  section "lenet, repeat $r of $LONG_REPEATS: cnn:lenet, Adam, batch $LENET_BATCH, $EPOCHS epoch(s) (load average $(uptime_now))"
  run_json lenet descent "$r" "$STEPPER_SHOWN" "$BIN/descent" train --data fashion-mnist --model cnn:lenet \
    --optimizer adam --lr 0.002 --schedule cosine --epochs "$EPOCHS" --seed 1 --batch-size "$LENET_BATCH" \
    --threads "$THREADS" --json

  section "logistic, repeat $r of $LONG_REPEATS: L-BFGS, l2 $L2, $MAX_ITER iterations (load average $(uptime_now))"
  if ((r % 2)); then logistic_side descent "$r"; logistic_side scipy "$r"; else logistic_side scipy "$r"; logistic_side descent "$r"; fi

  section "converge, repeat $r of $LONG_REPEATS: L-BFGS, l2 $L2, --gtol 1e-6 --max-iter $CONVERGE_MAX_ITER (load average $(uptime_now))"
  run_json converge descent "$r" "$SOLVER_SHOWN  {message}" "$BIN/descent" train --data fashion-mnist \
    --model logistic --optimizer lbfgs --l2 "$L2" --gtol 1e-6 --max-iter "$CONVERGE_MAX_ITER" --threads "$THREADS" --json
done

# --- 4. summary ---------------------------------------------------------------------
section "summary (medians; targets: mlp descent / torch samples/s >= 4, test accuracy >= 0.87; lenet >= 0.90; logistic loss <= scipy's, scipy / descent seconds >= 5)"
"$PY" bench/summarize_train.py "$OUT" --markdown
echo "load average after the runs: $(uptime_now); $((SECONDS - START)) s of benchmarks; results in $OUT"
