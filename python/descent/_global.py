"""descent.basinhopping (scipy.optimize.basinhopping's signature) and
descent.multistart: descent's global searches (C++), with descent.minimize as
the local solver."""

import numpy as np

from . import _core
from ._minimize import _bounds_arrays, _result_type, minimize


def _seed_of(seed):
    """An integer seed: drawn at random for None (as scipy does)."""
    if seed is None:
        return int(np.random.default_rng().integers(2**63))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    return int(seed)


class _LocalSolver:
    """descent.minimize(func, x, **kwargs) for the C++ search, counting
    evaluations and keeping the lowest result."""

    def __init__(self, func, kwargs):
        self.func, self.kwargs = func, kwargs
        self.nfev = self.njev = 0
        self.lowest = None

    def __call__(self, x):
        r = minimize(self.func, x, **self.kwargs)
        self.nfev += int(r.nfev)
        self.njev += int(r.njev)
        if self.lowest is None or r.fun < self.lowest.fun:
            self.lowest = r
        return (np.asarray(r.x, dtype=np.float64), float(r.fun), int(r.nit), int(r.njev), bool(r.success),
                str(r.message))

    def result(self, out, **fields):
        t = _result_type()
        return t(x=out["x"], fun=out["fun"], nfev=self.nfev, njev=self.njev, success=bool(out["found"]),
                 lowest_optimization_result=self.lowest,
                 minima=[t(x=m["x"], fun=m["fun"], count=m["count"]) for m in out["minima"]],
                 descent_message=out["message"], **fields)


def basinhopping(func, x0, niter=100, T=1.0, stepsize=0.5, minimizer_kwargs=None, take_step=None,
                 accept_test=None, callback=None, interval=50, disp=False, niter_success=None, seed=None, *,
                 target_accept_rate=0.5, stepwise_factor=0.9):
    """Find a global minimum of func by basin hopping (Wales and Doye 1997),
    as scipy.optimize.basinhopping does: from the current local minimum a
    displacement uniform in [-stepsize, stepsize] per coordinate, a local
    solve (descent.minimize(func, x, **minimizer_kwargs)), and the Metropolis
    test at temperature T; every `interval` hops the step grows by
    1 / stepwise_factor when more than target_accept_rate of them were
    accepted, and shrinks by stepwise_factor otherwise. With bounds in
    minimizer_kwargs the displacements stay inside them.

    Returns an OptimizeResult with x, fun, nit (hops), nfev, njev, message,
    success, lowest_optimization_result, and descent's own: minima (the
    distinct local minima found, lowest first, each with x, fun and count),
    accepted and final_stepsize.

    take_step, accept_test, callback and niter_success are not offered and
    raise ValueError when given. seed=None draws a random seed, as scipy does;
    an integer makes the run reproducible.
    """
    for name, value in (("take_step", take_step), ("accept_test", accept_test), ("callback", callback),
                        ("niter_success", niter_success)):
        if value is not None:
            raise ValueError(f"descent.basinhopping does not offer {name}; use scipy.optimize.basinhopping for it")
    if int(niter) != niter or niter < 0:
        raise ValueError(f"niter must be an integer >= 0; got {niter!r}")
    if int(interval) != interval or interval < 0:
        raise ValueError(f"interval must be an integer >= 0; got {interval!r}")
    kwargs = dict(minimizer_kwargs or {})
    x0 = np.array(x0, dtype=np.float64).reshape(-1)
    bounds = kwargs.get("bounds")
    domain = _bounds_arrays(bounds, x0.size) if bounds is not None else None
    seed = _seed_of(seed)
    local = _LocalSolver(func, kwargs)
    out = _core.basin_hopping(local, x0, domain, int(niter), float(T), float(stepsize), int(interval),
                              float(target_accept_rate), float(stepwise_factor), int(seed))
    message = ["requested number of basinhopping iterations completed successfully"]
    result = local.result(out, nit=int(niter), message=message, accepted=out["accepted"],
                          final_stepsize=out["final_step"])
    if disp:
        print(f"basinhopping: f = {result.fun:.10g} after {niter} hops ({out['accepted']} accepted), "
              f"{len(result.minima)} distinct minima")
    return result


def multistart(func, x0, starts=20, bounds=None, minimizer_kwargs=None, seed=None, perturbation=1.0,
               merge_tol=1e-4, disp=False):
    """A local method from many seeded starts: x0, then uniform in bounds
    (or in a descent.problems Problem's domain) when every side is finite,
    otherwise x0 + perturbation * max(1, |x0_i|) * N(0, 1) per coordinate.
    Each start is a descent.minimize(func, x, **minimizer_kwargs) (bounds
    passed on to it too). Returns an OptimizeResult with the lowest x and fun,
    nfev and njev over all starts, lowest_optimization_result, and minima:
    the distinct local minima, merged when their points agree to merge_tol
    relative, lowest first, each with x, fun and count. The starts run on
    the calling thread, since each calls into Python; `descent minimize
    --restarts` runs them in parallel for the C++ problems.
    """
    if int(starts) != starts or starts < 1:
        raise ValueError(f"starts must be an integer >= 1; got {starts!r}")
    kwargs = dict(minimizer_kwargs or {})
    x0 = np.array(x0, dtype=np.float64).reshape(-1)
    if bounds is not None:
        kwargs.setdefault("bounds", bounds)
        domain = _bounds_arrays(bounds, x0.size)
    elif getattr(func, "domain", None) is not None:
        domain = func.domain
    else:
        domain = None
    local = _LocalSolver(func, kwargs)
    out = _core.multistart(local, x0, domain, int(starts), float(perturbation), float(merge_tol), _seed_of(seed))
    result = local.result(out, nit=int(starts), message=out["message"], failed=out["failed"],
                          outside_domain=out["outside"])
    if disp:
        print(f"multistart: f = {result.fun:.10g} from {starts} starts, {len(result.minima)} distinct minima")
    return result
