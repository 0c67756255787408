"""descent.problems (the C++ test problems) from Python, and descent.minimize
on them: the same minima as scipy's L-BFGS-B (stored by make_reference.py)."""

import json
import pathlib
import _thread

import numpy as np
import pytest

import descent

REFERENCE = json.loads((pathlib.Path(__file__).with_name("data") / "scipy_reference.json").read_text())["mgh"]


@pytest.mark.parametrize("name", descent.problems.mgh_names())
def test_lbfgsb_on_the_cpp_problem_finds_scipys_minimum_or_a_lower_one(name):
    p = descent.problems.make(name)
    r = descent.minimize(p, None, method="L-BFGS-B")
    want = REFERENCE[name]["fun"]
    assert r.success
    # an absolute 1e-8 for the problems whose minimum is 0, where the last digits depend on
    # the build's floating-point contractions (extended Powell ends near 1e-9 or 1e-8)
    assert r.fun <= want + 1e-8 * abs(want) + 1e-8, (r.fun, want)
    assert r.njev == r.nfev and r.nhev == 0
    assert np.allclose(r.jac, p.jac(r.x))


def test_the_same_minima_with_the_same_evaluations_on_nearly_all_of_mgh():
    same = 0
    for name in descent.problems.mgh_names():
        r = descent.minimize(descent.problems.make(name), None, method="L-BFGS-B")
        want = REFERENCE[name]
        close = abs(r.fun - want["fun"]) <= 1e-8 * abs(want["fun"]) or max(abs(r.fun), abs(want["fun"])) < 1e-10
        same += close and r.nfev == want["nfev"]
    assert same >= 33


def test_a_bounded_problem_brings_its_bounds():
    p = descent.problems.make("hs3")
    lo, hi = p.bounds
    r = descent.minimize(p, None)
    assert r.method == "lbfgsb"
    assert np.all(r.x >= lo) and np.all(r.x <= hi)
    assert r.fun == pytest.approx(p.known_minimum, abs=1e-8)


def test_the_problem_serves_other_libraries_the_same_function():
    p = descent.problems.make("extended_rosenbrock", dim=6)
    x = p.start()
    f, g = p.fun_and_jac(x)
    assert f == p.fun(x) and np.array_equal(g, p.jac(x))
    assert np.allclose(p.hess(x) @ np.ones(6), p.hessp(x, np.ones(6)))
    h = 1e-7
    fd = np.array([(p.fun(x + h * e) - f) / h for e in np.eye(6)])
    assert np.allclose(fd, g, rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match="length 6"):
        p.fun(np.ones(5))


def test_catalog_and_wrong_arguments():
    catalog = descent.problems.catalog()
    assert {c["name"] for c in catalog} == set(descent.problems.names())
    assert sum(c["mgh"] for c in catalog) == 35
    with pytest.raises(ValueError):
        descent.problems.make("no_such_problem")
    p = descent.problems.make("rosenbrock")
    with pytest.raises(ValueError, match="own gradient"):
        descent.minimize(p, None, jac=lambda x: x)
    with pytest.raises(ValueError, match="x0 has 3 elements"):
        descent.minimize(p, np.ones(3))


def test_the_callback_and_ctrl_c_reach_a_cpp_solve():
    p = descent.problems.make("extended_rosenbrock", dim=1000)
    seen = []
    r = descent.minimize(p, None, method="lbfgs", callback=lambda x: seen.append(x.copy()) or len(seen) == 5)
    assert len(seen) == 5 and r.success and r.nit == 5
    # Ctrl-C during a long solve: the callback simulates it (interrupt_main), so that the
    # KeyboardInterrupt arrives either in the callback or in descent's C++ loop, which
    # looks for it every iteration: both end the solve with the last accepted point.
    big = descent.problems.make("extended_rosenbrock", dim=10_000)
    calls = []

    def ctrl_c_at_the_third(x):
        calls.append(1)
        if len(calls) == 3:
            _thread.interrupt_main()

    r = descent.minimize(big, None, method="lbfgs", callback=ctrl_c_at_the_third,
                         options={"maxiter": 100000, "gtol": 0.0})
    assert r.descent_status == "interrupted" and not r.success
    assert r.nit <= 4 and np.isfinite(r.fun)


def test_the_trust_region_scaling_reaches_meyers_minimum_where_the_ball_stalls():
    p = descent.problems.make("meyer")
    opts = {"gtol": 1e-10, "maxiter": 10000}
    ball = descent.minimize(p, None, method="trust-ncg", options={**opts, "trust_scaling": "none"})
    scaled = descent.minimize(p, None, method="trust-ncg", options=opts)  # "when-stalled", the default
    diagonal = descent.minimize(p, None, method="trust-region", options={**opts, "trust_scaling": "diagonal"})
    fstar = p.known_minimum
    assert ball.fun - fstar > 1e-6 * fstar
    assert scaled.fun - fstar <= 1e-6 * fstar
    assert diagonal.fun - fstar <= 1e-6 * fstar
    r = descent.minimize(p, None, method="dogleg", options={"initial_trust_radius": 10.0})
    assert np.isfinite(r.fun)
    with pytest.raises(ValueError, match="trust_scaling must be"):
        descent.minimize(p, None, method="trust-ncg", options={"trust_scaling": "sphere"})
    with pytest.raises(ValueError, match="initial_trust_radius must be"):
        descent.minimize(p, None, method="trust-ncg", options={"initial_trust_radius": -1.0})
    with pytest.raises(ValueError, match="not honoured"):
        descent.minimize(p, None, method="L-BFGS-B", options={"trust_scaling": "none"})


def test_the_multimodal_functions_come_with_their_domains():
    names = descent.problems.multimodal_names()
    assert len(names) == 11 and "rastrigin" in names
    p = descent.problems.make("rastrigin", dim=4)
    lo, hi = p.domain
    np.testing.assert_array_equal(lo, np.full(4, -5.12))
    np.testing.assert_array_equal(hi, np.full(4, 5.12))
    assert p.bounds is None and p.known_minimum == 0.0
    assert descent.problems.make("rosenbrock").domain is None
    assert {c["name"] for c in descent.problems.catalog() if c["multimodal"]} == set(names)
    # A local method stops in one of the many local minima from the start.
    r = descent.minimize(p, None, method="L-BFGS-B")
    assert r.fun > 0.5
