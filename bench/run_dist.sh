#!/usr/bin/env bash
# The distributed-training benchmark (docs/distributed.md):
#   1. installs the missing Debian packages (as root),
#   2. configures and builds the release preset (with MPI),
#   3. mlp      descent train --model mlp:784-256-128-10 on Fashion-MNIST, Adam
#               lr 1e-3, batch 128, EPOCHS epochs, seed 1, as 1 rank x 2
#               threads and as mpirun's 2 ranks x 1 thread (--distributed,
#               with the sharded update and with --no-shard-optimizer),
#               REPEATS times, the sides' order alternating: samples/s,
#               test accuracy, seconds in collectives;
#      parts    the pieces of the cost model: forward + backward of one rank's
#               part of a batch (descent bench model, batch 64, 1 thread) and
#               of a whole batch (batch 128, 2 threads), and the gradient
#               allreduce between 2 ranks (descent bench allreduce) for the
#               MLP's 235,146 floats and for 10^7 and 10^8 floats,
#   4. a summary: medians with min and max, and the ratio of the 2-rank
#      samples/s to the 1-rank one (target >= 0.9 at test accuracy >= 0.88).
#
#   bench/run_dist.sh              # some minutes on 2 cores
#   QUICK=1 bench/run_dist.sh      # 1 epoch, 1 repeat: checks that it all runs
#   SKIP_BUILD=1 bench/run_dist.sh
#
# Environment: JOBS (build jobs, default 2), RESULTS (default
# build/release/bench-results; the runs go to dist.jsonl), REPEATS (default
# 3), EPOCHS (default 10), BIN (default build/release/bin), MPIRUN (default
# mpirun), SKIP_APT=1. Run it on a quiet machine: two programs on the same
# 2 cores slow each other down far more than the differences measured here.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS="${JOBS:-2}"
RESULTS="${RESULTS:-$ROOT/build/release/bench-results}"
PY=/usr/bin/python3
BIN="${BIN:-$ROOT/build/release/bin}"
MPIRUN="${MPIRUN:-mpirun}"
THREADS=2  # cores in use by either side, recorded with each run
if [[ -n "${QUICK:-}" ]]; then
  REPEATS="${REPEATS:-1}"; EPOCHS="${EPOCHS:-1}"
else
  REPEATS="${REPEATS:-3}"; EPOCHS="${EPOCHS:-10}"
fi
MLP=mlp:784-256-128-10
RECIPE=(--data fashion-mnist --model "$MLP" --optimizer adam --lr 0.001 --batch-size 128 --epochs "$EPOCHS" --seed 1 --json)
# Two ranks, one core each (Open MPI binds each rank to a core by default
# for two ranks), as root where need be.
TWO_RANKS=("$MPIRUN" --allow-run-as-root -np 2 -x OMP_NUM_THREADS=1)

# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

install_missing openmpi-bin libopenmpi-dev dataset-fashion-mnist python3
if [[ -z "${SKIP_BUILD:-}" ]]; then
  section "configure and build (preset release, -j$JOBS)"
  cmake --preset release >/dev/null
  cmake --build --preset release -j"$JOBS" --target descent_cli
fi
[[ -x "$BIN/descent" ]] || { echo "$BIN/descent was not built" >&2; exit 1; }
start_results dist
record_machine repeats="$REPEATS" epochs="$EPOCHS" quick="$([[ -n "${QUICK:-}" ]] && echo true || echo false)" \
  mpirun="$("$MPIRUN" --version | head -1)"

SHOWN1='{samples_per_second:9.0f} samples/s  {seconds:7.2f} s  test accuracy {test_accuracy:.4f}'
SHOWN='{samples_per_second:9.0f} samples/s  {seconds:7.2f} s  test accuracy {test_accuracy:.4f}  collectives {communication_seconds:.2f} s'
mlp_side() {  # mlp_side SIDE REPEAT
  case $1 in
    one_rank) run_json mlp one_rank "$2" "$SHOWN1" env OMP_NUM_THREADS=2 "$BIN/descent" train "${RECIPE[@]}" --threads 2 ;;
    two_ranks) run_json mlp two_ranks "$2" "$SHOWN" "${TWO_RANKS[@]}" "$BIN/descent" train "${RECIPE[@]}" --threads 1 \
                 --distributed ;;
    two_ranks_whole) run_json mlp two_ranks_whole "$2" "$SHOWN" "${TWO_RANKS[@]}" "$BIN/descent" train "${RECIPE[@]}" \
                 --threads 1 --distributed --no-shard-optimizer ;;
  esac
}

for ((r = 1; r <= REPEATS; ++r)); do
  section "mlp, repeat $r of $REPEATS: $MLP, Adam, batch 128, $EPOCHS epoch(s) (load average $(uptime_now))"
  if ((r % 2)); then
    mlp_side one_rank "$r"; mlp_side two_ranks "$r"; mlp_side two_ranks_whole "$r"
  else
    mlp_side two_ranks_whole "$r"; mlp_side two_ranks "$r"; mlp_side one_rank "$r"
  fi
done

section "parts of a step (load average $(uptime_now))"
run_json compute half_batch_1_thread 1 '{ms_per_batch:.4f} ms per batch of {batch_size}' \
  "$BIN/descent" bench model --model "$MLP" --batch-size 64 --optimizer adam --threads 1 --json
run_json compute half_batch_1_thread_no_step 1 '{ms_per_batch:.4f} ms per batch of {batch_size}, forward and backward only' \
  "$BIN/descent" bench model --model "$MLP" --batch-size 64 --threads 1 --json
run_json compute batch_2_threads 1 '{ms_per_batch:.4f} ms per batch of {batch_size}' \
  "$BIN/descent" bench model --model "$MLP" --batch-size 128 --optimizer adam --threads 2 --json
for size in 235148 10000000 100000000; do
  repeats=200; ((size >= 100000000)) && repeats=10; ((size >= 10000000 && size < 100000000)) && repeats=30
  run_json allreduce "floats_$size" 1 '{median_ms:.4f} ms (min {min_ms:.4f}, max {max_ms:.4f}) for {bytes:.0f} bytes, {gigabytes_per_second:.2f} GB/s' \
    "${TWO_RANKS[@]}" "$BIN/descent" bench allreduce --size "$size" --repeats "$repeats" --json
done

section "summary"
"$PY" - "$OUT" <<'PYEOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
def stats(side, key):
    v = [r[key] for r in runs if r.get("bench") == "mlp" and r["side"] == side]
    return statistics.median(v), min(v), max(v)
one, two = stats("one_rank", "samples_per_second"), stats("two_ranks", "samples_per_second")
whole = stats("two_ranks_whole", "samples_per_second")
for side, s in (("1 rank x 2 threads", one), ("2 ranks x 1 thread, sharded update", two),
                ("2 ranks x 1 thread, whole update (--no-shard-optimizer)", whole)):
    print(f"{side}: median {s[0]:.0f} samples/s (min {s[1]:.0f}, max {s[2]:.0f})")
print(f"whole update / 1 rank: {whole[0] / one[0]:.3f}")
ratio = [b["samples_per_second"] / a["samples_per_second"] for a, b in
         zip([r for r in runs if r.get("side") == "one_rank"], [r for r in runs if r.get("side") == "two_ranks"])]
print(f"2 ranks / 1 rank samples/s: median of medians {two[0] / one[0]:.3f}; per repeat {', '.join(f'{x:.3f}' for x in ratio)} (target >= 0.9)")
for side in ("one_rank", "two_ranks", "two_ranks_whole"):
    acc = stats(side, "test_accuracy")
    print(f"{side} test accuracy: median {acc[0]:.4f} (min {acc[1]:.4f}, max {acc[2]:.4f}) (target >= 0.88)")
two_runs = [r for r in runs if r.get("side") == "two_ranks"]
if two_runs:
    c = statistics.median(r["communication_seconds"] / r["steps"] * 1e3 for r in two_runs)
    t = statistics.median(r["seconds"] / r["steps"] * 1e3 for r in two_runs)
    print(f"2 ranks: {t:.3f} ms per step, of which {c:.3f} ms in collectives on rank 0 (allreduce and waiting for the other rank)")
print("identical replicas in every 2-rank run:",
      all(r.get("replicas_identical") for r in runs if r.get("side", "").startswith("two_ranks")))

# The cost model (docs/distributed.md): weak scaling, 64 rows per rank per
# step; compute per step measured (one rank's forward and backward on 64
# rows, 1 thread, plus 1/P of the Adam step, as the sharded update runs),
# scaled by the parameter count for the 100M model;
# allreduce by the bandwidth-optimal bound 2 (P-1)/P S/B plus 2 log2(P)
# latencies: what descent's recursive halving reduce-scatter and doubling
# allgather take for a power-of-two P (a ring, for other P, takes
# 2 (P - 1) latencies).
parts = {r["side"]: r for r in runs if r.get("bench") in ("compute", "allreduce")}
if "half_batch_1_thread" in parts:
    import math
    t_step = parts["half_batch_1_thread"]["ms_per_batch"] * 1e-3
    t_mlp = parts["half_batch_1_thread_no_step"]["ms_per_batch"] * 1e-3  # forward + backward
    t_adam = max(t_step - t_mlp, 0.0)  # the whole Adam step
    n_mlp = parts["half_batch_1_thread"]["parameters"]
    print(f"\nmeasured: one rank's step (64 rows, 1 thread) {t_step * 1e3:.3f} ms, of which forward+backward "
          f"{t_mlp * 1e3:.3f} ms and the whole Adam step {t_adam * 1e3:.3f} ms; "
          f"a whole batch of 128 on 2 threads {parts['batch_2_threads']['ms_per_batch']:.3f} ms")
    for k, r in parts.items():
        if k.startswith("floats_"):
            print(f"measured: allreduce of {r['size']} floats between 2 ranks on this machine: median {r['median_ms']:.3f} ms "
                  f"(min {r['min_ms']:.3f}, max {r['max_ms']:.3f}), {r['gigabytes_per_second']:.2f} GB/s")
    networks = {"10 Gb/s (TCP, 20 us latency)": (1.25e9, 20e-6), "100 Gb/s (RDMA, 2 us latency)": (12.5e9, 2e-6)}
    scale = 100_000_000 / n_mlp
    models = {"MLP 784-256-128-10": (n_mlp, t_mlp, t_adam), "100M parameters": (100_000_000, t_mlp * scale, t_adam * scale)}
    print("\n| model | bytes per allreduce | network | P | compute ms | allreduce ms | efficiency | speedup |")
    print("|---|---|---|---|---|---|---|---|")
    for m, (n, tf, tu) in models.items():
        bytes_ = 4 * (n + 2)
        for net, (bw, lat) in networks.items():
            for p in (8, 64, 512):
                tc = tf + tu / p  # each rank updates 1/P of the parameters
                ta = 2 * (p - 1) / p * bytes_ / bw + 2 * math.log2(p) * lat
                eff = (tf + tu) / (tc + ta)  # against one rank taking the whole step alone
                print(f"| {m} | {bytes_ / 1e6:.2f} MB | {net} | {p} | {tc * 1e3:.2f} | {ta * 1e3:.2f} | {eff:.2f} | {p * eff:.1f} |")
PYEOF
echo "load average after the runs: $(uptime_now); $((SECONDS - START)) s of benchmarks; results in $OUT"
