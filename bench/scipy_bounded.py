#!/usr/bin/python3
"""descent's L-BFGS-B against scipy's (Fortran L-BFGS-B 3.0) on the same C++
objectives, with bounds that make some of them active at the solution.

  scipy_bounded.py [--n N ...] [--only NAME ...] [--m M] [--repeats R] [--json-out FILE]

Both sides get the same x0, bounds, m (maxcor), pgtol (gtol) = 1e-5 and
ftol = 2.2e-9 (scipy's defaults); the objective is descent_problems' C++
function in this process, so the difference is the solver itself plus
scipy's Python call per evaluation. Runs alternate; medians of R timed runs.

The catalogue's bound-constrained problems (their own bounds and starts):
  hs1 ... hs110     Hock-Schittkowski's bounded problems, once (fixed n)
  torsion, journal_bearing, minimal_surface_obstacle
                    MINPACK-2's grids, at every --n (a perfect square)
and variants of unconstrained problems (defined here, in BOUNDED):
  rosenbrock_upper  extended Rosenbrock, x_i <= 0.8 for every even i
                    (the minimum moves onto those bounds)
  quadratic_lower   0.5 sum i x_i^2 from x = 1, x_i >= 0.5 on the first half
  boundary_box      MGH 28 (discrete boundary value) with x in [-0.1, 0]
                    ... x_i >= -0.1: active where the solution dips below it
  illcond_box       0.5 sum a_i x_i^2, a_i log-spaced in [1, 1e6], start 1,
                    x_i in [0.1, 2] on every third i

Run with Debian's /usr/bin/python3. The module is looked up in
build/release/python (configure with -DDESCENT_BUILD_BENCH=ON).
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import scipy
import scipy.optimize as so

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "build", "release", "python"))
import descent_problems as dp  # noqa: E402

INF = np.inf


def rosenbrock_upper(n):
    p = dp.make("extended_rosenbrock", dim=n)
    lo = np.full(n, -INF)
    hi = np.full(n, INF)
    hi[0::2] = 0.8
    return p, p.start(), lo, hi


def quadratic_lower(n):
    p = dp.make("quadratic", dim=n)
    lo = np.full(n, -INF)
    lo[: n // 2] = 0.5
    return p, p.start(), lo, np.full(n, INF)


def boundary_box(n):
    p = dp.make("discrete_boundary_value", dim=n)
    return p, p.start(), np.full(n, -0.1), np.zeros(n)


def illcond_box(n):
    p = dp.make("ill_conditioned_quadratic", dim=n)
    lo = np.full(n, -INF)
    hi = np.full(n, INF)
    lo[0::3] = 0.1
    hi[0::3] = 2.0
    return p, np.ones(n), lo, hi


BOUNDED = {"rosenbrock_upper": rosenbrock_upper, "quadratic_lower": quadratic_lower,
           "boundary_box": boundary_box, "illcond_box": illcond_box}
GRIDS = ("torsion", "journal_bearing", "minimal_surface_obstacle")


def catalogue(name, n=None):
    p = dp.make(name, dim=n)
    lo, hi = p.bounds
    return p, p.start(), lo, hi


def cases(sizes):
    """(name, build) in the order they run: the small fixed problems, then per n."""
    out = [(name, lambda name=name: catalogue(name), False) for name in dp.bounded_names() if name not in GRIDS]
    for n in sizes:
        out += [(name, lambda name=name, n=n: catalogue(name, n), True) for name in GRIDS]
        out += [(name, lambda build=build, n=n: build(n), True) for name, build in BOUNDED.items()]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, action="append", help="dimension; repeat (default 10^4 and 10^6)")
    ap.add_argument("--only", action="append", help="run only this problem; repeat")
    ap.add_argument("--m", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json-out")
    args = ap.parse_args()
    sizes = args.n or [10**4, 10**6]
    pgtol, ftol, maxiter = 1e-5, 2.220446049250313e-09, 15000
    rows = []
    print(f"scipy {scipy.__version__} L-BFGS-B vs descent lbfgsb: m = {args.m}, pgtol = {pgtol:g}, "
          f"ftol = {ftol:.3g}; median of {args.repeats} alternating runs")
    print(f"{'problem':<24} {'n':>8} {'f descent':>16} {'f scipy':>16} {'evals d':>8} {'evals s':>8} "
          f"{'s descent':>10} {'s scipy':>10} {'speedup':>8}")
    for name, build, sized in cases(sizes):
        if args.only and name not in args.only:
            continue
        p, x0, lo, hi = build()
        n = p.n
        bounds = so.Bounds(lo, hi)
        d_times, s_times = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            d = dp.lbfgsb(p, x0, lo, hi, m=args.m, pgtol=pgtol, ftol=ftol, max_iter=maxiter)
            d_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            s = so.minimize(p.fun_and_jac, x0.copy(), jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"maxcor": args.m, "gtol": pgtol, "ftol": ftol, "maxiter": maxiter,
                                     "maxfun": maxiter})
            s_times.append(time.perf_counter() - t0)
        td, ts = statistics.median(d_times), statistics.median(s_times)
        row = {"problem": name, "n": n, "sized": sized, "f_descent": d["f"], "f_scipy": float(s.fun),
               "evaluations_descent": d["value_evaluations"], "evaluations_scipy": int(s.nfev),
               "iterations_descent": d["iterations"], "iterations_scipy": int(s.nit),
               "status_descent": d["status"], "message_scipy": str(s.message),
               "seconds_descent": td, "seconds_scipy": ts, "speedup": ts / td,
               "converged_descent": d["converged"], "converged_scipy": bool(s.success),
               "f_within_1e-8_or_lower": d["f"] <= float(s.fun) + 1e-8 * max(1.0, abs(float(s.fun)))}
        rows.append(row)
        mark = "" if row["f_within_1e-8_or_lower"] else " f!"
        print(f"{name:<24} {n:>8} {d['f']:>16.10g} {float(s.fun):>16.10g} {d['value_evaluations']:>8} "
              f"{int(s.nfev):>8} {td:>10.4f} {ts:>10.4f} {ts / td:>8.2f}{mark}", flush=True)
    total_d = sum(r["evaluations_descent"] for r in rows)
    total_s = sum(r["evaluations_scipy"] for r in rows)
    print(f"evaluations over the set: descent {total_d}, scipy {total_s}; "
          f"f within 1e-8 of scipy's or lower: {sum(r['f_within_1e-8_or_lower'] for r in rows)}/{len(rows)}; "
          f"converged: descent {sum(r['converged_descent'] for r in rows)}, "
          f"scipy {sum(r['converged_scipy'] for r in rows)}")
    for n in sizes:
        at_n = [r for r in rows if r["sized"] and r["n"] == n]
        ratios = [r["speedup"] for r in at_n]
        if not ratios:
            continue
        total = sum(r["seconds_scipy"] for r in at_n) / sum(r["seconds_descent"] for r in at_n)
        print(f"n = {n}: speedup median {statistics.median(ratios):.2f}x, min {min(ratios):.2f}x, "
              f"total time ratio {total:.2f}x")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"benchmark": "scipy_bounded", "scipy": scipy.__version__, "m": args.m, "rows": rows}, f,
                      indent=2)


if __name__ == "__main__":
    main()
