#!/usr/bin/python3
"""descent.minimize against scipy.optimize.minimize on Python objectives.

Both sides minimize the same numpy-written functions with the same method
(L-BFGS-B, m = 10, scipy's defaults); the script prints per case the
minimum found, the evaluations and the median wall time of alternating
runs, and the ratio scipy / descent.

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python_minimize.py [--repeats 7] [--large]

Cases: a two-variable Rosenbrock (the call's own overhead), extended
Rosenbrock at n = 10^4 (and 10^6 with --large), and a bound-constrained
extended Rosenbrock (x <= 0.9).
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
        td, ts = [], []
        for _ in range(a.repeats):
            t, rd = timed(lambda: descent.minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds), inner)
            td.append(t)
            t, rs = timed(lambda: so.minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds), inner)
            ts.append(t)
        md, ms = statistics.median(td), statistics.median(ts)
        ratios.append(ms / md)
        print(f"{name:<24} {rd.fun:>14.8g} {rs.fun:>14.8g} {rd.nfev:>7} {rs.nfev:>7} {md:>10.3g} {ms:>10.3g} "
              f"{ms / md:>6.2f}")
    print(f"ratio scipy/descent: median {statistics.median(ratios):.2f}, min {min(ratios):.2f}")


if __name__ == "__main__":
    main()
