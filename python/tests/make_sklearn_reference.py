#!/usr/bin/python3
"""Fits scikit-learn's LogisticRegression and Ridge once on the generated data
of estimator_data.py and stores the coefficients in
data/sklearn_reference.json, which test_train.py compares descent's
estimators with (the tests never import scikit-learn for this). Run it again
only when a case is added (needs python3-sklearn):

    /usr/bin/python3 python/tests/make_sklearn_reference.py
"""

import json
import pathlib

import sklearn
from sklearn.linear_model import LogisticRegression, Ridge

import estimator_data


def main():
    out = {"sklearn_version": sklearn.__version__, "cases": {}}
    for name, (X, y) in estimator_data.classification().items():
        for C in estimator_data.CS:
            m = LogisticRegression(C=C, tol=1e-10, max_iter=100000).fit(X, y)
            out["cases"][f"logistic/{name}/C={C}"] = {"coef": m.coef_.tolist(), "intercept": m.intercept_.tolist()}
    X, y = estimator_data.regression()
    for alpha in estimator_data.ALPHAS:
        m = Ridge(alpha=alpha, tol=1e-12).fit(X, y)
        out["cases"][f"ridge/alpha={alpha}"] = {"coef": m.coef_.tolist(), "intercept": float(m.intercept_)}
    path = pathlib.Path(__file__).with_name("data") / "sklearn_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
