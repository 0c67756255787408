#!/usr/bin/python3
"""Global minima of the multimodal test functions: descent's basin hopping
and multistart against scipy.optimize.basinhopping and dual_annealing.

  global_peers.py [--seeds 20] [--hops 100] [--function NAME ...] [--json-out FILE]

For each function (descent.problems' multimodal set at the dimensions the
literature states: the 2-D ones, and the n-D ones at n = 2 and 5) and each
seed, every side gets the same function (the C++ problem's fun and jac) and
the same start (the problem's standard start):

  descent bh     descent.basinhopping(p, x0, niter=hops, stepsize=S, seed=seed,
                 minimizer_kwargs=L-BFGS-B with the domain as bounds)
  scipy bh       scipy.optimize.basinhopping, the same niter, stepsize, seed and
                 local method (L-BFGS-B with jac and the domain as bounds)
  scipy da       scipy.optimize.dual_annealing on the domain, maxfun = the
                 evaluations descent bh used on that seed (the same budget)

S is a tenth of the domain's width (both basin hoppings). A run succeeds when
its f is within 1e-6 relative or 1e-8 absolute of the known minimum. The
table gives the success rate over the seeds, the median function
evaluations, and the median wall time of each call.

NLopt's MLSL is not part of this script yet. Run with Debian's
/usr/bin/python3 on a quiet machine, with the module built (cmake --build
--preset release); set DESCENT_PYTHON_DIR to another build's python/ folder.
"""

import argparse
import json
import os
import statistics
import sys
import time
import warnings

import numpy as np
import scipy
import scipy.optimize as so

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("DESCENT_PYTHON_DIR", os.path.join(HERE, os.pardir, "build", "release",
                                                                     "python")))
import descent  # noqa: E402

CASES = [("six_hump_camel", 2), ("holder_table", 2), ("eggholder", 2), ("shubert", 2), ("ackley", 2),
         ("rastrigin", 2), ("schwefel", 2), ("griewank", 2), ("levy", 2), ("styblinski_tang", 2),
         ("michalewicz", 2), ("ackley", 5), ("rastrigin", 5), ("levy", 5), ("styblinski_tang", 5),
         ("michalewicz", 5)]


class Counted:
    """fun_and_jac with a count of calls."""

    def __init__(self, p):
        self.p, self.calls = p, 0

    def __call__(self, x):
        self.calls += 1
        return self.p.fun_and_jac(x)

    def fun(self, x):
        self.calls += 1
        return self.p.fun(x)


def solved(f, fstar):
    return f - fstar <= max(1e-6 * abs(fstar), 1e-8)


def run_case(name, n, seeds, hops):
    variable = {c["name"]: c["variable_dimension"] for c in descent.problems.catalog()}
    p = descent.problems.make(name, dim=n) if variable[name] else descent.problems.make(name)
    lo, hi = p.domain
    bounds = list(zip(lo, hi))
    step = 0.1 * float(np.max(hi - lo))
    fstar = p.known_minimum
    rows = {"descent bh": [], "scipy bh": [], "scipy da": []}
    for seed in range(seeds):
        x0 = p.start()
        f = Counted(p)
        t = time.perf_counter()
        r = descent.basinhopping(f, x0, niter=hops, stepsize=step, seed=seed,
                                 minimizer_kwargs={"method": "L-BFGS-B", "jac": True, "bounds": bounds})
        rows["descent bh"].append((solved(r.fun, fstar), f.calls, time.perf_counter() - t))
        budget = f.calls
        f = Counted(p)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = so.basinhopping(f, x0, niter=hops, stepsize=step, seed=seed,
                                minimizer_kwargs={"method": "L-BFGS-B", "jac": True, "bounds": bounds})
        rows["scipy bh"].append((solved(r.fun, fstar), f.calls, time.perf_counter() - t))
        f = Counted(p)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = so.dual_annealing(f.fun, bounds, seed=seed, maxfun=max(budget, 10), x0=x0)
        rows["scipy da"].append((solved(r.fun, fstar), f.calls, time.perf_counter() - t))
    return p, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--hops", type=int, default=100)
    ap.add_argument("--function", action="append", help="NAME or NAME:N; repeat (default the whole set)")
    ap.add_argument("--json-out")
    a = ap.parse_args()
    cases = CASES
    if a.function:
        cases = [(s.split(":")[0], int(s.split(":")[1]) if ":" in s else 2) for s in a.function]
    print(f"scipy {scipy.__version__}; {a.seeds} seeds, {a.hops} hops; success rate / median evaluations / "
          "median seconds")
    sides = ["descent bh", "scipy bh", "scipy da"]
    print(f"{'function':<22}" + "".join(f"{s:>28}" for s in sides))
    report = []
    totals = {s: [0, 0] for s in sides}
    for name, n in cases:
        p, rows = run_case(name, n, a.seeds, a.hops)
        cells = []
        for s in sides:
            ok = sum(r[0] for r in rows[s])
            totals[s][0] += ok
            totals[s][1] += len(rows[s])
            evals = statistics.median(r[1] for r in rows[s])
            secs = statistics.median(r[2] for r in rows[s])
            cells.append(f"{ok:>3}/{len(rows[s])} {evals:>8.0f} {secs:>10.4f} s")
            report.append({"function": name, "n": n, "side": s, "successes": ok, "seeds": len(rows[s]),
                           "median_evaluations": evals, "median_seconds": secs})
        print(f"{name + ' (' + str(n) + ')':<22}" + "".join(f"{c:>28}" for c in cells), flush=True)
    print(f"{'all':<22}" + "".join(f"{f'{totals[s][0]}/{totals[s][1]}':>28}" for s in sides))
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"benchmark": "global_peers", "scipy": scipy.__version__, "seeds": a.seeds, "hops": a.hops,
                       "results": report}, f, indent=2)


if __name__ == "__main__":
    main()
