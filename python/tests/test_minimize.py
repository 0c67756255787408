"""descent.minimize against scipy's stored answers, and its behaviour at the edges."""

import json
import pathlib
import signal
import sys
import warnings

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import problems  # noqa: E402

import descent  # noqa: E402

REFERENCE = json.loads((pathlib.Path(__file__).parent / "data" / "scipy_reference.json").read_text())["cases"]


def solve(name, method, **kw):
    fun, jac, hess, hessp, x0, bounds = problems.PROBLEMS[name]
    if method in ("Newton-CG", "trust-ncg", "trust-krylov"):
        kw.setdefault("hessp", hessp)
    return descent.minimize(fun, x0, jac=jac, method=method, bounds=bounds, **kw)


@pytest.mark.parametrize("name,method", list(problems.cases()))
def test_same_minimum_as_scipy(name, method):
    ref = REFERENCE[f"{name}/{method}"]
    r = solve(name, method)
    assert r.success, r.message
    # The same minimum: f no higher than scipy's beyond 1e-8 relative (or
    # below the tolerance both stop at), and the same point.
    assert r.fun <= ref["fun"] + 1e-8 * max(1.0, abs(ref["fun"])) + 1e-9
    np.testing.assert_allclose(r.x, ref["x"], atol=1e-3)
    assert r.jac.shape == r.x.shape
    assert r.nfev >= 1 and r.nit >= 1


def test_lbfgsb_needs_no_more_evaluations_than_scipy_here():
    for name, method in problems.cases():
        if method == "L-BFGS-B":
            assert solve(name, method).nfev <= REFERENCE[f"{name}/{method}"]["nfev"], name


def test_box_answer_is_the_clipped_centre():
    r = solve("quadratic_box", "L-BFGS-B")
    np.testing.assert_allclose(r.x, np.clip(problems.C, 0, 1), atol=1e-10)
    assert list(r.active_lower) == [0]
    assert list(r.active_upper) == [3, 4]


def test_bounds_object_with_lb_ub_and_none_sides():
    class Bounds:  # what scipy.optimize.Bounds offers
        lb = np.zeros(6)
        ub = np.ones(6)

    r = descent.minimize(problems.quad_fun, np.full(6, 0.5), jac=problems.quad_grad, bounds=Bounds())
    np.testing.assert_allclose(r.x, np.clip(problems.C, 0, 1), atol=1e-10)
    r = descent.minimize(problems.quad_fun, np.full(6, 0.5), jac=problems.quad_grad, bounds=[(0, None)] * 6)
    np.testing.assert_allclose(r.x, np.maximum(problems.C, 0), atol=1e-8)


def test_start_outside_the_box_is_projected():
    r = descent.minimize(problems.quad_fun, np.full(6, 5.0), jac=problems.quad_grad, bounds=[(0, 1)] * 6)
    assert np.all((r.x >= 0) & (r.x <= 1))


def test_jac_true_and_args():
    def fun(x, c):
        return float(np.sum((x - c) ** 2)), 2 * (x - c)

    r = descent.minimize(fun, np.zeros(4), args=(np.arange(4.0),), jac=True, method="BFGS")
    np.testing.assert_allclose(r.x, np.arange(4.0), atol=1e-6)
    assert r.njev == r.nfev


def test_finite_differences_warn_and_converge():
    with pytest.warns(descent.SlowGradientWarning):
        r = descent.minimize(problems.rosen, problems.ROSEN_X0, method="L-BFGS-B")
    assert r.success and r.fun < 1e-8
    assert r.nfev > 5 * r.nit  # n + 1 calls per gradient


def test_descent_method_names_work():
    for method in ["lbfgs", "cg-hz", "bfgs", "trust-region", "gd-bb"]:
        r = descent.minimize(problems.logsumexp_fun, problems.LOGSUMEXP_X0, jac=problems.logsumexp_grad,
                             method=method, options={"maxiter": 5000})
        assert r.success, (method, r.message)
        np.testing.assert_allclose(r.x, problems.LOGSUMEXP_XOPT, atol=1e-4)
        assert r.method == method


def test_float32_in_float32_out():
    r = descent.minimize(problems.logsumexp_fun, np.zeros(3, dtype=np.float32), jac=problems.logsumexp_grad,
                         options={"gtol": 1e-4})
    assert r.x.dtype == np.float32
    np.testing.assert_allclose(r.x, problems.LOGSUMEXP_XOPT, atol=1e-3)


def test_options_are_honoured():
    r = solve("rosen", "L-BFGS-B", options={"maxiter": 3})
    assert r.nit == 3 and not r.success and r.status == 1
    r = solve("rosen", "L-BFGS-B", options={"maxcor": 3, "ftol": 0, "gtol": 1e-9})
    assert r.success and np.max(np.abs(r.jac)) <= 1e-9
    r = solve("rosen", "BFGS", tol=1e-10)
    assert np.linalg.norm(r.jac) <= 1e-10


def test_return_all_and_disp(capsys):
    r = solve("rosen", "L-BFGS-B", options={"return_all": True, "disp": True})
    assert len(r.allvecs) == r.nit + 1
    np.testing.assert_array_equal(r.allvecs[0], problems.ROSEN_X0)
    assert "descent lbfgsb" in capsys.readouterr().out


def test_callback_sees_each_iterate_and_can_stop():
    seen = []
    r = solve("rosen", "BFGS", callback=lambda xk: seen.append(xk.copy()))
    assert len(seen) == r.nit
    np.testing.assert_allclose(seen[-1], r.x)

    def stop_at_5(xk):
        seen.append(1)
        if len(seen) == 5:
            raise StopIteration

    seen.clear()
    r = solve("rosen", "L-BFGS-B", callback=stop_at_5)
    assert r.nit == 5 and r.descent_status == "stopped_by_callback"

    def new_style(intermediate_result):
        assert intermediate_result.fun == problems.rosen(intermediate_result.x)
        return True

    r = solve("rosen", "L-BFGS-B", callback=new_style)
    assert r.nit == 1


def test_an_exception_in_fun_reaches_the_caller_with_its_traceback():
    def fun(x):
        if x[0] < 1.25:
            raise ZeroDivisionError("inside the objective")
        return problems.rosen(x), problems.rosen_der(x)

    with pytest.raises(ZeroDivisionError, match="inside the objective") as info:
        descent.minimize(fun, problems.ROSEN_X0, jac=True)
    assert info.traceback[-1].name == "fun"


def test_bad_returns_are_python_errors():
    with pytest.raises(ValueError, match="returned an array of 2 values for x of length 5"):
        descent.minimize(lambda x: (1.0, np.zeros(2)), problems.ROSEN_X0, jac=True)
    with pytest.raises(TypeError, match=r"must return \(f, gradient\)"):
        descent.minimize(lambda x: 1.0, problems.ROSEN_X0, jac=True)
    with pytest.raises(TypeError, match="real number"):
        descent.minimize(lambda x: "one", problems.ROSEN_X0, jac=problems.rosen_der)


def test_ctrl_c_returns_the_last_accepted_point():
    calls = [0]

    def fun(x):
        calls[0] += 1
        if calls[0] == 15:
            signal.raise_signal(signal.SIGINT)
        return problems.rosen(x), problems.rosen_der(x)

    for method in ["L-BFGS-B", "BFGS", "CG", "trust-region"]:
        calls[0] = 0
        r = descent.minimize(fun, problems.ROSEN_X0, jac=True, method=method)
        assert r.descent_status == "interrupted" and not r.success, method
        assert "KeyboardInterrupt" in r.message
        assert np.isfinite(r.fun) and r.fun < problems.rosen(problems.ROSEN_X0)
        assert r.fun == pytest.approx(problems.rosen(r.x))
        assert calls[0] == 15  # no call into Python after the interrupt


def test_refusals_name_what_to_use():
    x0 = problems.ROSEN_X0
    with pytest.raises(ValueError, match="does not take bounds.*L-BFGS-B"):
        descent.minimize(problems.rosen, x0, jac=problems.rosen_der, method="BFGS", bounds=[(0, 1)] * 5)
    with pytest.raises(ValueError, match="derivative-free"):
        descent.minimize(problems.rosen, x0, method="Nelder-Mead")
    with pytest.raises(ValueError, match="'maxls'.*not honoured"):
        descent.minimize(problems.rosen, x0, jac=problems.rosen_der, method="L-BFGS-B", options={"maxls": 5})
    with pytest.raises(ValueError, match="unknown method 'sgd-ish'"):
        descent.minimize(problems.rosen, x0, jac=problems.rosen_der, method="sgd-ish")
    with pytest.raises(ValueError, match="one dimension"):
        descent.minimize(problems.rosen, np.zeros((2, 2)), jac=problems.rosen_der)
    with pytest.raises(ValueError, match="bounds has 2 pairs for x0 of length 5"):
        descent.minimize(problems.rosen, x0, jac=problems.rosen_der, bounds=[(0, 1)] * 2)
    with pytest.raises(ValueError, match="general constraints"):
        descent.minimize(problems.rosen, x0, jac=problems.rosen_der, constraints=[{"type": "eq"}])
    with pytest.raises(ValueError, match="empty|lower|bound"):
        descent.minimize(problems.rosen, x0, jac=problems.rosen_der, bounds=[(1, 0)] * 5)


def test_the_result_is_a_dict_with_attributes():
    r = solve("logsumexp", "BFGS")
    assert r["fun"] == r.fun and set(["x", "fun", "jac", "nit", "nfev", "njev", "nhev", "status", "success",
                                      "message"]) <= set(r.keys())


def test_no_warning_with_a_gradient():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        solve("logsumexp", "L-BFGS-B")


def test_escape_saddles_leaves_a_saddle_point_and_can_be_turned_off():
    # x^2 - y^2 + y^4/4 from its saddle at the origin: minima at y = +-sqrt(2), f = -1.
    def fun(v):
        x, y = v
        return x * x - y * y + y ** 4 / 4, np.array([2 * x, -2 * y + y ** 3])

    def hess(v):
        return np.array([[2.0, 0.0], [0.0, -2.0 + 3 * v[1] ** 2]])

    for method in ["newton", "trust-region", "dogleg"]:
        r = descent.minimize(fun, np.zeros(2), jac=True, hess=hess, method=method)
        assert r.fun == pytest.approx(-1.0, abs=1e-8), (method, r.message)
        assert "saddle" in r.message
        stay = descent.minimize(fun, np.zeros(2), jac=True, hess=hess, method=method,
                                options={"escape_saddles": False})
        assert stay.fun == 0.0, (method, stay.message)
    with pytest.raises(ValueError, match="escape_saddles"):
        descent.minimize(fun, np.zeros(2), jac=True, method="lbfgs", options={"escape_saddles": True})
