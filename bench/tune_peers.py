#!/usr/bin/python3
"""descent tune (ASHA) against Optuna's TPE sampler with its median pruner.

The same search space, the same budget of training epochs, the same seeds
and the same trainer: Optuna's objective trains with descent.train, so the
search algorithms alone differ. Each search's result is the lowest
validation loss any of its trials reached at its last epoch (pruned trials
included, for both), on the same held-out rows (--val-fraction 0.1, split
by the seed). Prints a row per seed and the medians.

  PYTHONPATH=build/release/python bench/tune_peers.py --data csv --seeds 5
  PYTHONPATH=build/release/python bench/tune_peers.py --data fashion-mnist --model mlp:784-128-10 --budget 60

Needs python3-optuna (Debian). Run on a quiet machine: wall times are
compared.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import descent

SPACE = ["lr=log:1e-4..1e-1", "optimizer=choice:adam,sgd,momentum"]


def write_csv(path, rows=20000, features=20, classes=3, seed=0):
    """Labels from a random teacher network, with label noise: an MLP's task."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features))
    W1, W2 = rng.normal(size=(features, 16)), rng.normal(size=(16, classes))
    logits = np.tanh(X @ W1) @ W2 + 0.5 * rng.normal(size=(rows, classes))
    y = logits.argmax(axis=1)
    with open(path, "w") as f:
        f.write(",".join(f"x{i}" for i in range(features)) + ",label\n")
        for row, label in zip(X, y):
            f.write(",".join(f"{v:.6g}" for v in row) + f",{label}\n")


def run_descent(cli, data, model, batch, budget, max_epochs, seed, sampler):
    cmd = [cli, "tune", "--sampler", sampler, "--data", data, "--model", model, "--batch-size", str(batch), "--seed", str(seed),
           "--val-fraction", "0.1", "--trials", "100000", "--budget", str(budget), "--max-epochs", str(max_epochs),
           "--json"]
    for s in SPACE:
        cmd += ["--space", s]
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    seconds = time.perf_counter() - start
    j = json.loads(out[out.index("{"):])
    return j["best"]["loss"], seconds, j["epochs"], len(j["all"])


def run_optuna(data, model, batch, budget, max_epochs, seed):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    used = [0]
    best = [math.inf]
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        optimizer = trial.suggest_categorical("optimizer", ["adam", "sgd", "momentum"])
        pruned = [False]
        last = [math.inf]

        def on_epoch(e):
            used[0] += 1
            last[0] = e["validation_loss"]
            trial.report(last[0], e["epoch"])
            if trial.should_prune():
                pruned[0] = True
                return False
            return used[0] < budget

        descent.train(data, model=model, optimizer=optimizer, lr=lr, epochs=max_epochs, batch_size=batch, seed=seed,
                      val_fraction=0.1, callback=on_epoch)
        best[0] = min(best[0], last[0])
        if pruned[0]:
            raise optuna.TrialPruned()
        return last[0]

    def stop_at_budget(study, trial):
        if used[0] >= budget:
            study.stop()

    start = time.perf_counter()
    study.optimize(objective, callbacks=[stop_at_budget])
    return best[0], time.perf_counter() - start, used[0], len(study.trials)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="csv", help="csv (generated), fashion-mnist, or a CSV file")
    p.add_argument("--model", default="")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--budget", type=int, default=81, help="epochs over all trials")
    p.add_argument("--max-epochs", type=int, default=9)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--sampler", default="random", choices=["random", "tpe"], help="descent tune's --sampler")
    p.add_argument("--descent", default=os.path.join(os.path.dirname(__file__), "..", "build", "release", "bin",
                                                      "descent"))
    a = p.parse_args()
    data, model = a.data, a.model
    tmp = None
    if data == "csv":
        tmp = tempfile.TemporaryDirectory()
        data = os.path.join(tmp.name, "teacher.csv")
        write_csv(data)
        model = model or "mlp:20-32-3"
    if not model:
        sys.exit("--model is needed with --data other than csv")
    print(f"{a.data}, {model}, batch {a.batch_size}, budget {a.budget} epochs, up to {a.max_epochs} a trial; "
          f"space {' '.join(SPACE)}; descent --sampler {a.sampler}")
    print(f"{'seed':>4}  {'descent loss':>12} {'s':>7} {'trials':>6}   {'optuna loss':>12} {'s':>7} {'trials':>6}")
    rows = []
    for seed in range(1, a.seeds + 1):
        d = run_descent(a.descent, data, model, a.batch_size, a.budget, a.max_epochs, seed, a.sampler)
        o = run_optuna(data, model, a.batch_size, a.budget, a.max_epochs, seed)
        rows.append((d, o))
        print(f"{seed:>4}  {d[0]:>12.5f} {d[1]:>7.2f} {d[3]:>6}   {o[0]:>12.5f} {o[1]:>7.2f} {o[3]:>6}", flush=True)
    med = lambda k, i: statistics.median(r[k][i] for r in rows)
    wins = sum(r[0][0] <= r[1][0] for r in rows)
    print(f"median loss: descent {med(0, 0):.5f}, optuna {med(1, 0):.5f}; descent as good or better on {wins} of "
          f"{len(rows)} seeds; median wall time: descent {med(0, 1):.2f} s, optuna {med(1, 1):.2f} s "
          f"({med(1, 1) / med(0, 1):.1f}x)")


if __name__ == "__main__":
    main()
