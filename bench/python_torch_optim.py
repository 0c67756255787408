#!/usr/bin/python3
"""descent.torch's optimizers against torch.optim's on torch models (CPU).

For each model the script times, alternating the two sides, the optimizer
step alone (gradients already in place) and a whole training step (zero_grad,
forward, cross-entropy, backward, step) at batch 64, and prints medians and
the ratio torch / descent. torch.optim runs with foreach=True, its fastest
CPU path (one kernel per operation over the list of tensors).

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python_torch_optim.py [--threads 2] [--budget 2]

Models: the MLP 784-256-256-256-10 (8 tensors, 335k parameters) and a deep
narrow MLP of 100 layers 32 wide (200 tensors, 106k parameters), where the
per-tensor cost of a list-based optimizer shows.
"""

import argparse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from timing import import_torch, median_seconds  # noqa: E402


def mlp(torch, sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--budget", type=float, default=2.0, help="seconds per measurement")
    ap.add_argument("--optimizers", default="Adam,AdamW,SGD")
    a = ap.parse_args()
    torch, _ = import_torch(a.threads, a.threads)
    import descent
    import descent.torch as dt

    models = {"mlp 784-256x3-10": [784, 256, 256, 256, 10], "deep 100x32 (200 tensors)": [32] * 101}
    kwargs = {"Adam": dict(lr=1e-3), "AdamW": dict(lr=1e-3, weight_decay=1e-2), "SGD": dict(lr=1e-2, momentum=0.9)}
    print(f"descent {descent.__version__} vs torch {torch.__version__}, {a.threads} threads, medians")
    print(f"{'model':<27} {'optimizer':<7} {'step d ms':>9} {'step t ms':>9} {'ratio':>6} "
          f"{'train d ms':>10} {'train t ms':>10} {'ratio':>6}")
    for name, sizes in models.items():
        torch.manual_seed(0)
        x = torch.randn(64, sizes[0])
        y = torch.randint(0, sizes[-1], (64,))
        for opt_name in a.optimizers.split(","):
            nets = {side: mlp(torch, sizes) for side in ("descent", "torch")}
            nets["torch"].load_state_dict(nets["descent"].state_dict())
            opts = {"descent": getattr(dt, opt_name)(nets["descent"].parameters(), **kwargs[opt_name]),
                    "torch": getattr(torch.optim, opt_name)(nets["torch"].parameters(), foreach=True,
                                                            **kwargs[opt_name])}
            for side in nets:  # gradients in place for the step-only timing
                torch.nn.functional.cross_entropy(nets[side](x), y).backward()
            step, train = {}, {}
            for side in ("descent", "torch", "descent", "torch"):  # alternate, keep the second
                net, opt = nets[side], opts[side]
                step[side], _ = median_seconds(opt.step, a.budget / 2)

                def train_step(net=net, opt=opt):
                    opt.zero_grad()
                    torch.nn.functional.cross_entropy(net(x), y).backward()
                    opt.step()
                train[side], _ = median_seconds(train_step, a.budget / 2)
            print(f"{name:<27} {opt_name:<7} {step['descent'] * 1e3:9.3f} {step['torch'] * 1e3:9.3f} "
                  f"{step['torch'] / step['descent']:6.2f} {train['descent'] * 1e3:10.3f} "
                  f"{train['torch'] * 1e3:10.3f} {train['torch'] / train['descent']:6.2f}")


if __name__ == "__main__":
    main()
