"""Test functions for descent.minimize, written with numpy alone.

The same functions serve make_reference.py (which runs scipy once and
stores what it finds) and the tests (which never import scipy).
"""

import numpy as np


def rosen(x):
    x = np.asarray(x)
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def rosen_der(x):
    x = np.asarray(x)
    g = np.zeros_like(x)
    g[1:-1] = (200 * (x[1:-1] - x[:-2] ** 2) - 400 * (x[2:] - x[1:-1] ** 2) * x[1:-1] - 2 * (1 - x[1:-1]))
    g[0] = -400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0])
    g[-1] = 200 * (x[-1] - x[-2] ** 2)
    return g


def rosen_hess(x):
    x = np.asarray(x)
    n = x.size
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        h[i, i + 1] = h[i + 1, i] = -400 * x[i]
        h[i + 1, i + 1] += 200
    return h


def rosen_hess_prod(x, p):
    return rosen_hess(x) @ np.asarray(p)


# The log-sum-exp test function of scipy's optimizer tests (CheckOptimize):
# f(x) = log(sum(exp(F x))) - K . x, with its minimum at LOGSUMEXP_XOPT
# (the value scipy's tests check against).
F = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 1], [1, 0, 0], [1, 0, 0]], dtype=float)
K = np.array([1.0, 0.3, 0.5])


def logsumexp_fun(x):
    return float(np.log(np.sum(np.exp(F @ x))) - K @ x)


def logsumexp_grad(x):
    e = np.exp(F @ x)
    return F.T @ e / np.sum(e) - K


# A bound-constrained quadratic with a known answer: min |x - c|^2 over
# [0, 1]^n, solved by clipping c.
C = np.array([-0.5, 0.25, 0.75, 1.5, 2.0, 0.5])


def quad_fun(x):
    return float(np.sum((x - C) ** 2))


def quad_grad(x):
    return 2 * (x - C)


ROSEN_X0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])
LOGSUMEXP_X0 = np.zeros(3)
LOGSUMEXP_XOPT = np.array([0.0, -0.524869316, 0.487525860])

# (name, fun, jac, hess, hessp, x0, bounds)
PROBLEMS = {
    "rosen": (rosen, rosen_der, rosen_hess, rosen_hess_prod, ROSEN_X0, None),
    "rosen_upper": (rosen, rosen_der, None, None, ROSEN_X0, [(None, 0.9)] * 5),
    "rosen_box": (rosen, rosen_der, None, None, ROSEN_X0, [(-2.0, 2.0), (1.5, 3.0), (-2, 2), (-2, 2), (-2, 2)]),
    "logsumexp": (logsumexp_fun, logsumexp_grad, None, None, LOGSUMEXP_X0, None),
    "quadratic_box": (quad_fun, quad_grad, None, None, np.full(6, 0.5), [(0.0, 1.0)] * 6),
}

# The methods each problem is solved with, by scipy's names.
UNBOUNDED_METHODS = ["L-BFGS-B", "BFGS", "CG", "Newton-CG", "trust-ncg", "trust-krylov"]
BOUNDED_METHODS = ["L-BFGS-B"]


def cases():
    for name, (fun, jac, hess, hessp, x0, bounds) in PROBLEMS.items():
        for method in (BOUNDED_METHODS if bounds else UNBOUNDED_METHODS):
            if method in ("Newton-CG", "trust-ncg", "trust-krylov") and hessp is None:
                continue
            yield name, method
