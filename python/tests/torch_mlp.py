"""The small MLP and data of the torch trajectory tests, built from numpy so
that the stored starting point does not depend on torch's random numbers."""

import numpy as np

SIZES = [6, 16, 16, 3]
SAMPLES = 32
STEPS = 10

# (descent.torch / torch.optim class name, its arguments)
CONFIGS = [
    ("Adam", {"lr": 1e-2}),
    ("Adam", {"lr": 1e-2, "weight_decay": 1e-2, "amsgrad": True}),
    ("AdamW", {"lr": 1e-2, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    ("SGD", {"lr": 0.2}),
    ("RMSprop", {"lr": 1e-2, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 1e-3}),
    ("Adadelta", {"lr": 1.0}),
    ("Adamax", {"lr": 2e-2}),
    # torch 1.13's single-tensor NAdam has one mu_t too many (fixed in torch
    # 2.0, pytorch PR #92699); its foreach path is Dozat's rule, descent's.
    ("NAdam", {"lr": 1e-2, "foreach": True}),
    ("RAdam", {"lr": 1e-2}),
]


def initial_parameters():
    """[(weight (out x in), bias (out))] for each layer, float32."""
    rng = np.random.default_rng(20261207)
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(n_in)
        layers.append((rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32),
                       rng.uniform(-bound, bound, n_out).astype(np.float32)))
    return layers


def data():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((SAMPLES, SIZES[0])).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.5).astype(np.int64)
    return x, y


def model(torch, params=None):
    """The MLP as a torch.nn.Sequential holding these parameters."""
    layers = []
    for i, (w, b) in enumerate(params or initial_parameters()):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.asarray(w, dtype=np.float32)))
            linear.bias.copy_(torch.from_numpy(np.asarray(b, dtype=np.float32)))
        layers.append(linear)
        if i < len(SIZES) - 2:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def train(torch, optimizer_class, kwargs, steps=STEPS):
    """Full-batch steps of cross-entropy; returns (losses, final parameters as lists)."""
    net = model(torch)
    opt = optimizer_class(net.parameters(), **kwargs)
    x, y = (torch.from_numpy(a) for a in data())
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return losses, [p.detach().numpy().reshape(-1).tolist() for p in net.parameters()]
