#!/usr/bin/python3
"""Trains the small MLP of torch_mlp.py with torch.optim once per
configuration and stores the losses and final parameters in
data/torch_reference.json, which test_torch.py compares descent.torch with.
Run it again only when a configuration is added (needs python3-torch):

    /usr/bin/python3 python/tests/make_torch_reference.py
"""

import json
import pathlib

import torch

import torch_mlp


def main():
    torch.set_num_threads(1)
    out = {"torch_version": torch.__version__, "cases": []}
    for name, kwargs in torch_mlp.CONFIGS:
        losses, params = torch_mlp.train(torch, getattr(torch.optim, name), kwargs)
        out["cases"].append({"optimizer": name, "kwargs": kwargs, "losses": losses, "params": params})
        print(f"{name:9} {kwargs}: loss {losses[0]:.5f} -> {losses[-1]:.5f}")
    path = pathlib.Path(__file__).with_name("data") / "torch_reference.json"
    path.write_text(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
