"""descent.basinhopping: scipy.optimize.basinhopping's signature on descent's
basin hopping (C++), with descent.minimize as the local solver."""

import numpy as np

from . import _core
from ._minimize import _bounds_arrays, _result_type, minimize


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
    if seed is None:
        seed = int(np.random.default_rng().integers(2**63))
    elif isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**63))
    totals = {"nfev": 0, "njev": 0}
    lowest = {}

    def local(x):
        r = minimize(func, x, **kwargs)
        totals["nfev"] += int(r.nfev)
        totals["njev"] += int(r.njev)
        if "result" not in lowest or r.fun < lowest["result"].fun:
            lowest["result"] = r
        return (np.asarray(r.x, dtype=np.float64), float(r.fun), int(r.nit), int(r.njev), bool(r.success),
                str(r.message))

    out = _core.basin_hopping(local, x0, domain, int(niter), float(T), float(stepsize), int(interval),
                              float(target_accept_rate), float(stepwise_factor), int(seed))
    message = ["requested number of basinhopping iterations completed successfully"]
    result = _result_type()(
        x=out["x"], fun=out["fun"], nit=int(niter), nfev=totals["nfev"], njev=totals["njev"], message=message,
        success=bool(out["found"]), lowest_optimization_result=lowest.get("result"),
        minima=[_result_type()(x=m["x"], fun=m["fun"], count=m["count"]) for m in out["minima"]],
        accepted=out["accepted"], final_stepsize=out["final_step"], descent_message=out["message"])
    if disp:
        print(f"basinhopping: f = {result.fun:.10g} after {niter} hops ({out['accepted']} accepted), "
              f"{len(result.minima)} distinct minima")
    return result
