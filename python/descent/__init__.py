"""descent: gradient-based optimization, from Python.

    from descent import minimize          # instead of scipy.optimize.minimize
    from descent import basinhopping      # instead of scipy.optimize.basinhopping
    res = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=[(0, 1)] * n)

    opt = descent.optim.Adam([w, b], lr=1e-3)   # torch.optim's names on numpy arrays
    opt = descent.torch.Adam(model.parameters())  # a torch.optim.Optimizer (import descent.torch)

See docs/python.md for the methods, the options and the migration table.
"""

from . import _core, optim, problems
from ._global import basinhopping, multistart
from ._minimize import SCIPY_METHODS, OptimizeResult, SlowGradientWarning, minimize
from ._train import TrainResult, load_data, load_model, lr_find, train

__version__ = _core.version


_ESTIMATORS = ("LinearRegression", "LogisticRegression", "MLPClassifier", "MLPRegressor")


def __getattr__(name):  # the estimators import scikit-learn: only when first used
    if name in _ESTIMATORS:
        from . import _estimators
        return getattr(_estimators, name)
    raise AttributeError(f"module 'descent' has no attribute {name!r}")


def methods():
    """descent's own method names, all accepted by minimize(method=...)."""
    return list(_core.methods())


__all__ = ["minimize", "train", "lr_find", "load_model", "load_data", "TrainResult", "LinearRegression", "LogisticRegression",
           "MLPClassifier", "MLPRegressor", "optim", "problems", "methods", "OptimizeResult", "SlowGradientWarning", "SCIPY_METHODS", "__version__"]
