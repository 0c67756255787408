"""descent.basinhopping (scipy.optimize.basinhopping's call) and
descent.multistart: global minima with fixed seeds, reproducibility, bounds,
errors."""

import numpy as np
import pytest

import descent


def camel(x):
    a, b = x
    f = (4 - 2.1 * a * a + a**4 / 3) * a * a + a * b + (4 * b * b - 4) * b * b
    g = np.array([8 * a - 8.4 * a**3 + 2 * a**5 + b, a - 8 * b + 16 * b**3])
    return f, g


def test_finds_the_six_hump_camels_global_minimum_with_a_python_function():
    r = descent.basinhopping(camel, [1.5, 1.5], niter=50, seed=1, minimizer_kwargs={"jac": True})
    assert r.fun == pytest.approx(-1.0316284534898774, abs=1e-9)
    assert r.nit == 50 and r.nfev > 50 and r.success
    assert r.lowest_optimization_result.fun == pytest.approx(r.fun)
    values = [m.fun for m in r.minima]
    assert values == sorted(values) and sum(m.count for m in r.minima) <= 51
    again = descent.basinhopping(camel, [1.5, 1.5], niter=50, seed=1, minimizer_kwargs={"jac": True})
    np.testing.assert_array_equal(again.x, r.x)
    assert again.accepted == r.accepted


def test_a_cpp_problem_with_its_domain_as_bounds():
    p = descent.problems.make("holder_table")
    lo, hi = p.domain
    r = descent.basinhopping(p, p.start(), niter=200, stepsize=2.0, seed=1,
                             minimizer_kwargs={"method": "L-BFGS-B", "bounds": list(zip(lo, hi))})
    assert r.fun == pytest.approx(p.known_minimum, rel=1e-6)
    assert np.all(r.x >= lo) and np.all(r.x <= hi)
    assert r.final_stepsize > 0


def test_refuses_what_it_does_not_offer_and_raises_the_functions_errors():
    with pytest.raises(ValueError, match="take_step"):
        descent.basinhopping(camel, [0, 0], take_step=lambda x: x)
    with pytest.raises(ValueError, match="niter"):
        descent.basinhopping(camel, [0, 0], niter=-1)
    with pytest.raises(ValueError, match="temperature"):
        descent.basinhopping(camel, [0, 0], T=0, minimizer_kwargs={"jac": True})
    calls = []

    def broken(x):
        calls.append(1)
        if len(calls) > 30:
            raise ZeroDivisionError("inside the objective")
        return camel(x)

    with pytest.raises(ZeroDivisionError, match="inside the objective"):
        descent.basinhopping(broken, [1.5, 1.5], niter=50, seed=2, minimizer_kwargs={"jac": True})


def test_multistart_lists_the_minima_and_finds_the_global_one():
    r = descent.multistart(camel, [1.5, 1.5], starts=30, bounds=[(-3, 3), (-2, 2)], seed=4,
                           minimizer_kwargs={"jac": True, "method": "L-BFGS-B"})
    assert r.fun == pytest.approx(-1.0316284534898774, abs=1e-9)
    assert sum(m.count for m in r.minima) + r.failed + r.outside_domain == 30
    assert [m.fun for m in r.minima] == sorted(m.fun for m in r.minima)
    assert sum(1 for m in r.minima if m.fun < -1.03) == 2  # the two global minimizers, kept apart
    again = descent.multistart(camel, [1.5, 1.5], starts=30, bounds=[(-3, 3), (-2, 2)], seed=4,
                               minimizer_kwargs={"jac": True, "method": "L-BFGS-B"})
    np.testing.assert_array_equal(again.x, r.x)
    # A C++ problem brings its domain to sample from.
    p = descent.problems.make("shubert")
    r = descent.multistart(p, p.start(), starts=60, seed=1)
    assert r.fun == pytest.approx(p.known_minimum, rel=1e-6)
    with pytest.raises(ValueError, match="starts"):
        descent.multistart(camel, [0, 0], starts=0)
