#!/usr/bin/python3
"""The closing summary of bench/run_solvers.sh, from the JSON files it wrote.

  summarize.py RESULTS_DIR [--markdown]

Reads, where present:
  peers_<n>[_reuse].json         bench_lbfgs_peers --json-out (descent vs LBFGS++)
  scipy_lbfgsb_<n>[_reuse].json  scipy_solvers.py lbfgsb --json-out (descent vs scipy L-BFGS-B)
  (_reuse: run with glibc malloc told to keep freed memory, see run_solvers.sh)
  descent_mgh.json       descent minimize --suite mgh --json
  scipy_mgh.json         scipy_solvers.py mgh --json-out
Ratios are descent over the peer: below 1 means descent used fewer
evaluations or less time.
"""

import argparse
import glob
import json
import os
import re
import statistics
import sys
from collections import OrderedDict


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"(skipping {path}: {e})", file=sys.stderr)
        return None


def spread(values, digits):
    """'median' or 'median (min-max)'; '-' when there is nothing."""
    if not values:
        return "-"
    med = f"{statistics.median(values):.{digits}f}"
    if len(values) == 1:
        return med
    return f"{med} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def load_runs(path):
    """The JSON lines of a run_*.sh results file: (runs, machine lines)."""
    runs, machine, bad = [], [], 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                d = json.loads(line)
            except ValueError:
                bad += 1
                continue
            (machine if d.get("side") == "machine" else runs).append(d)
    if bad:
        print(f"(skipped {bad} line(s) of {path} that are not JSON)", file=sys.stderr)
    return runs, machine


def results_args(doc, results_name, runner):
    """(args, runs, machine) of a summarize_*.py command line: a results file
    written by bench/RUNNER, and --markdown."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("jsonl", help=f"{results_name} written by bench/{runner}")
    ap.add_argument("--markdown", action="store_true", help="Markdown tables, for docs/benchmarks.md")
    args = ap.parse_args()
    try:
        runs, machine = load_runs(args.jsonl)
    except OSError as e:
        sys.exit(f"{os.path.basename(sys.argv[0])}: {e}")
    return args, runs, machine


def print_warnings(warnings):
    if warnings:
        print("WARNINGS:")
        for w in warnings:
            print(f"  {w}")


def by_n(results_dir, prefix):
    """[(n, malloc, report)] sorted by n, the default allocator first."""
    files = glob.glob(os.path.join(results_dir, f"{prefix}_*.json"))
    keyed = []
    for f in files:
        m = re.search(rf"{prefix}_(\d+)(_reuse)?\.json$", f)
        if m:
            keyed.append((int(m.group(1)), "reuse" if m.group(2) else "default", f))
    return [(n, malloc, load(f)) for n, malloc, f in sorted(keyed)]


def size(n):
    return f"{n:.0e}".replace("e+0", "e")


def table(header, rows, markdown):
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
        return "\n".join(out)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    fmt = lambda r: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(header)] + [fmt(r) for r in rows])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results_dir")
    ap.add_argument("--markdown", action="store_true", help="Markdown tables, for docs/benchmarks.md")
    args = ap.parse_args()
    d = args.results_dir
    warnings = []

    # descent vs LBFGS++
    rows = []
    for n, malloc, rep in by_n(d, "peers"):
        if not rep:
            continue
        for block in rep["results"]:
            sides = block["sides"]
            ds = sides[0]
            for s in sides[1:]:
                rows.append([size(n), malloc, block["m"], s["side"].replace("lbfgspp/", ""),
                             f"{ds['gradient_evaluations'] + ds['value_evaluations']} / {s['gradient_evaluations']}",
                             f"{s['ratio_gradient_evaluations']:.2f}",
                             f"{ds['seconds_median'] * 1e3:.1f} / {s['seconds_median'] * 1e3:.1f}",
                             f"{s['ratio_seconds']:.2f}"])
            for s in sides:
                if not s["reached_minimum"]:
                    warnings.append(f"n = {n} ({malloc} malloc), m = {block['m']}: {s['side']} did not reach the "
                                    f"minimum ({s['status']})")
    if rows:
        print("descent L-BFGS vs LBFGS++ on extended Rosenbrock, ||g||_2 <= tol, same m (ratio = descent / LBFGS++)")
        print(table(["n", "malloc", "m", "LBFGS++ line search", "evals d / x", "ratio", "median ms d / x", "ratio"], rows,
                    args.markdown))
        print()

    # descent vs scipy L-BFGS-B
    rows = []
    for n, malloc, rep in by_n(d, "scipy_lbfgsb"):
        if not rep:
            continue
        for r in rep["results"]:
            de, sp = r["descent"], r["scipy"]
            rows.append([size(n), malloc, r["m"],
                         f"{de['function_evaluations']} / {sp['function_evaluations']}",
                         f"{r['ratio_evaluations']:.2f}",
                         f"{de['seconds_median'] * 1e3:.1f} / {sp['seconds_median'] * 1e3:.1f}",
                         f"{r['ratio_seconds']:.2f}",
                         f"{sp['gradient_norm']:.1e}"])
            if not sp["reached_minimum"]:
                warnings.append(f"n = {n}, m = {r['m']}: scipy L-BFGS-B did not reach the minimum ({sp['message']})")
            if not de["reached_minimum"]:
                warnings.append(f"n = {n}, m = {r['m']}: descent (in scipy_solvers.py) did not reach the minimum")
    if rows:
        print("descent L-BFGS vs scipy L-BFGS-B on extended Rosenbrock, same m (ratio = descent / scipy; scipy stops "
              "on ||Pg||_inf <= tol)")
        print(table(["n", "malloc", "m", "evals d / s", "ratio", "median ms d / s", "ratio", "scipy final |g|_2"], rows,
                    args.markdown))
        print()

    # MGH solved counts
    rows = []
    dm = load(os.path.join(d, "descent_mgh.json")) if os.path.exists(os.path.join(d, "descent_mgh.json")) else None
    if dm:
        counts, totals = OrderedDict(), OrderedDict()
        for r in dm:
            counts[r["method"]] = counts.get(r["method"], 0) + bool(r.get("solved"))
            totals[r["method"]] = totals.get(r["method"], 0) + 1
        rows += [["descent", m, f"{counts[m]}/{totals[m]}"] for m in counts]
    sm = load(os.path.join(d, "scipy_mgh.json")) if os.path.exists(os.path.join(d, "scipy_mgh.json")) else None
    if sm:
        rows += [[f"scipy {sm.get('scipy', '')}".strip(), m, f"{c}/{sm['problems']}"] for m, c in sm["solved"].items()]
    if rows:
        print("Moré–Garbow–Hillstrom, standard starts: problems solved (f within 1e-6 relative or 1e-10 absolute of "
              "the known minimum)")
        print(table(["library", "method", "solved"], rows, args.markdown))
        print()

    print_warnings(warnings)


if __name__ == "__main__":
    main()
