#!/usr/bin/python3
"""Multinomial logistic regression on Fashion-MNIST from Python, three ways:
scipy.optimize.minimize and descent.minimize on the same numpy objective
(L-BFGS-B, float64, numpy matrix products through OpenBLAS), and descent.train
on descent's own C++ model of it (float64 L-BFGS-B on the logistic model).

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python_logistic.py [--max-iter 50] [--l2 1e-4]

The objective is bench/scipy_logistic.py's: W [784, 10] and b [10] from zero,
mean softmax cross-entropy + (l2 / 2) ||W||^2. ftol 0 and gtol 1e-6, so that
every side runs --max-iter iterations and the losses compare at equal
iterations. Prints f, the evaluations and the wall time of each, and the
ratios scipy / descent. The data loading is outside the timings.
"""

import argparse
import time

import numpy as np
import scipy.optimize as so

import descent


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-iter", type=int, default=50)
    ap.add_argument("--l2", type=float, default=1e-4)
    a = ap.parse_args()

    x32, y32 = descent.load_data("fashion-mnist", "train")
    x = (x32 / 255.0).astype(np.float64) if x32.max() > 1.5 else x32.astype(np.float64)
    y = y32.astype(np.int64)
    n, features = x.shape
    classes = int(y.max()) + 1
    size = features * classes
    rows = np.arange(n)

    def objective(theta):
        w = theta[:size].reshape(features, classes)
        z = x @ w + theta[size:]
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1)
        loss = float(np.mean(np.log(s) - z[rows, y]))
        p = e / s[:, None]
        p[rows, y] -= 1.0
        p /= n
        g = np.empty_like(theta)
        g[:size] = (x.T @ p + a.l2 * w).ravel()
        g[size:] = p.sum(axis=0)
        return loss + 0.5 * a.l2 * float(theta[:size] @ theta[:size]), g

    theta0 = np.zeros(size + classes)
    options = {"maxiter": a.max_iter, "gtol": 1e-6, "ftol": 0.0, "maxcor": 10}
    runs = {}
    for name, run in (("scipy", lambda: so.minimize(objective, theta0, jac=True, method="L-BFGS-B", options=options)),
                      ("descent.minimize", lambda: descent.minimize(objective, theta0, jac=True, method="L-BFGS-B",
                                                                    options=options))):
        start = time.perf_counter()
        r = run()
        runs[name] = (time.perf_counter() - start, float(r.fun), int(r.nfev), int(r.nit))
    # descent's C++ model: pixels scaled to [0, 1] as above (the loader's values / 255), float64 solver.
    xs = (x32 / 255.0).astype(np.float32) if x32.max() > 1.5 else x32
    start = time.perf_counter()
    r = descent.train(xs, y32, model="logistic", optimizer="lbfgsb", l2=a.l2, gtol=1e-6, max_iter=a.max_iter)
    runs["descent.train (C++ model)"] = (time.perf_counter() - start, float(r.train_loss), int(r.evaluations),
                                         int(r.iterations))

    print(f"Fashion-MNIST logistic regression, {n} x {features}, {classes} classes, l2 {a.l2}, "
          f"L-BFGS-B m = 10, {a.max_iter} iterations")
    print(f"{'side':<28} {'f':>14} {'nfev':>6} {'nit':>5} {'seconds':>9} {'scipy / it':>10}")
    base = runs["scipy"][0]
    for name, (t, f, nfev, nit) in runs.items():
        print(f"{name:<28} {f:>14.10f} {nfev:>6} {nit:>5} {t:>9.3f} {base / t:>10.2f}")


if __name__ == "__main__":
    main()
