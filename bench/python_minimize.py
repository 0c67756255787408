#!/usr/bin/python3
"""descent.minimize against scipy.optimize.minimize on Python objectives.

Both sides minimize the same numpy-written functions with the same method
(L-BFGS-B, m = 10, scipy's defaults); the script prints per case the
minimum found, the evaluations and the median wall time of alternating
runs, and the ratio scipy / descent.

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python_minimize.py [--repeats 7] [--large]

Cases: a two-variable Rosenbrock (the call's own overhead), extended
Rosenbrock at n = 10^4 (and 10^6 with --large), and a bound-constrained
extended Rosenbrock (x <= 0.9), each written in numpy; then the same solves
on descent's C++ objectives (descent.problems: descent.minimize runs without
entering Python, scipy calls the problem's fun_and_jac), and the 35 MGH
problems from their standard starts.
"""

import argparse
import pathlib
import statistics
import sys
import time

import numpy as np
import scipy.optimize as so

import descent

# The objective a user writes, as examples/python/minimize.py writes it.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "examples" / "python"))
from minimize import extended_rosenbrock as ext_rosen  # noqa: E402


def ext_rosen_start(n):
    return np.tile([-1.2, 1.0], n // 2)


def cases(large):
    yield "rosen2", ext_rosen, ext_rosen_start(2), None, 200
    yield "ext_rosen 1e4", ext_rosen, ext_rosen_start(10_000), None, 0
    yield "ext_rosen 1e4 x<=0.9", ext_rosen, ext_rosen_start(10_000), [(None, 0.9)] * 10_000, 0
    if large:
        yield "ext_rosen 1e6", ext_rosen, ext_rosen_start(1_000_000), None, 0


def timed(fn, inner):
    start = time.perf_counter()
    for _ in range(max(inner, 1)):
        r = fn()
    return (time.perf_counter() - start) / max(inner, 1), r


def compare(name, run_descent, run_scipy, inner, repeats):
    """Alternates the two sides `repeats` times, prints the case's row and returns scipy / descent."""
    td, ts = [], []
    for _ in range(repeats):
        t, rd = timed(run_descent, inner)
        td.append(t)
        t, rs = timed(run_scipy, inner)
        ts.append(t)
    md, ms = statistics.median(td), statistics.median(ts)
    print(f"{name:<24} {rd.fun:>14.8g} {rs.fun:>14.8g} {rd.nfev:>7} {rs.nfev:>7} {md:>10.3g} {ms:>10.3g} "
          f"{ms / md:>6.2f}")
    return ms / md


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--large", action="store_true", help="also n = 10^6")
    a = ap.parse_args()
    print(f"descent {descent.__version__} vs scipy {__import__('scipy').__version__}: "
          f"L-BFGS-B, median of {a.repeats} alternating runs")
    print(f"{'case':<24} {'f descent':>14} {'f scipy':>14} {'nfev d':>7} {'nfev s':>7} {'s descent':>10} "
          f"{'s scipy':>10} {'ratio':>6}")
    ratios = []
    for name, fun, x0, bounds, inner in cases(a.large):
        ratios.append(compare(name, lambda: descent.minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds),
                              lambda: so.minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds), inner,
                              a.repeats))
    print(f"ratio scipy/descent: median {statistics.median(ratios):.2f}, min {min(ratios):.2f}")

    print("\nC++ objectives (descent.problems): descent.minimize(problem) vs scipy on problem.fun_and_jac")
    print(f"{'case':<24} {'f descent':>14} {'f scipy':>14} {'nfev d':>7} {'nfev s':>7} {'s descent':>10} "
          f"{'s scipy':>10} {'ratio':>6}")
    problem_cases = [("ext_rosen 2", "extended_rosenbrock", 2, None, 200),
                     ("ext_rosen 1e4", "extended_rosenbrock", 10_000, None, 0),
                     ("ext_rosen 1e4 x<=0.9", "extended_rosenbrock", 10_000, 0.9, 0),
                     ("torsion 1e4 (bounded)", "torsion", 10_000, None, 0)]
    if a.large:
        problem_cases.append(("ext_rosen 1e6", "extended_rosenbrock", 1_000_000, None, 0))
    ratios = []
    for name, problem_name, dim, upper, inner in problem_cases:
        p = descent.problems.make(problem_name, dim=dim)
        x0 = p.start()
        bounds = [(None, upper)] * dim if upper is not None else (list(zip(*p.bounds)) if p.bounds else None)
        ratios.append(compare(name, lambda: descent.minimize(p, x0, method="L-BFGS-B", bounds=bounds),
                              lambda: so.minimize(p.fun_and_jac, x0, jac=True, method="L-BFGS-B", bounds=bounds),
                              inner, a.repeats))
    print(f"ratio scipy/descent: median {statistics.median(ratios):.2f}, min {min(ratios):.2f}")

    # The MGH set: same minimum (within 1e-8 relative, or both below 1e-10), evaluations, total time.
    same = fewer = 0
    total_d = total_s = 0.0
    names = descent.problems.mgh_names()
    for problem_name in names:
        p = descent.problems.make(problem_name)
        x0 = p.start()
        td, rd = timed(lambda: descent.minimize(p, x0, method="L-BFGS-B"), 20)
        ts, rs = timed(lambda: so.minimize(p.fun_and_jac, x0, jac=True, method="L-BFGS-B"), 20)
        total_d += td
        total_s += ts
        scale = max(abs(rs.fun), 1e-300)
        same += abs(rd.fun - rs.fun) <= 1e-8 * scale or max(abs(rd.fun), abs(rs.fun)) < 1e-10
        fewer += rd.nfev <= rs.nfev
    print(f"\nMGH, {len(names)} problems, L-BFGS-B from the standard start: same minimum on {same}, "
          f"no more evaluations on {fewer}; total {total_d * 1e3:.2f} ms descent vs {total_s * 1e3:.2f} ms scipy "
          f"({total_s / total_d:.1f}x)")


if __name__ == "__main__":
    main()
