#!/usr/bin/python3
"""Dolan–Moré performance profiles of descent, scipy and LBFGS++ on the
Moré–Garbow–Hillstrom set from 1, 10 and 100 times the standard starts.

  mgh_profiles.py [--scale S ...] [--descent-method M ...] [--out-dir DIR] [--build DIR] [--time-limit S]

Runs, in one process tree and one after another (never at once):
  descent   `descent minimize --suite mgh --json --x0-scale S --method M ...`
            (lbfgs, trust-region and bfgs by default): what a CLI user runs;
  scipy     bench/scipy_solvers.py mgh --x0-scale S: BFGS, L-BFGS-B, CG,
            Newton-CG, trust-ncg, trust-exact (dogleg needs a positive
            definite Hessian everywhere and is left out);
  LBFGS++   bench_lbfgs_peers --suite mgh --x0-scale S, m = 10, with each of
            its four strong Wolfe searches; the profile keeps the one that
            solves the most pairs (bracketing, when this was written).
All with the gradient tolerance 1e-10 and 10000 iterations; a run counts as
solved when f is within 1e-6 relative or 1e-10 absolute of the known
minimum. Each (problem, start) pair is one problem of the profile, 35 x the
number of scales in all.

Writes to DIR (default docs/images): mgh_profile_evaluations.svg (cost:
gradient + Hessian evaluations) and mgh_profile_seconds.svg (cost: the
solve's wall time as each library reports it: descent's `seconds`, scipy's
minimize call, LBFGS++'s minimize call), drawn by `descent plot --profile`
from the CSVs beside them. Prints the solved counts per start and, for
each descent method, its total evaluations against scipy's best method on
the problems both solve.

Run with Debian's /usr/bin/python3 on a quiet machine, after
`cmake --preset release -DDESCENT_BUILD_BENCH=ON && cmake --build --preset release`.
"""

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCIPY_METHODS = ["BFGS", "L-BFGS-B", "CG", "Newton-CG", "trust-ncg", "trust-exact"]


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return p.stdout


def descent_rows(cli, scale, methods):
    cmd = [cli, "minimize", "--suite", "mgh", "--json", "--x0-scale", f"{scale:g}"]
    for m in methods:
        cmd += ["--method", m]
    rows = []
    for r in json.loads(run(cmd)):
        rows.append({"problem": r["problem"], "solver": "descent " + r["method"], "solved": r["solved"],
                     "evaluations": r["gradient_evaluations"] + r["hessian_evaluations"],
                     "seconds": r["seconds"]})
    return rows


def scipy_rows(scale, build, time_limit):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "scipy.json")
        cmd = [sys.executable, os.path.join(HERE, "scipy_solvers.py"), "--module-dir", os.path.join(build, "python"),
               "mgh", "--x0-scale", f"{scale:g}", "--time-limit", f"{time_limit:g}", "--json-out", out]
        for m in SCIPY_METHODS:
            cmd += ["--method", m]
        run(cmd)  # its table (and scipy's Fortran chatter) go to stdout, unused
        with open(out) as f:
            report = json.load(f)
    rows = []
    for r in report["results"]:
        rows.append({"problem": r["problem"], "solver": "scipy " + r["method"], "solved": r["solved"],
                     "evaluations": r.get("gradient_evaluations", 0) + r.get("hessian_evaluations", 0),
                     "seconds": r["seconds"]})
    return rows


LBFGSPP_SEARCHES = ["nocedal-wright", "more-thuente", "backtracking", "bracketing"]


def lbfgspp_rows(binary, scale):
    cmd = [binary, "--suite", "mgh", "--x0-scale", f"{scale:g}", "--json"]
    for ls in LBFGSPP_SEARCHES:
        cmd += ["--linesearch", ls]
    report = json.loads(run(cmd))
    return [{"problem": r["problem"], "solver": "LBFGS++ " + r["method"].split("/")[1], "solved": r["solved"],
             "evaluations": r["gradient_evaluations"], "seconds": r["seconds"]} for r in report["results"]]


def write_costs(path, keys, solvers, table, field):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["problem"] + solvers)
        for key in keys:
            cells = []
            for s in solvers:
                r = table.get((key, s))
                ok = r is not None and r["solved"] and r[field] > 0
                cells.append(f"{r[field]:.6g}" if ok else "-")
            w.writerow([f"{key[0]}@{key[1]:g}x0"] + cells)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, action="append", help="x0 scale; repeat (default 1, 10 and 100)")
    ap.add_argument("--descent-method", action="append", help="descent method; repeat (default lbfgs, "
                    "trust-region, bfgs)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"), help="release build directory")
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "docs", "images"))
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per scipy run")
    args = ap.parse_args()
    scales = args.scale or [1.0, 10.0, 100.0]
    methods = args.descent_method or ["lbfgs", "trust-region", "bfgs"]
    cli = os.path.join(args.build, "bin", "descent")
    peers = os.path.join(args.build, "bin", "bench_lbfgs_peers")
    for b in (cli, peers):
        if not os.access(b, os.X_OK):
            sys.exit(f"{b} not found; build with cmake --preset release -DDESCENT_BUILD_BENCH=ON && "
                     "cmake --build --preset release")

    table, keys, solvers = {}, [], []
    for scale in scales:
        rows = descent_rows(cli, scale, methods) + scipy_rows(scale, args.build, args.time_limit) + \
            lbfgspp_rows(peers, scale)
        for r in rows:
            key = (r["problem"], scale)
            if key not in keys:
                keys.append(key)
            if r["solver"] not in solvers:
                solvers.append(r["solver"])
            table[(key, r["solver"])] = r

    # LBFGS++: only its line search that solves the most pairs.
    searches = [s for s in solvers if s.startswith("LBFGS++ ")]
    best = max(searches, key=lambda s: sum(1 for k in keys if table.get((k, s), {}).get("solved")))
    print(f"LBFGS++: {best.split(' ')[1]} solves the most pairs of its line searches "
          + ", ".join(f"{s.split(' ')[1]} {sum(1 for k in keys if table.get((k, s), {}).get('solved'))}"
                      for s in searches))
    solvers = [s for s in solvers if s not in searches or s == best]

    # Solved counts per start, and evaluations against scipy's best.
    width = max(len(s) for s in solvers) + 2
    print("Moré–Garbow–Hillstrom: problems solved (f within 1e-6 relative or 1e-10 absolute of the known minimum)")
    print(f"{'solver':<{width}}" + "".join(f"{f'{s:g} x0':>9}" for s in scales) + f"{'all':>9}")
    counts = {}
    for s in solvers:
        per = [sum(1 for k in keys if k[1] == sc and table.get((k, s), {}).get("solved")) for sc in scales]
        counts[s] = per
        n = len(keys) // len(scales)
        print(f"{s:<{width}}" + "".join(f"{f'{c}/{n}':>9}" for c in per) + f"{f'{sum(per)}/{len(keys)}':>9}")
    print("\nTotal gradient + Hessian evaluations on the problems both solve, per start "
          "(descent method / scipy's method with the most solved at that start)")
    scipy_solvers = [s for s in solvers if s.startswith("scipy ")]
    for m in methods:
        d = "descent " + m
        cells = []
        for i, sc in enumerate(scales):
            best = max(scipy_solvers, key=lambda s: counts[s][i])
            both = [k for k in keys if k[1] == sc and table.get((k, d), {}).get("solved")
                    and table.get((k, best), {}).get("solved")]
            de = sum(table[(k, d)]["evaluations"] for k in both)
            se = sum(table[(k, best)]["evaluations"] for k in both)
            cells.append(f"{sc:g} x0: {de} / {se} ({best}, {len(both)} problems, ratio {de / max(se, 1):.2f})")
        print(f"  {d}: " + "; ".join(cells))

    os.makedirs(args.out_dir, exist_ok=True)
    starts = ", ".join(f"{s:g}" for s in scales)
    for field, cost in (("evaluations", "gradient + Hessian evaluations"), ("seconds", "seconds")):
        csv_path = os.path.join(args.out_dir, f"mgh_profile_{field}.csv")
        svg_path = os.path.join(args.out_dir, f"mgh_profile_{field}.svg")
        write_costs(csv_path, keys, solvers, table, field)
        print(run([cli, "plot", "--profile", csv_path, "--cost", cost, "-o", svg_path,
                   "--title", f"MGH from {starts} x the standard starts: {cost}"]).strip())


if __name__ == "__main__":
    main()
