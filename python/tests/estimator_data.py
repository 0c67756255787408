"""Generated data for the estimator tests (and make_sklearn_reference.py)."""

import numpy as np

CS = [1.0, 0.1]
ALPHAS = [0.0, 3.0]


def classification():
    """{"binary": (X, y), "three": (X, y)}: overlapping Gaussian classes, float32 X."""
    rng = np.random.default_rng(11)
    out = {}
    for name, k in (("binary", 2), ("three", 3)):
        centers = rng.standard_normal((k, 4)) * 1.5
        y = rng.integers(0, k, 300)
        X = (centers[y] + rng.standard_normal((300, 4))).astype(np.float32)
        out[name] = (X, y)
    return out


def regression():
    rng = np.random.default_rng(12)
    X = rng.standard_normal((200, 5)).astype(np.float32)
    y = (X.astype(np.float64) @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.7 + 0.3 * rng.standard_normal(200))
    return X, y
