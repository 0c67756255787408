#!/usr/bin/python3
"""descent.minimize as a scipy.optimize.minimize user calls it: a numpy
objective with its gradient, 10^4 variables, an upper bound on each.

    PYTHONPATH=build/release/python /usr/bin/python3 examples/python/minimize.py
"""

import time

import numpy as np

from descent import minimize


def extended_rosenbrock(x):
    """f and its gradient: sum over pairs of 100 (x2 - x1^2)^2 + (1 - x1)^2."""
    xo, xe = x[0::2], x[1::2]
    t1 = 10.0 * (xe - xo * xo)
    t2 = 1.0 - xo
    g = np.empty_like(x)
    g[0::2] = -40.0 * xo * t1 - 2.0 * t2
    g[1::2] = 20.0 * t1
    return float(t1 @ t1 + t2 @ t2), g


def main():
    n = 10_000
    x0 = np.tile([-1.2, 1.0], n // 2)
    start = time.perf_counter()
    res = minimize(extended_rosenbrock, x0, jac=True, method="L-BFGS-B", bounds=[(None, 0.9)] * n)
    seconds = time.perf_counter() - start
    print(f"L-BFGS-B from Python, n = {n}, x <= 0.9: f = {res.fun:.10g} after {res.nit} iterations, "
          f"{res.nfev} evaluations, {seconds * 1e3:.1f} ms")
    print(f"  {res.message}; {len(res.active_upper)} variables at their upper bound")


if __name__ == "__main__":
    main()
