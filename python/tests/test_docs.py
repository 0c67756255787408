"""The examples of docs/python.md run as written: every ```python block is
executed, each in a fresh namespace that provides what the prose leaves to
the reader (X, y, gradients, loader). A block that imports scipy,
torch or sklearn is skipped where that package is missing."""

import importlib.util
import pathlib
import re

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "docs/python.md").read_text(), re.S)
OPTIONAL = ("scipy", "torch", "sklearn")


def missing(block):
    needed = {m for m in OPTIONAL if re.search(rf"\b(import|from) {m}\b|\b{m}\.", block)}
    if "cross_val_score" in block or "make_pipeline" in block:
        needed.add("sklearn")
    return sorted(m for m in needed if importlib.util.find_spec(m) is None)


def namespace():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 4)).astype(np.float32)
    ns = {"np": np, "X": X, "y": (X[:, 0] + X[:, 1] > 0).astype(np.int64),
          "gradients": lambda w, b: (0.01 * w + 1e-3, b - 1.0)}
    if importlib.util.find_spec("torch"):
        import torch
        ns["loader"] = [(torch.randn(32, 784), torch.randint(0, 10, (32,))) for _ in range(3)]
    if importlib.util.find_spec("sklearn"):
        from sklearn.model_selection import cross_val_score
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        ns.update(cross_val_score=cross_val_score, make_pipeline=make_pipeline, StandardScaler=StandardScaler)
    return ns


def test_the_examples_are_found():
    assert len(BLOCKS) >= 6


def test_every_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that saves a file writes it here
    import descent
    ran = 0
    for i, block in enumerate(BLOCKS):
        if missing(block):
            continue
        ns = dict(namespace(), descent=descent)
        try:
            exec(compile(block, f"docs/python.md, python block {i + 1}", "exec"), ns)
        except Exception as e:
            pytest.fail(f"docs/python.md, python block {i + 1} raised {type(e).__name__}: {e}\n{block}")
        ran += 1
    assert ran >= 3
