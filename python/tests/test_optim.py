"""descent.optim against torch.optim's trajectories and schedules.

The reference values are the C++ suite's, generated once from torch 1.13 by
tests/optim/make_reference.py and tests/optim/make_schedule_reference.py;
these tests read the stored files and never import torch.
"""

import json
import math
import pathlib
import pickle
import re
import types

import numpy as np
import pytest

import descent
import descent.optim as optim
from descent.optim import lr_scheduler

ROOT = pathlib.Path(__file__).resolve().parents[2]
STEPS = json.loads((ROOT / "tests/optim/reference_steps.json").read_text())
CASES = {c["name"]: c for c in STEPS["cases"]}


def split(x, dtype=np.float64):
    """The reference's 16 values as its two segments: w (3 x 4) and b (4)."""
    x = np.asarray(x, dtype=dtype)
    return [x[:12].reshape(3, 4).copy(), x[12:].copy()]


def worst_error(case, make, dtype=np.float64, params=None):
    """Largest error over the steps relative to how far x moved, as the C++ test measures."""
    params = params if params is not None else split(STEPS["x0"], dtype)
    opt = make(params)
    x0 = np.asarray(STEPS["x0"])
    worst = 0.0
    floor = 1e-3 if dtype == np.float32 else 1e-300
    for k, g in enumerate(STEPS["gradients"]):
        opt.step(split(g, dtype))
        for got, want in [(np.concatenate([p.reshape(-1) for p in params]), case["x"][k])] + (
                [(np.concatenate([p.reshape(-1) for p in opt.evaluation_point()]), case["eval"][k])]
                if "eval" in case else []):
            want = np.asarray(want)
            moved = np.abs(want - x0).max()
            worst = max(worst, np.abs(got.astype(np.float64) - want).max() / max(moved, floor))
    return worst


def by_descent_name(case):
    return lambda params: optim.Stepper(params, case["method"], lr=case["lr"], **case["options"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_stepper_matches_the_reference_trajectory_in_float64(name):
    case = CASES[name]
    assert worst_error(case, by_descent_name(case)) <= 1e-6, case["source"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_stepper_matches_the_reference_trajectory_in_float32(name):
    case = CASES[name]
    assert worst_error(case, by_descent_name(case), np.float32) <= 2e-3, case["source"]


def test_every_descent_stepper_is_covered_by_the_reference():
    assert {c["method"] for c in CASES.values()} == set(optim.stepper_names())


# --- torch's own class names and arguments ------------------------------------

TORCH_CASES = [n for n, c in CASES.items() if c["source"].startswith("torch.optim.") and "inside" not in c["source"]]


def torch_named(case):
    """The case's torch.optim call, run on descent.optim: "torch.optim.SGD(momentum=0.9)"
    becomes descent.optim.SGD(params, lr=..., momentum=0.9)."""
    call = re.sub(r"^torch\.optim\.(\w+)\(", r"optim.\1(params, lr=LR, ", case["source"])
    return lambda params: eval(call, {"optim": optim, "params": params, "LR": case["lr"]})


def test_the_torch_named_cases_are_all_here():
    assert len(TORCH_CASES) >= 20


@pytest.mark.parametrize("name", TORCH_CASES)
def test_torch_named_classes_take_torch_arguments_and_match_torch(name):
    case = CASES[name]
    assert worst_error(case, torch_named(case)) <= 1e-6, case["source"]


@pytest.mark.parametrize("cls, method, kwargs", [
    (optim.Lion, "lion", dict(lr=0.001, betas=(0.9, 0.99), weight_decay=0.1)),
    (optim.Muon, "muon", dict(lr=0.02)),
    (optim.Prodigy, "prodigy", dict(d0=0.01, beta3=-1.0, growth_rate=1e300)),
    (optim.ScheduleFreeAdamW, "schedule-free-adamw", dict(lr=0.01, weight_decay=0.01)),
])
def test_descent_only_classes_match_their_reference(cls, method, kwargs):
    name = {"lion": "lion_weight_decay", "muon": "muon", "prodigy": "prodigy_d0",
            "schedule-free-adamw": "schedule_free_adamw_weight_decay"}[method]
    assert worst_error(CASES[name], lambda p: cls(p, **kwargs)) <= 1e-6
    assert cls(split(STEPS["x0"]), **kwargs).method == method


def test_one_buffer_is_stepped_in_place_and_matches_separate_arrays_bit_for_bit():
    case = CASES["adamw_weight_decay"]
    buffer, flat_params = optim.flat_buffer([(3, 4), (4,)], np.float64)
    buffer[:] = STEPS["x0"]
    separate = split(STEPS["x0"])
    a = by_descent_name(case)(flat_params)
    b = by_descent_name(case)(separate)
    for g in STEPS["gradients"]:
        a.step(split(g))
        b.step(split(g))
    assert np.array_equal(buffer, np.concatenate([separate[0].reshape(-1), separate[1]]))
    assert flat_params[0].base is buffer or flat_params[0].base is buffer.base


def test_a_single_array_takes_a_single_gradient():
    x = np.array([1.0, -2.0])
    opt = optim.SGD(x, lr=0.5)
    opt.step(2 * x)
    assert np.allclose(x, [0.0, 0.0])


# --- parameter groups -----------------------------------------------------------

def test_each_group_steps_with_its_own_lr_and_weight_decay():
    w, b = np.ones(3), np.ones(2)
    opt = optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5, "weight_decay": 0.0}], lr=0.1, weight_decay=1.0)
    opt.step([np.zeros(3), np.zeros(2)])
    assert np.allclose(w, 0.9)          # only the decay of group 0: 1 - 0.1 * 1
    assert np.allclose(b, 1.0)
    opt.step([np.ones(3), np.ones(2)])
    assert np.allclose(b, 0.5)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]


def test_changing_a_groups_lr_takes_effect_at_the_next_step():
    x = np.zeros(2)
    opt = optim.SGD([x], lr=1.0)
    opt.param_groups[0]["lr"] = 0.25
    opt.step(np.ones(2))
    assert np.allclose(x, -0.25)


def test_changing_weight_decay_keeps_the_moments():
    x = np.ones(4)
    opt = optim.AdamW([x], lr=0.1, weight_decay=0.0)
    opt.step(np.ones(4))
    before = opt.state_dict()["state"][0]
    opt.param_groups[0]["weight_decay"] = 0.5
    opt.step(np.ones(4))
    after = opt.state_dict()["state"][0]
    assert after["step"] == 2
    assert np.allclose(after["exp_avg"], 0.9 * before["exp_avg"] + 0.1)
    # with the moments kept the update is lr * m_hat / sqrt(v_hat) = 0.1 for a constant gradient
    assert np.allclose(x, (0.9 * (1 - 0.1 * 0.5)) - 0.1)


def test_a_change_that_switches_method_is_refused():
    x = np.ones(2)
    opt = optim.SGD([x], lr=0.1)
    opt.param_groups[0]["momentum"] = 0.9
    with pytest.raises(ValueError, match="sgd into momentum"):
        opt.step(np.ones(2))


# --- saving ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["adam", "rmsprop_centered_momentum", "schedule_free_adamw", "prodigy",
                                  "lookahead_adam", "muon", "adafactor_beta1"])
def test_state_dict_resumes_bit_for_bit(name):
    case = CASES[name]
    grads = [split(g) for g in STEPS["gradients"]]
    whole = split(STEPS["x0"])
    a = by_descent_name(case)(whole)
    for g in grads:
        a.step(g)
    half = split(STEPS["x0"])
    b = by_descent_name(case)(half)
    for g in grads[:4]:
        b.step(g)
    saved = pickle.loads(pickle.dumps(b.state_dict()))
    resumed = [p.copy() for p in half]
    c = by_descent_name(case)(resumed)
    c.load_state_dict(saved)
    for g in grads[4:]:
        c.step(g)
    for x, y in zip(whole, resumed):
        assert np.array_equal(x, y)


def test_loading_another_methods_state_is_refused_and_changes_nothing():
    x = np.ones(3)
    adam = optim.Adam([x], lr=0.1)
    adam.step(np.ones(3))
    sgd = optim.SGD([np.ones(3)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="state is of adam"):
        sgd.load_state_dict(adam.state_dict())
    short = optim.Adam([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="has 3 values"):
        short.load_state_dict(adam.state_dict())
    assert short.state_dict()["state"][0]["step"] == 0


# --- errors ------------------------------------------------------------------------

def test_parameters_that_cannot_be_updated_in_place_are_refused_by_index():
    with pytest.raises(TypeError, match=r"params\[0\] is a list"):
        optim.Adam([[1.0, 2.0]])
    with pytest.raises(TypeError, match="float32 or float64"):
        optim.Adam([np.ones(3, dtype=np.int64)])
    with pytest.raises(ValueError, match=r"params\[1\] is not C-contiguous"):
        optim.Adam([np.ones(3), np.ones((4, 4))[:, 1]])
    ro = np.ones(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        optim.Adam([ro])
    with pytest.raises(TypeError, match="several dtypes"):
        optim.Adam([np.ones(3), np.ones(3, dtype=np.float32)])


def test_bad_gradients_and_settings_are_named():
    x = np.ones(3)
    opt = optim.Adam([x])
    with pytest.raises(ValueError, match="2 gradients; the optimizer has 1"):
        opt.step([np.ones(3), np.ones(3)])
    with pytest.raises(ValueError, match="grads\\[0\\] 4"):
        opt.step([np.ones(4)])
    with pytest.raises(ValueError, match="no hyper-parameter 'gamma'"):
        optim.Stepper([x], "adam", lr=0.1, gamma=2)
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        optim.Stepper([x], "adamm", lr=0.1)
    with pytest.raises(ValueError, match="lr must be a finite number"):
        optim.SGD([x], lr=-1.0)
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        optim.SGD([x])
    with pytest.raises(ValueError, match="maximize=True is not supported"):
        optim.Adam([x], maximize=True)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.Adam([{"params": [x]}, {"params": [x]}])
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([x], lr=0.1, nesterov=True)
    assert np.array_equal(x, np.ones(3))


def test_a_converted_gradient_is_read_but_parameters_are_never_copied():
    x = np.ones(3, dtype=np.float32)
    opt = optim.SGD([x], lr=0.5)
    opt.step([[2.0, 2.0, 2.0]])          # a list of floats is converted once
    assert x.dtype == np.float32 and np.allclose(x, 0.0)


def test_clipping_and_l1_ride_in_the_step():
    x = np.zeros(2)
    opt = optim.SGD([x], lr=1.0, clip_norm=1.0)
    opt.step(np.array([3.0, 4.0]))
    assert np.allclose(x, [-0.6, -0.8])
    y = np.array([0.05, -1.0])
    optim.SGD([y], lr=1.0, l1=0.1).step(np.zeros(2))
    assert np.allclose(y, [0.0, -0.9])


# --- schedulers against torch's stored learning rates --------------------------------

INC = (ROOT / "tests/optim/schedule_reference.inc").read_text()
BASE_LR = float(re.search(r"kReferenceBaseLr = ([0-9.e+-]+);", INC).group(1))


def _numbers(text):
    text = text.replace("std::numeric_limits<double>::quiet_NaN()", "nan")
    return [float(v) for v in re.findall(r"nan|-?[0-9][0-9.e+-]*", text)]


def schedule_cases():
    """(torch call, learning rates for k = 0.., how many of them torch defines)."""
    cases = []
    block = INC[INC.index("kScheduleReferences"):INC.index("kPlateauReferences")]
    for m in re.finditer(r"// torch\.(.*?)\n\s*\{\"[^\"]*\", \d+, \{(.*?)\}\}", block, re.S):
        call, values = m.group(1), _numbers(m.group(2))
        held = re.search(r"; torch to k = (\d+), held after", call)
        call = call.split(";")[0]
        cases.append((call, values, int(held.group(1)) + 1 if held else len(values)))
    return cases


def make_scheduler(call, opt):
    """Turns "SequentialLR([LinearLR(total_iters=5), CosineAnnealingLR(T_max=20)], [5])"
    into descent's schedulers on opt."""
    names = {n: getattr(lr_scheduler, n) for n in lr_scheduler.__all__}
    bound = {n: (lambda cls: lambda *a, **k: cls(opt, *a, **k))(cls) for n, cls in names.items()}
    bound["OneCycleLR"] = lambda **k: lr_scheduler.OneCycleLR(opt, **k)
    call = re.sub(r"(\d) k\)", r"\1 * k)", call)  # "0.25 k" as Python
    return eval(call, {**bound, "__builtins__": {}})


def test_the_schedule_reference_is_parsed():
    cases = schedule_cases()
    assert len(cases) >= 20
    assert all(len(v) == 40 for _, v, _ in cases)


@pytest.mark.parametrize("call, values, defined", schedule_cases(), ids=[c[0] for c in schedule_cases()])
def test_schedulers_give_torchs_learning_rates(call, values, defined):
    x = np.zeros(1)
    opt = optim.SGD([x], lr=BASE_LR)
    sched = make_scheduler(call, opt)
    got = []
    for _ in range(defined):
        got.append(sched.get_last_lr()[0])
        assert opt.param_groups[0]["lr"] == got[-1]
        opt.step(np.zeros(1))
        sched.step()
    assert np.allclose(got, values[:defined], rtol=1e-12, atol=1e-15), call


def plateau_cases():
    block = INC[INC.index("kPlateauReferences"):]
    out = []
    for m in re.finditer(r"// torch\.ReduceLROnPlateau\((.*?)\)\n\s*\{\{.*?\},\s*\{(.*?)\},\s*\{(.*?)\}\}", block, re.S):
        out.append((m.group(1), _numbers(m.group(2)), _numbers(m.group(3))))
    return out


@pytest.mark.parametrize("kwargs, metrics, rates", plateau_cases(), ids=[c[0] or "defaults" for c in plateau_cases()])
def test_reduce_on_plateau_gives_torchs_learning_rates(kwargs, metrics, rates):
    opt = optim.SGD([np.zeros(1)], lr=BASE_LR)
    sched = eval(f"ReduceLROnPlateau(opt, {kwargs})", {"ReduceLROnPlateau": lr_scheduler.ReduceLROnPlateau,
                                                      "opt": opt})
    got = []
    for metric in metrics:
        sched.step(metric)
        got.append(opt.param_groups[0]["lr"])
    assert np.allclose(got, rates, rtol=1e-12), kwargs


def test_scheduler_state_resumes():
    opt = optim.SGD([np.zeros(1)], lr=0.1)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        sched.step()
    saved = sched.state_dict()
    opt2 = optim.SGD([np.zeros(1)], lr=0.1)
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
    sched2.load_state_dict(saved)
    sched.step()
    sched2.step()
    assert sched.get_last_lr() == sched2.get_last_lr()


def test_descent_schedule_specs_and_refusals():
    opt = optim.SGD([np.zeros(1)], lr=1.0)
    s = lr_scheduler.ScheduleLR(opt, "warmup:2:0.5+step:3:0.1")
    assert "step" in s.describe()
    assert s.get_last_lr() == [0.5]
    with pytest.raises(ValueError, match="end_factor"):
        lr_scheduler.LinearLR(opt, end_factor=0.5)
    with pytest.raises(ValueError, match="anneal"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="linear")
    with pytest.raises(ValueError, match="milestone"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt, total_iters=3),
                                        lr_scheduler.StepLR(opt, step_size=2)], milestones=[4])
    with pytest.raises(ValueError):
        lr_scheduler.StepLR(opt, step_size=0)


def test_the_package_exports_optim():
    assert descent.optim is optim
    assert set(optim.OPTIMIZERS) <= set(optim.__all__)
