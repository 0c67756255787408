"""descent.minimize: scipy.optimize.minimize's signature on descent's solvers."""

import inspect
import math
import sys
import warnings

import numpy as np

from . import _core

# scipy's method names (lower case) and the descent solver each runs.
SCIPY_METHODS = {
    "l-bfgs-b": "lbfgsb",
    "bfgs": "bfgs",
    "cg": "cg-pr",
    "newton-cg": "newton-cg",
    "trust-ncg": "trust-region",
    "trust-krylov": "trust-region",
    "trust-exact": "trust-region",
    "dogleg": "dogleg",
}

# scipy methods descent does not offer, and what to use instead.
_CONSTRAINED = "it takes general constraints; descent takes simple bounds (method='L-BFGS-B')"
_REFUSED = {
    "nelder-mead": "it is derivative-free; descent's methods use gradients (pass jac, or let descent "
                   "difference fun)",
    "powell": "it is derivative-free; descent's methods use gradients",
    "cobyla": _CONSTRAINED,
    "slsqp": _CONSTRAINED,
    "trust-constr": _CONSTRAINED,
    "tnc": "use method='L-BFGS-B' for the same bound-constrained problems",
}

# The options each kind of method honours (scipy's keys).
_COMMON_OPTIONS = {"maxiter", "gtol", "disp", "return_all", "eps", "finite_diff_rel_step"}
_LBFGSB_OPTIONS = _COMMON_OPTIONS | {"maxcor", "ftol", "maxfun"}
# trust_scaling is descent's: "none", "diagonal" or "when-stalled" (the default).
# escape_saddles (True by default): at a point that passes the gradient test,
# step along negative curvature instead of stopping (docs/solvers.md).
_TRUST_OPTIONS = _COMMON_OPTIONS | {"initial_trust_radius", "trust_scaling", "escape_saddles"}
_NEWTON_OPTIONS = _COMMON_OPTIONS | {"escape_saddles"}


class OptimizeResult(dict):
    """The result of minimize: a dict whose keys are also attributes
    (minimize returns scipy.optimize.OptimizeResult instead where the
    caller has imported scipy.optimize)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(name) from e

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __repr__(self):
        if not self:
            return self.__class__.__name__ + "()"
        width = max(map(len, self.keys())) + 1
        return "\n".join(f"{k.rjust(width)}: {v!r}" for k, v in self.items())

    def __dir__(self):
        return list(self.keys())


def _result_type():
    # scipy's type where the caller has scipy.optimize loaded (the drop-in
    # case); importing it here would cost a first call some 200 ms.
    return getattr(sys.modules.get("scipy.optimize"), "OptimizeResult", OptimizeResult)


class SlowGradientWarning(UserWarning):
    """minimize was given no jac and differences fun: n + 1 calls per gradient."""


def _solver_name(method, has_bounds):
    if method is None:
        return ("lbfgsb", True) if has_bounds else ("lbfgs", False)
    if callable(method):
        raise ValueError("descent.minimize does not take a custom method callable; "
                         "pass one of descent.methods()")
    key = str(method).lower()
    if key in SCIPY_METHODS:
        return SCIPY_METHODS[key], True
    if key in _REFUSED:
        raise ValueError(f"method '{method}' is not available in descent: {_REFUSED[key]}")
    if key in _core.methods():
        return key, False
    raise ValueError(f"unknown method '{method}'; scipy's names descent takes: "
                     f"{', '.join(sorted(SCIPY_METHODS))}; descent's: {', '.join(_core.methods())}")


def _bounds_arrays(bounds, n):
    """(lower, upper) as float64 arrays of length n, inf where open."""
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):  # scipy.optimize.Bounds
        lo = np.broadcast_to(np.asarray(bounds.lb, dtype=float), (n,))
        hi = np.broadcast_to(np.asarray(bounds.ub, dtype=float), (n,))
        return np.ascontiguousarray(lo), np.ascontiguousarray(hi)
    pairs = list(bounds)
    if len(pairs) != n:
        raise ValueError(f"bounds has {len(pairs)} pairs for x0 of length {n}")
    try:  # the common case in one pass: pairs of numbers or None
        a = np.array([(-math.inf if p[0] is None else p[0], math.inf if p[1] is None else p[1]) for p in pairs],
                     dtype=float)
        if a.shape == (n, 2):
            return np.ascontiguousarray(a[:, 0]), np.ascontiguousarray(a[:, 1])
    except (TypeError, ValueError, IndexError):
        pass  # the loop below says which pair is wrong
    lo = np.empty(n)
    hi = np.empty(n)
    for i, pair in enumerate(pairs):
        try:
            a, b = pair
        except (TypeError, ValueError):
            raise ValueError(f"bounds[{i}] must be a pair (lower, upper); got {pair!r}") from None
        lo[i] = -math.inf if a is None else float(a)
        hi[i] = math.inf if b is None else float(b)
    return lo, hi


def _status_code(name):
    if name.startswith("converged") or name == "stopped_by_callback":
        return 0
    if name in ("max_iterations", "max_evaluations", "time_limit"):
        return 1
    return 2


def minimize(fun, x0, args=(), method=None, jac=None, hess=None, hessp=None, bounds=None,
             constraints=(), tol=None, callback=None, options=None):
    """Minimizes fun(x, *args) from x0, as scipy.optimize.minimize does.

    method: a scipy name ('L-BFGS-B', 'BFGS', 'CG', 'Newton-CG', 'trust-ncg',
    'trust-krylov', 'trust-exact', 'dogleg') or any of descent.methods()
    ('lbfgs', 'cg-hz', 'spg', ...). Default: 'L-BFGS-B' with bounds,
    descent's 'lbfgs' without.
    jac: True (fun returns (f, g)), a callable jac(x, *args), or None
    (forward differences, with a SlowGradientWarning).
    bounds: a scipy.optimize.Bounds or a sequence of (lower, upper) pairs,
    None for an open side; only for the methods that take bounds.
    fun may also be a descent.problems Problem (a C++ objective): then x0
    may be None (its standard start), its own bounds apply, and the solve
    runs without calling into Python.
    options: scipy's keys: maxiter, gtol, disp, return_all, eps,
    finite_diff_rel_step, for L-BFGS-B maxcor, ftol, maxfun, and for the
    trust-region methods initial_trust_radius and descent's trust_scaling
    ("none", "diagonal" or "when-stalled"); for newton, trust-region and
    dogleg descent's escape_saddles (True: at a saddle point, step along
    negative curvature instead of stopping; False: stop there). Others are
    refused by name.

    Returns an OptimizeResult (scipy's where scipy.optimize is imported) with x, fun,
    jac, nit, nfev, njev, nhev, status, success and message, plus
    descent_status (descent's name for why it stopped) and, for bounded
    methods, active_lower / active_upper.
    """
    if constraints:
        raise ValueError("descent.minimize takes simple bounds only (bounds=...), not general constraints")
    problem = fun if isinstance(fun, _core.problems.Problem) else None
    if problem is not None:
        if x0 is None:
            x0 = problem.start()
        if jac not in (None, True) or hess is not None or hessp is not None or args != ():
            raise ValueError("a descent.problems Problem brings its own gradient and Hessian; "
                             "pass no jac, hess, hessp or args with it")
        if bounds is None and problem.bounds is not None:
            bounds = list(zip(*problem.bounds))
    x0 = np.asarray(x0)
    if problem is not None:
        x0 = x0.astype(np.float64)
    if x0.ndim > 1:
        raise ValueError(f"x0 must have one dimension; got shape {x0.shape}")
    dtype = np.float32 if x0.dtype == np.float32 else np.float64
    x0 = np.ascontiguousarray(np.atleast_1d(x0), dtype=dtype)
    n = x0.size
    if not isinstance(args, tuple):
        args = (args,)

    solver, scipy_named = _solver_name(method, bounds is not None)
    if bounds is not None and not _core.accepts_bounds(solver):
        raise ValueError(f"method '{method}' does not take bounds; the methods that do: "
                         "'L-BFGS-B' (lbfgsb), 'projected-gd', 'spg'")
    lohi = _bounds_arrays(bounds, n) if bounds is not None else None

    options = dict(options or {})
    allowed = {"lbfgsb": _LBFGSB_OPTIONS, "trust-region": _TRUST_OPTIONS, "dogleg": _TRUST_OPTIONS,
               "newton": _NEWTON_OPTIONS}.get(
        solver, _COMMON_OPTIONS)
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(f"option(s) {', '.join(map(repr, unknown))} not honoured by method "
                         f"'{method or solver}'; it takes {', '.join(sorted(allowed))}")

    if tol is not None:
        options.setdefault("gtol", tol)
        if solver == "lbfgsb":
            options.setdefault("ftol", tol)
    if scipy_named:  # scipy's defaults for its names
        options.setdefault("gtol", 1e-5)
        if solver == "lbfgsb":
            options.setdefault("ftol", 2.220446049250313e-09)
            options.setdefault("maxiter", 15000)
            options.setdefault("maxfun", 15000)
        else:
            options.setdefault("maxiter", 200 * n)

    if problem is not None:
        mode, jac_fn = None, None
    elif jac is True:
        mode, jac_fn = _core.JacMode.with_value, None
    elif callable(jac):
        mode, jac_fn = _core.JacMode.separate, jac
    elif jac in (None, False, "2-point"):
        mode, jac_fn = _core.JacMode.differences, None
        if jac is None:
            warnings.warn("descent.minimize: no jac given, so the gradient is formed by forward differences "
                          f"({n + 1} calls of fun per gradient); pass jac=True or jac=callable",
                          SlowGradientWarning, stacklevel=2)
    else:
        raise ValueError(f"jac must be True, a callable or None; got {jac!r} "
                         "('3-point' and 'cs' are not offered)")
    if hess is not None and not callable(hess):
        raise ValueError("hess must be a callable hess(x, *args) returning an n x n array")
    if hessp is not None and not callable(hessp):
        raise ValueError("hessp must be a callable hessp(x, p, *args)")

    if "eps" in options:
        fd_step, fd_relative = float(options["eps"]), False
    elif "finite_diff_rel_step" in options and options["finite_diff_rel_step"] is not None:
        fd_step, fd_relative = float(options["finite_diff_rel_step"]), True
    else:
        fd_step, fd_relative = 0.0, True

    allvecs = [x0.copy()] if options.get("return_all") else None
    step = None
    if callback is not None or allvecs is not None:
        wants_result = callback is not None and _takes_intermediate_result(callback)
        result_type = _result_type()

        def step(x, f):
            if allvecs is not None:
                allvecs.append(x.copy())
            if callback is None:
                return None
            if wants_result:
                return callback(intermediate_result=result_type(x=x, fun=f))
            return callback(x)

    limits = (_int_or_none(options.get("maxiter")), _float_or_none(options.get("gtol")),
              _float_or_none(options.get("ftol")), _int_or_none(options.get("maxcor")),
              _int_or_none(options.get("maxfun")), _float_or_none(options.get("initial_trust_radius")),
              options.get("trust_scaling"), bool(options.get("escape_saddles", True)))
    if problem is not None:  # all in C++: no call into Python per evaluation
        out = _core.minimize_problem(problem, x0, solver, lohi, *limits, step)
    else:
        run = _core.minimize_f32 if dtype == np.float32 else _core.minimize_f64
        out = run(fun, jac_fn, hess, hessp, args, mode, x0, solver, lohi, *limits, fd_step, fd_relative, step)

    result = _result_type()(
        x=out["x"], fun=out["fun"], jac=out["jac"], nit=out["nit"], nfev=out["nfev"], njev=out["njev"],
        nhev=out["nhev"], status=_status_code(out["status_name"]), success=bool(out["success"]),
        message=out["message"], descent_status=out["status_name"], method=out["method"])
    if lohi is not None:
        result["active_lower"] = np.asarray(out["active_lower"], dtype=np.intp)
        result["active_upper"] = np.asarray(out["active_upper"], dtype=np.intp)
    if allvecs is not None:
        result["allvecs"] = allvecs
    if options.get("disp"):
        print(f"descent {out['method']}: {out['message']}; f = {out['fun']:.10g}, {out['nit']} iterations, "
              f"{out['nfev']} evaluations")
    return result


def _takes_intermediate_result(callback):
    try:
        return "intermediate_result" in inspect.signature(callback).parameters
    except (TypeError, ValueError):
        return False


def _int_or_none(v):
    return None if v is None else int(v)


def _float_or_none(v):
    return None if v is None else float(v)
