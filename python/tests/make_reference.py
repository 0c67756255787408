#!/usr/bin/python3
"""Runs scipy.optimize.minimize once on every case of problems.py and
stores what it found in data/scipy_reference.json, which the tests read
(they never import scipy). It also runs scipy's L-BFGS-B on the 35
Moré–Garbow–Hillstrom problems of descent's C++ registry (through
descent.problems, so a built package must be on PYTHONPATH). Run it again
only when a case is added:

    PYTHONPATH=build/release/python /usr/bin/python3 python/tests/make_reference.py
"""

import json
import pathlib

import numpy as np
import scipy
from scipy.optimize import minimize

import descent
import problems


def main():
    out = {"scipy_version": scipy.__version__, "cases": {}}
    for name, method in problems.cases():
        fun, jac, hess, hessp, x0, bounds = problems.PROBLEMS[name]
        kw = {"hessp": hessp} if method in ("Newton-CG", "trust-ncg", "trust-krylov") else {}
        r = minimize(fun, x0, jac=jac, method=method, bounds=bounds, **kw)
        out["cases"][f"{name}/{method}"] = {
            "x": np.asarray(r.x).tolist(), "fun": float(r.fun), "nfev": int(r.nfev), "success": bool(r.success),
        }
        print(f"{name:15} {method:12} f = {r.fun:.6g} nfev = {r.nfev} {r.message}")
    out["mgh"] = {}
    for name in descent.problems.mgh_names():
        p = descent.problems.make(name)
        r = minimize(p.fun_and_jac, p.start(), jac=True, method="L-BFGS-B")
        out["mgh"][name] = {"fun": float(r.fun), "nfev": int(r.nfev), "success": bool(r.success)}
        print(f"{name:28} L-BFGS-B     f = {r.fun:.6g} nfev = {r.nfev}")
    path = pathlib.Path(__file__).with_name("data") / "scipy_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
