#!/usr/bin/python3
"""Training from Python on Fashion-MNIST (Debian's dataset-fashion-mnist):
descent.train as `descent train` runs it, then, where python3-torch is
installed, a torch model stepped by descent.torch.Adam in place of
torch.optim.Adam.

    PYTHONPATH=build/release/python /usr/bin/python3 examples/python/train.py [--epochs 2]
"""

import argparse
import time

import numpy as np

import descent


def with_descent_train(epochs):
    r = descent.train("fashion-mnist", model="mlp:784-128-10", optimizer="adam", lr=1e-3, epochs=epochs,
                      batch_size=128, standardize=True, val_fraction=0.1, seed=1)
    for h in r.history:
        print(f"  epoch {h['epoch']}: train loss {h['train_loss']:.4f}, validation accuracy "
              f"{h['validation_accuracy']:.4f}, {h['samples_per_second']:.0f} samples/s")
    print(f"  test accuracy {r.test['accuracy']:.4f} on {r.test['rows']} images ({r.model})")
    return r


def with_descent_torch(epochs, train_set):
    try:
        import torch
    except ImportError:
        print("  (python3-torch is not installed: skipped)")
        return
    import descent.torch

    X, y = train_set
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = descent.torch.Adam(model.parameters(), lr=1e-3)       # was: torch.optim.Adam
    for epoch in range(1, epochs + 1):
        start, order = time.perf_counter(), torch.randperm(len(X))
        for i in range(0, len(X), 128):
            batch = order[i:i + 128]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X[batch]), y[batch])
            loss.backward()
            opt.step()
        with torch.no_grad():
            accuracy = float((model(X).argmax(1) == y).float().mean())
        print(f"  epoch {epoch}: last batch loss {float(loss):.4f}, training accuracy {accuracy:.4f}, "
              f"{len(X) / (time.perf_counter() - start):.0f} samples/s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=2)
    a = ap.parse_args()
    print("descent.train('fashion-mnist', model='mlp:784-128-10', optimizer='adam'):")
    with_descent_train(a.epochs)
    # The same images as numpy arrays, for torch, through descent's reader.
    X, y = descent.load_data("fashion-mnist", "train")
    X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-6)
    y = y.astype(np.int64)
    print("a torch MLP stepped by descent.torch.Adam:")
    with_descent_torch(a.epochs, (X, y))


if __name__ == "__main__":
    main()
