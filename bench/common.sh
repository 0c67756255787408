# Shared by the bench/run_*.sh scripts (sourced, not run).

section() { printf '\n==== %s ====\n\n' "$*"; }

# install_missing PACKAGE...: apt-get installs the Debian packages that are
# not installed yet (as root; otherwise prints the sudo line and exits 1).
# SKIP_APT=1 leaves packages alone.
install_missing() {
  [[ -n "${SKIP_APT:-}" ]] && return 0
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing Debian packages: ${missing[*]}; run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  section "installing ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# build_release TARGET...: builds the targets in the release preset with the
# benchmarks (unless SKIP_BUILD=1), then checks that their programs are in
# $BIN (descent_cli's program is `descent`). Uses JOBS and BIN.
build_release() {
  if [[ -z "${SKIP_BUILD:-}" ]]; then
    section "configure and build (preset release, DESCENT_BUILD_BENCH=ON, -j$JOBS)"
    cmake --preset release -DDESCENT_BUILD_BENCH=ON >/dev/null
    cmake --build --preset release -j"$JOBS" --target "$@"
  fi
  local t
  for t in "$@"; do
    t=${t/descent_cli/descent}
    [[ -x "$BIN/$t" ]] || { echo "$BIN/$t was not built" >&2; exit 1; }
  done
  "$PY" -c "import torch" 2>/dev/null || { echo "$PY cannot import torch (apt-get install python3-torch)" >&2; exit 1; }
}

uptime_now() { cut -d' ' -f1-3 /proc/loadavg; }

# start_results NAME: OUT=$RESULTS/NAME.jsonl, emptied; START=now; prints
# the load average the runs start under.
start_results() {
  mkdir -p "$RESULTS"
  OUT="$RESULTS/$1.jsonl"
  rm -f "$OUT"
  START=$SECONDS
  echo "load average before the runs: $(uptime_now) (on a quiet machine it is near 0)"
}

# record_machine KEY=VALUE...: appends to $OUT the "machine" line, the context
# of the numbers: the CPU, the cores, the kernel, the load average now, and
# each KEY=VALUE (VALUE as JSON where it parses, else as a string). Uses PY.
record_machine() {
  "$PY" - "$OUT" "$(uptime_now)" "$@" <<'PYEOF'
import json, os, platform, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
d = {"side": "machine", "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(), "load_before": sys.argv[2]}
for kv in sys.argv[3:]:
    k, v = kv.split("=", 1)
    try:
        d[k] = json.loads(v)
    except ValueError:
        d[k] = v
with open(sys.argv[1], "a") as f:
    f.write(json.dumps(d) + "\n")
PYEOF
}

# run_json BENCH SIDE REPEAT FORMAT COMMAND...: runs COMMAND, which prints one
# JSON object (possibly over several lines; its stderr passes through),
# appends it to $OUT as one line with "bench", "side", "repeat" and
# "requested_threads" ($THREADS) added, and prints "  SIDE  " and FORMAT, a
# Python format string over the object's fields ('{seconds:.2f} s'). Uses PY.
run_json() {
  local bench=$1 side=$2 repeat=$3 format=$4 json
  shift 4
  json=$("$@") || { echo "failed ($bench, $side): $*" >&2; exit 1; }
  "$PY" - "$bench" "$side" "$repeat" "$THREADS" "$json" "$OUT" "$format" <<'PYEOF'
import json, sys
bench, side, repeat, threads, text, out, form = sys.argv[1:8]
d = json.loads(text)
d["bench"], d["side"], d["repeat"], d["requested_threads"] = bench, side, int(repeat), int(threads)
with open(out, "a") as f:
    f.write(json.dumps(d) + "\n")
try:
    shown = form.format_map(d)
except (KeyError, ValueError, TypeError) as e:
    shown = f"(cannot show {e}: {json.dumps(d)})"
print(f"  {side:8} {shown}", flush=True)
PYEOF
}
