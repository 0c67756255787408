#!/usr/bin/python3
"""Runs scipy.optimize.minimize once on every case of problems.py and
stores what it found in data/scipy_reference.json, which the tests read
(they never import scipy). Run it again only when a case is added:

    /usr/bin/python3 python/tests/make_reference.py
"""

import json
import pathlib

import numpy as np
import scipy
from scipy.optimize import minimize

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
    path = pathlib.Path(__file__).with_name("data") / "scipy_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
