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
