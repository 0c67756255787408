#!/usr/bin/env bash
# The model-training benchmarks in one go (see docs/benchmarks.md):
#   1. installs the missing Debian packages (as root),
#   2. configures and builds the release preset with the benchmarks,
#   3. with the same thread count for every side, REPEATS times:
#        descent bench model   mlp:784-256-128-10 at batch 128 and cnn:lenet at
#                              batch 64, each without and with --optimizer adam;
#        bench/torch_model.py  the same four in PyTorch (Debian's python3-torch);
#        bench_mlp_plain       the MLP at batch 128 in plain C on OpenBLAS sgemm
#                              (bench/mlp_plain.c): the floor for descent's MLP;
#        bench_mlp_plain --sgemm-peak   a 1024^3 sgemm: this machine's GFLOP/s;
#      the sides of each model alternate, their order rotating each repeat,
#      and the sgemm peak runs first in odd repeats and last in even ones, so
#      drifts in the machine's speed spread over all of them,
#   4. a summary: descent / plain C for the MLP (target <= 1.2), descent /
#      torch for LeNet (target <= 1.0) and LeNet's fraction of the sgemm peak.
#
#   bench/run_model.sh             # everything, about 2 minutes per repeat on 2 cores
#   REPEATS=1 bench/run_model.sh   # one repeat, to check that it all runs
#   SKIP_BUILD=1 bench/run_model.sh
#
# Environment: JOBS (build jobs, default 2), RESULTS (directory for the
# results, default build/release/bench-results; they go to model.jsonl, one
# JSON object per run), REPEATS (default 3), THREADS (the one thread count
# every side runs with, default 2), TORCH_OPENBLAS_THREADS (OpenBLAS threads
# under PyTorch's matrix products, default 1, 0 for OpenBLAS's default: see
# bench/torch_model.py; its OpenBLAS pool fights its OpenMP pool), BATCH_SECONDS (time budget of each
# measurement, default 2), BIN (the directory holding descent and
# bench_mlp_plain, default build/release/bin; with SKIP_BUILD=1, to time
# another build), SKIP_APT=1 to leave packages alone. Run it on a quiet
# machine: OpenMP programs whose threads share their cores with anything
# else slow down by far more than the differences measured here (PyTorch's
# above all: its batches then take tens of times longer).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS="${JOBS:-2}"
RESULTS="${RESULTS:-$ROOT/build/release/bench-results}"
PY=/usr/bin/python3  # Debian's, with torch; another python3 may come first on PATH
BIN="${BIN:-$ROOT/build/release/bin}"
REPEATS="${REPEATS:-3}"
THREADS="${THREADS:-2}"
BATCH_SECONDS="${BATCH_SECONDS:-2}"
TORCH_OPENBLAS_THREADS="${TORCH_OPENBLAS_THREADS:-1}"
MLP=mlp:784-256-128-10
MLP_BATCH=128
LENET=cnn:lenet
LENET_BATCH=64

# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

# --- 1. packages ------------------------------------------------------------
install_missing python3-torch python3-numpy libopenblas-dev

# --- 2. build -----------------------------------------------------------------
build_release descent_cli bench_mlp_plain
start_results model

# One line of context first: the machine and the load the numbers were taken under.
"$PY" - "$OUT" "$(uptime_now)" "$REPEATS" "$BATCH_SECONDS" "$THREADS" <<'EOF'
import json, os, platform, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
with open(sys.argv[1], "a") as f:
    f.write(json.dumps({"side": "machine", "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
                        "load_before": sys.argv[2], "repeats": int(sys.argv[3]),
                        "batch_seconds": float(sys.argv[4]), "threads": int(sys.argv[5])}) + "\n")
EOF

# run_side SIDE REPEAT COMMAND...: runs COMMAND (which prints one JSON object,
# possibly over several lines), appends it to $OUT as one line with "side",
# "repeat" and "requested_threads" added, and prints a short line.
run_side() {
  local side=$1 repeat=$2 json
  shift 2
  json=$("$@") || { echo "failed ($side): $*" >&2; exit 1; }
  "$PY" - "$side" "$repeat" "$THREADS" "$json" "$OUT" <<'EOF'
import json, sys
d = json.loads(sys.argv[4])
d["side"], d["repeat"], d["requested_threads"] = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(sys.argv[5], "a") as f:
    f.write(json.dumps(d) + "\n")
if d["side"] == "peak":
    print(f"  {'peak':8} sgemm {d['n']}^3 {d['ms_per_sgemm']:10.3f} ms  {d['gflops']:8.1f} GFLOP/s  "
          f"({d['threads']} threads)")
else:
    print(f"  {d['side']:8} {d['ms_per_batch']:10.3f} ms  {d['samples_per_second']:10.0f} samples/s  "
          f"({d['threads']} threads)")
EOF
}

# run_group REPEAT MODEL BATCH OPTIMIZER SIDE...: the sides on one
# configuration, their order rotating with the repeat so that no side always
# runs first.
run_group() {
  local r=$1 model=$2 batch=$3 opt=$4 k side
  shift 4
  local sides=("$@") opt_args=()
  [[ -n "$opt" ]] && opt_args=(--optimizer "$opt")
  echo "$model, batch $batch${opt:+, step $opt}, $THREADS thread(s):"
  for ((k = 0; k < ${#sides[@]}; ++k)); do
    side=${sides[$(((k + r - 1) % ${#sides[@]}))]}
    case $side in
      descent) run_side descent "$r" "$BIN/descent" bench model --model "$model" --batch-size "$batch" \
                 "${opt_args[@]}" --threads "$THREADS" --seconds "$BATCH_SECONDS" --json ;;
      torch) run_side torch "$r" "$PY" bench/torch_model.py --model "$model" --batch-size "$batch" \
               "${opt_args[@]}" --threads "$THREADS" --openblas-threads "$TORCH_OPENBLAS_THREADS" \
               --seconds "$BATCH_SECONDS" --json ;;
      plain) run_side plain "$r" "$BIN/bench_mlp_plain" --batch-size "$batch" --threads "$THREADS" \
               --seconds "$BATCH_SECONDS" ;;
    esac
  done
}

run_peak() {
  echo "sgemm peak, $THREADS thread(s):"
  run_side peak "$1" "$BIN/bench_mlp_plain" --sgemm-peak --threads "$THREADS" --seconds "$BATCH_SECONDS"
}

# --- 3. descent vs plain C vs PyTorch -------------------------------------------
for ((r = 1; r <= REPEATS; ++r)); do
  section "repeat $r of $REPEATS (${BATCH_SECONDS} s per measurement; load average $(uptime_now))"
  ((r % 2)) && run_peak "$r"
  run_group "$r" "$MLP" "$MLP_BATCH" "" descent plain torch
  run_group "$r" "$LENET" "$LENET_BATCH" "" descent torch
  run_group "$r" "$MLP" "$MLP_BATCH" adam descent torch
  run_group "$r" "$LENET" "$LENET_BATCH" adam descent torch
  ((r % 2)) || run_peak "$r"
done

# --- 4. summary ---------------------------------------------------------------------
section "summary (medians over $REPEATS repeat(s); targets: MLP descent / plain C <= 1.2, LeNet descent / torch <= 1.0)"
"$PY" bench/summarize_model.py "$OUT"
echo "load average after the runs: $(uptime_now); $((SECONDS - START)) s of benchmarks; results in $OUT"
