#!/usr/bin/python3
"""scipy's side of the full-batch training benchmark (see bench/run_train.sh):
multinomial logistic regression on Fashion-MNIST with L-BFGS-B, the peer of

  descent train --data fashion-mnist --model logistic --optimizer lbfgs --l2 1e-4 --max-iter 500 --json

  /usr/bin/python3 bench/scipy_logistic.py [--l2 1e-4] [--max-iter 500] [--gtol 1e-6] [--ftol 0]
                                           [--memory 10] [--threads T] [--limit N] [--data-dir DIR]
                                           [--json]

The objective, in numpy float64, with W [784, 10] and b [10], both starting
at zero as descent's logistic model starts:

  f(W, b) = mean over the N training images of softmax cross-entropy(x W + b, label)
            + (l2 / 2) ||W||_F^2                      (the biases are not penalized)

with its analytic gradient, minimized by scipy.optimize.minimize(method=
"L-BFGS-B", jac=True, options maxiter, maxcor=--memory, gtol, ftol). The
pixels are float32(b) / 255 widened to float64: the values descent's loader
gives and its float64 solvers widen, so both sides minimize the same
function. --limit N uses the first N of the 60,000 training images.

Stopping: L-BFGS-B's defaults (ftol 2.2e-9 on the relative decrease, gtol
1e-5 on the projected gradient's largest entry) would stop it long before
descent, whose only test is ||g||_2 <= --gtol (1e-6) besides --max-iter. So
the defaults here are ftol 0 and gtol 1e-6: both sides run --max-iter
iterations unless the gradient vanishes, and their losses and times compare
the same number of iterations. (scipy's gtol bounds max |g_i|, which is at
most ||g||_2: where it stops, descent's test may not hold yet.)

Threads: OPENBLAS_NUM_THREADS=T before numpy loads (the matrix products are
OpenBLAS dgemm through numpy); 0 leaves OpenBLAS's default.

seconds is the wall time of the minimize call alone, not the data loading.
"""

import argparse
import json
import os
import sys
import time

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--l2", type=float, default=1e-4, help="weight of (l2 / 2) ||W||^2 (default 1e-4)")
    ap.add_argument("--max-iter", type=int, default=500, help="L-BFGS-B iteration limit (default 500)")
    ap.add_argument("--gtol", type=float, default=1e-6, help="L-BFGS-B gtol (default 1e-6, descent's)")
    ap.add_argument("--ftol", type=float, default=0.0, help="L-BFGS-B ftol (default 0: off, as in descent)")
    ap.add_argument("--memory", type=int, default=10, help="L-BFGS-B maxcor, the pairs kept (default 10, descent's)")
    ap.add_argument("--threads", type=int, default=0, help="OpenBLAS threads (default: OpenBLAS's own choice)")
    ap.add_argument("--limit", type=int, default=0, help="train on the first N training images (default: all)")
    ap.add_argument("--data-dir", default=DATA_DIR, help=f"the IDX files (default {DATA_DIR})")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    if args.max_iter < 1 or args.memory < 1:
        ap.error("--max-iter and --memory must be >= 1")
    if args.l2 < 0 or args.gtol < 0 or args.ftol < 0 or args.threads < 0 or args.limit < 0:
        ap.error("--l2, --gtol, --ftol, --threads and --limit must be >= 0")
    return args


def main():
    args = parse()
    if args.threads > 0:
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)  # before numpy loads OpenBLAS
    openblas_threads = os.environ.get("OPENBLAS_NUM_THREADS")
    import numpy as np
    import scipy
    from scipy.optimize import minimize

    from torch_train import load_fashion_mnist  # bench/torch_train.py, beside this script (no torch at import)

    x32, y = load_fashion_mnist(args.data_dir, "train", args.limit)
    x = x32.astype(np.float64)
    n, features = x.shape
    classes = int(y.max()) + 1
    rows = np.arange(n)
    xt32, yt = load_fashion_mnist(args.data_dir, "t10k")
    xt = xt32.astype(np.float64)
    size = features * classes
    evaluations = 0

    def scores(theta, inputs):
        return inputs @ theta[:size].reshape(features, classes) + theta[size:]

    def cross_entropy(z, labels):
        """(mean cross-entropy, softmax probabilities) of the scores z, row by row."""
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1)
        loss = float(np.mean(np.log(s) - z[np.arange(len(labels)), labels]))
        return loss, e / s[:, None]

    def objective(theta):
        nonlocal evaluations
        evaluations += 1
        w = theta[:size].reshape(features, classes)
        loss, p = cross_entropy(scores(theta, x), y)
        p[rows, y] -= 1.0
        p /= n
        gradient = np.empty_like(theta)
        gradient[:size] = (x.T @ p + args.l2 * w).ravel()
        gradient[size:] = p.sum(axis=0)
        return loss + 0.5 * args.l2 * float(np.dot(theta[:size], theta[:size])), gradient

    theta0 = np.zeros(size + classes)
    start = time.perf_counter()
    r = minimize(objective, theta0, method="L-BFGS-B", jac=True,
                 options={"maxiter": args.max_iter, "maxcor": args.memory, "gtol": args.gtol, "ftol": args.ftol})
    seconds = time.perf_counter() - start

    test_loss, p = cross_entropy(scores(r.x, xt), yt)
    test_accuracy = float(np.mean(p.argmax(axis=1) == yt))
    message = r.message.decode() if isinstance(r.message, bytes) else str(r.message)
    # descent's names for why it stopped.
    if r.nit >= args.max_iter:
        status = "max_iterations"
    elif r.success:
        status = "converged_gradient" if "PROJ" in message else "converged_value"
    else:
        status = "failed"
    result = {
        "library": "scipy",
        "model": f"logistic:{features}-{classes}",
        "optimizer": "L-BFGS-B",
        "l2": args.l2,
        "max_iter": args.max_iter,
        "gtol": args.gtol,
        "ftol": args.ftol,
        "memory": args.memory,
        "openblas_threads": None if openblas_threads is None else int(openblas_threads),
        "parameters": size + classes,
        "train_rows": n,
        "train_loss": float(r.fun),
        "gradient_norm": float(np.linalg.norm(r.jac)),
        "gradient_max": float(np.abs(r.jac).max()),
        "iterations": int(r.nit),
        "evaluations": int(r.nfev),
        "objective_calls": evaluations,
        "seconds": seconds,
        "status": status,
        "success": bool(r.success),
        "message": message,
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "scipy_version": scipy.__version__,
        "numpy_version": np.__version__,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"scipy {scipy.__version__} L-BFGS-B (m {args.memory}) on {n} x {features} float64, {classes} classes, "
          f"l2 {args.l2}, OpenBLAS threads {openblas_threads or 'default'}")
    print(f"  {message} after {r.nit} iterations ({r.nfev} evaluations), training loss {r.fun:.9g}, "
          f"|g| {result['gradient_norm']:.3g}, {seconds:.2f} s; test loss {test_loss:.4f}, accuracy {test_accuracy:.4f}")


if __name__ == "__main__":
    sys.exit(main())
