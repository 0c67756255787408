"""descent.torch against torch.optim's stored trajectories on a small MLP
(data/torch_reference.json, made by make_torch_reference.py). descent.torch
needs torch itself, so these tests skip where python3-torch is missing."""

import json
import pathlib
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import descent.torch as dt  # noqa: E402
from descent.optim import lr_scheduler  # noqa: E402

import torch_mlp  # noqa: E402

REFERENCE = json.loads((pathlib.Path(__file__).with_name("data") / "torch_reference.json").read_text())


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=[f"{c['optimizer']}{c['kwargs']}" for c in REFERENCE["cases"]])
def test_descent_torch_follows_torch_optims_trajectory_to_float32_rounding(case):
    losses, params = torch_mlp.train(torch, getattr(dt, case["optimizer"]), case["kwargs"])
    assert np.allclose(losses, case["losses"], rtol=2e-5, atol=1e-6)
    start = [a for w, b in torch_mlp.initial_parameters() for a in (w.reshape(-1), b)]
    for got, want, x0 in zip(params, case["params"], start):
        moved = np.abs(np.asarray(want) - x0).max()
        assert np.abs(np.asarray(got) - want).max() <= 1e-4 * max(moved, 1e-2), case["optimizer"]


def test_parameters_and_gradients_become_views_of_one_buffer():
    net = torch_mlp.model(torch)
    opt = dt.Adam(net.parameters(), lr=1e-3)
    flat = opt._flat[0]
    params = list(net.parameters())
    assert flat.data.numel() == sum(p.numel() for p in params)
    offset = 0
    for p in params:
        assert p.data_ptr() == flat.data.data_ptr() + offset * 4
        assert p.grad.data_ptr() == flat.grad.data_ptr() + offset * 4
        offset += p.numel()
    x, y = (torch.from_numpy(a) for a in torch_mlp.data())
    torch.nn.functional.cross_entropy(net(x), y).backward()
    assert flat.grad.abs().sum() > 0           # backward accumulated into the flat gradient
    before = flat.data.clone()
    opt.step()
    assert not torch.equal(before, flat.data)  # and one step moved the flat parameters
    assert all(p.data_ptr() == d.data_ptr() for p, d in zip(params, flat.data_views))


def test_grad_set_to_none_and_replaced_data_are_taken_back_into_the_buffer():
    net = torch_mlp.model(torch)
    opt = dt.SGD(net.parameters(), lr=0.5)
    params = list(net.parameters())
    x, y = (torch.from_numpy(a) for a in torch_mlp.data())
    reference = torch_mlp.model(torch)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.5)
    for net_, opt_ in ((net, opt), (reference, ref_opt)):
        for p in net_.parameters():
            p.grad = None
        torch.nn.functional.cross_entropy(net_(x), y).backward()
        opt_.step()
    for a, b in zip(net.parameters(), reference.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    with torch.no_grad():
        params[0].data = torch.zeros_like(params[0])
    opt.zero_grad()
    opt.step()
    assert params[0].data_ptr() == opt._flat[0].data_views[0].data_ptr()
    assert float(params[0].abs().sum()) == 0.0


def test_it_is_a_torch_optimizer_and_torchs_schedulers_drive_it():
    net = torch_mlp.model(torch)
    opt = dt.AdamW(net.parameters(), lr=0.1)
    assert isinstance(opt, torch.optim.Optimizer)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.05
    ours = lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    ours.step()
    # from the initial lr (0.1) that torch's scheduler recorded
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * (1 + np.cos(np.pi / 4)) / 2)


def test_parameter_groups_get_their_own_settings():
    net = torch_mlp.model(torch)
    weights = [p for n, p in net.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in net.named_parameters() if n.endswith("bias")]
    opt = dt.SGD([{"params": weights}, {"params": biases, "lr": 0.0}], lr=0.1, momentum=0.9)
    before = [b.detach().clone() for b in biases]
    x, y = (torch.from_numpy(a) for a in torch_mlp.data())
    torch.nn.functional.cross_entropy(net(x), y).backward()
    opt.step()
    assert all(torch.equal(a, b) for a, b in zip(before, biases))
    assert len(opt._flat) == 2


def test_state_dict_resumes_bit_for_bit():
    x, y = (torch.from_numpy(a) for a in torch_mlp.data())

    def run(net, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x), y).backward()
            opt.step()

    whole = torch_mlp.model(torch)
    run(whole, dt.Adam(whole.parameters(), lr=1e-2), 6)
    half = torch_mlp.model(torch)
    opt = dt.Adam(half.parameters(), lr=1e-2)
    run(half, opt, 3)
    saved = pickle.loads(pickle.dumps((half.state_dict(), opt.state_dict())))
    resumed = torch_mlp.model(torch)
    resumed.load_state_dict(saved[0])
    opt2 = dt.Adam(resumed.parameters(), lr=1e-2)
    opt2.load_state_dict(saved[1])
    run(resumed, opt2, 3)
    for a, b in zip(whole.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


def test_unsupported_parameters_are_refused():
    with pytest.raises(TypeError, match="float32 or float64"):
        dt.Adam([torch.nn.Parameter(torch.zeros(3, dtype=torch.float16))])
    with pytest.raises(TypeError, match="one dtype per parameter group"):
        dt.Adam([torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))])
    with pytest.raises(ValueError, match="maximize"):
        dt.Adam([torch.nn.Parameter(torch.zeros(3))], maximize=True)


def test_the_closure_is_called_with_gradients_on():
    p = torch.nn.Parameter(torch.tensor([3.0, -1.0]))
    opt = dt.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert float(opt.step(closure)) == 10.0
    assert torch.allclose(p.detach(), torch.tensor([1.5, -0.5]))
