#!/usr/bin/env bash
# The stochastic-optimizer step benchmarks in one go (see docs/benchmarks.md):
#   1. installs the missing Debian packages (as root),
#   2. configures and builds the release preset with the benchmarks,
#   3. for Adam, AdamW and SGD with momentum on 10^7 and 10^8 float32
#      parameters, 1 and 2 threads: descent's step (descent bench step), the
#      hand-written fused C loop with the same traffic (bench_fused_step) and
#      PyTorch's torch.optim step with foreach=True (bench/torch_optim.py),
#      one after the other, REPEATS times, the order rotating each repeat,
#   4. a summary: descent's GB/s against the fused loop's (the roofline) and
#      its steps per second against PyTorch's.
#
#   bench/run_optim.sh            # everything, about ten minutes on 2 cores
#   QUICK=1 bench/run_optim.sh    # 1 repeat at 10^6 only, to check that it all runs
#   SKIP_BUILD=1 bench/run_optim.sh
#
# Environment: JOBS (build jobs, default 2), RESULTS (directory for the
# results, default build/release/bench-results; they go to optim.jsonl, one
# JSON object per run), REPEATS (default 3), STEP_SECONDS (time budget of each
# measurement, default 2), OPTIMIZERS, SIZES and THREADS (space-separated
# lists, to narrow the grid), BIN (the directory holding descent and
# bench_fused_step, default build/release/bin; with SKIP_BUILD=1, to time
# another build), SKIP_APT=1 to leave packages alone. Run it on a
# quiet machine: two OpenMP programs on the same 2 cores slow each other by
# far more than the differences measured here.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS="${JOBS:-2}"
RESULTS="${RESULTS:-$ROOT/build/release/bench-results}"
PY=/usr/bin/python3  # Debian's, with torch; another python3 may come first on PATH
BIN="${BIN:-$ROOT/build/release/bin}"

if [[ -n "${QUICK:-}" ]]; then
  REPEATS="${REPEATS:-1}"; STEP_SECONDS="${STEP_SECONDS:-0.3}"; SIZES="${SIZES:-1000000}"
else
  REPEATS="${REPEATS:-3}"; STEP_SECONDS="${STEP_SECONDS:-2}"; SIZES="${SIZES:-10000000 100000000}"
fi
OPTIMIZERS="${OPTIMIZERS:-adam adamw momentum}"
THREADS="${THREADS:-1 2}"

# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

# --- 1. packages ------------------------------------------------------------
install_missing python3-torch python3-numpy libbenchmark-dev

# --- 2. build -----------------------------------------------------------------
build_release descent_cli bench_fused_step
start_results optim

# One line of context first: the machine and the load the numbers were taken under.
"$PY" - "$OUT" "$(uptime_now)" "$REPEATS" "$STEP_SECONDS" <<'EOF'
import json, os, platform, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
with open(sys.argv[1], "a") as f:
    f.write(json.dumps({"side": "machine", "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
                        "load_before": sys.argv[2], "repeats": int(sys.argv[3]),
                        "step_seconds": float(sys.argv[4])}) + "\n")
EOF

# run_side SIDE REPEAT THREADS COMMAND...: runs COMMAND (which prints one JSON
# object, possibly over several lines), appends it to $OUT as one line with
# "side", "repeat" and "requested_threads" added, and prints a short line.
run_side() {
  local side=$1 repeat=$2 threads=$3 json
  shift 3
  json=$("$@") || { echo "failed ($side): $*" >&2; exit 1; }
  "$PY" - "$side" "$repeat" "$threads" "$json" "$OUT" <<'EOF'
import json, sys
d = json.loads(sys.argv[4])
d["side"], d["repeat"], d["requested_threads"] = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(sys.argv[5], "a") as f:
    f.write(json.dumps(d) + "\n")
triad = f"   triad {d['triad_gbps']:6.1f} GB/s" if "triad_gbps" in d else ""
print(f"  {d['side']:8} {d['seconds_per_step'] * 1e3:10.3f} ms  {d['steps_per_second']:9.1f} steps/s  "
      f"{d['gbps']:7.2f} GB/s{triad}")
EOF
}

# --- 3. descent vs the fused loop vs PyTorch ------------------------------------
SIDES=(descent fused torch)
for ((r = 1; r <= REPEATS; ++r)); do
  section "repeat $r of $REPEATS (${STEP_SECONDS} s per measurement; load average $(uptime_now))"
  for opt in $OPTIMIZERS; do
    for n in $SIZES; do
      for t in $THREADS; do
        echo "$opt, $n parameters, $t thread(s):"
        # The order rotates with the repeat, so no side always runs first.
        for ((k = 0; k < ${#SIDES[@]}; ++k)); do
          side=${SIDES[$(((k + r - 1) % ${#SIDES[@]}))]}
          case $side in
            descent) run_side descent "$r" "$t" "$BIN/descent" bench step --optimizer "$opt" --size "$n" --threads "$t" \
                       --seconds "$STEP_SECONDS" --json ;;
            fused) run_side fused "$r" "$t" "$BIN/bench_fused_step" --optimizer "$opt" --size "$n" --threads "$t" \
                     --seconds "$STEP_SECONDS" --json ;;
            torch) run_side torch "$r" "$t" "$PY" bench/torch_optim.py --optimizer "$opt" --size "$n" --threads "$t" \
                     --seconds "$STEP_SECONDS" --json ;;
          esac
        done
      done
    done
  done
done

# --- 4. summary ---------------------------------------------------------------------
section "summary (medians over $REPEATS repeat(s); targets: descent / fused >= 0.90, descent / torch >= 5)"
"$PY" bench/summarize_optim.py "$OUT"
echo "load average after the runs: $(uptime_now); $((SECONDS - START)) s of benchmarks; results in $OUT"
