#!/usr/bin/python3
"""The closing summary of bench/run_train.sh, from the JSON lines it wrote.

  summarize_train.py RESULTS/train.jsonl [--markdown]

Each line is one run, with "bench", "side", "repeat" and
"requested_threads" added by run_train.sh; a "machine" line records the CPU,
the load and the settings. The benches:

  mlp       descent (descent train --json) and torch (bench/torch_train.py):
            mlp:784-256-128-10, Adam lr 1e-3, batch 128, seed 1
  lenet     descent: cnn:lenet, the same recipe
  logistic  descent (descent train --model logistic --optimizer lbfgs) and
            scipy (bench/scipy_logistic.py, L-BFGS-B): the same float64
            objective, the same iteration limit
  converge  descent: the logistic run with --gtol 1e-6 and a large limit

A table of medians per bench (min-max where there are several repeats),
then the targets of the training issue, each marked ok or MISS:

  mlp       descent / torch samples per second          >= 4
            descent test accuracy after 5 epochs        >= 0.87 (torch with
                                                           this recipe: 0.873)
  lenet     descent test accuracy after 5 epochs        >= 0.90
  logistic  descent training loss <= scipy's after the same iterations
            scipy seconds / descent seconds             >= 5
  converge  descent reaches ||g||_2 <= 1e-6 (its time and iterations)

The ratios are medians of the per-repeat ratios (the sides of one repeat ran
close together), or ratios of the medians where the repeats do not pair up.
Runs on fewer epochs, on fewer iterations or with the Python side on a
subset (QUICK=1) are summarized all the same, with a warning: their
accuracies and losses do not answer the targets.
"""

import statistics
from collections import defaultdict

from summarize import print_warnings, results_args, spread, table  # bench/summarize.py, beside this script
from summarize_model import number, paired  # bench/summarize_model.py

SPEEDUP_TARGET = 4.0        # mlp: descent / torch samples per second, at least
MLP_ACCURACY_TARGET = 0.87  # mlp: descent test accuracy after TARGET_EPOCHS, at least
TORCH_ACCURACY = 0.873      # the figure for torch with this recipe
LENET_ACCURACY_TARGET = 0.90
SOLVER_SPEEDUP_TARGET = 5.0  # logistic: scipy seconds / descent seconds, at least
TARGET_EPOCHS = 5
TARGET_ITERATIONS = 500
TRAIN_ROWS = 60000          # Fashion-MNIST's training images: descent train's rows (it reports none)


def at_least(value, target, digits=2, suffix=""):
    if value is None:
        return "-"
    return f"{value:.{digits}f}{suffix} {'ok' if value >= target else 'MISS'}"


def median(runs, field):
    values = [r[field] for r in runs if r.get(field) is not None]
    return statistics.median(values) if values else None


def rows_of(r):
    return int(r.get("train_rows", TRAIN_ROWS))


def evaluations(r):
    """Gradient evaluations of a solver run: scipy reports them; descent reports rows x evaluations / s."""
    if "evaluations" in r:
        return r["evaluations"]
    if r.get("samples_per_second") and r.get("seconds"):
        return round(r["samples_per_second"] * r["seconds"] / rows_of(r))
    return None


def stepper_rows(runs_by_side, sides):
    out = []
    for side in sides:
        rs = runs_by_side.get(side, [])
        if not rs:
            continue
        out.append([side, "/".join(sorted({str(r.get("threads", r["requested_threads"])) for r in rs})),
                    "/".join(sorted({str(r["epochs"]) for r in rs})), "/".join(sorted({str(rows_of(r)) for r in rs})),
                    len(rs), spread([r["samples_per_second"] for r in rs], 0), spread([r["seconds"] for r in rs], 2),
                    spread([r["train_loss"] for r in rs], 4), spread([r["test_accuracy"] for r in rs], 4)])
    return out


def solver_row(label, rs):
    per_eval = [r["seconds"] / evaluations(r) * 1e3 for r in rs if evaluations(r)]
    return [label, "/".join(sorted({str(rows_of(r)) for r in rs})), len(rs),
            spread([r["iterations"] for r in rs], 0), spread([e for e in map(evaluations, rs) if e is not None], 0),
            spread([r["seconds"] for r in rs], 2), spread(per_eval, 1), spread([r["train_loss"] for r in rs], 9),
            spread([r["gradient_norm"] for r in rs], 2) if len(rs) > 1 else f"{rs[0]['gradient_norm']:.2e}",
            spread([r["test_accuracy"] for r in rs], 4),
            "/".join(sorted({str(r.get("status", "?")) for r in rs}))]


def main():
    args, runs, machine = results_args(__doc__, "train.jsonl", "run_train.sh")

    benches = defaultdict(lambda: defaultdict(list))  # bench -> side -> runs
    for r in runs:
        benches[r.get("bench", "?")][r["side"]].append(r)
    warnings = []

    for m in machine:
        print(f"machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, kernel {m.get('kernel', '?')}; load average "
              f"before the runs {m.get('load_before', '?')}; {m.get('threads', '?')} thread(s); "
              f"{m.get('repeats', '?')} repeat(s) of mlp, {m.get('long_repeats', '?')} of the others"
              + ("; QUICK" if m.get("quick") else ""))
    versions = sorted({f"PyTorch {r['torch_version']}" for r in runs if "torch_version" in r} |
                      {f"scipy {r['scipy_version']} (numpy {r.get('numpy_version', '?')})"
                       for r in runs if "scipy_version" in r})
    if versions:
        blas = sorted({str(r.get("openblas_threads") or "default") for r in runs if r["side"] == "torch"})
        print(f"{'; '.join(versions)}; OpenBLAS threads under PyTorch: {', '.join(blas) or '-'}")

    mlp, lenet = benches.get("mlp", {}), benches.get("lenet", {})
    if mlp or lenet:
        rows = [["mlp " + row[0]] + row[1:] for row in stepper_rows(mlp, ("descent", "torch"))]
        rows += [["lenet " + row[0]] + row[1:] for row in stepper_rows(lenet, ("descent", "torch"))]
        print()
        print("Stepper training on Fashion-MNIST: Adam lr 1e-3, seed 1 (samples/s: all epochs' samples over their "
              "seconds, data in memory)")
        print(table(["run", "threads", "epochs", "train rows", "runs", "samples/s", "seconds", "train loss",
                     "test accuracy"], rows, args.markdown))
    logistic, converge = benches.get("logistic", {}), benches.get("converge", {})
    rows = []
    for side in ("descent", "scipy"):
        if logistic.get(side):
            rows.append(solver_row(f"{side} (iteration limit)", logistic[side]))
    if converge.get("descent"):
        rows.append(solver_row("descent (to \\|g\\| <= 1e-6)" if args.markdown else "descent (to |g| <= 1e-6)",
                               converge["descent"]))
    if rows:
        print()
        print("Full-batch multinomial logistic regression, L-BFGS (m 10) in float64, l2 1e-4, from zero")
        print(table(["run", "train rows", "runs", "iterations", "evaluations", "seconds", "ms / evaluation",
                     "train loss", "\\|g\\|_2" if args.markdown else "|g|_2", "test accuracy", "status"], rows,
                    args.markdown))

    # The targets.
    targets = []
    d, t = mlp.get("descent", []), mlp.get("torch", [])
    sps = lambda r: r["samples_per_second"]
    if d or t:
        targets.append(["mlp: descent / torch samples/s", f">= {SPEEDUP_TARGET:g}",
                        at_least(paired(d, t, sps, sps) if d and t else None, SPEEDUP_TARGET, 2, "x")])
        targets.append([f"mlp: descent test accuracy after {TARGET_EPOCHS} epochs", f">= {MLP_ACCURACY_TARGET}",
                        at_least(median(d, "test_accuracy"), MLP_ACCURACY_TARGET, 4)])
        targets.append([f"mlp: torch test accuracy (the issue's: {TORCH_ACCURACY})", "-",
                        number(median(t, "test_accuracy"), 4)])
        for r in d + t:
            if r["epochs"] != TARGET_EPOCHS:
                warnings.append(f"mlp {r['side']}: {r['epochs']} epoch(s), not {TARGET_EPOCHS}: its accuracy does not "
                                "answer the target")
                break
        for r in t:
            if rows_of(r) != TRAIN_ROWS:
                warnings.append(f"mlp torch: trained on {rows_of(r)} rows, descent on {TRAIN_ROWS}: the accuracies do "
                                "not compare (the samples/s do, roughly)")
                break
    for r in d + t:
        if "threads" in r and int(r["threads"]) != int(r["requested_threads"]):
            warnings.append(f"mlp {r['side']}: ran with {r['threads']} threads, not {r['requested_threads']}")
    d = lenet.get("descent", [])
    if d:
        targets.append([f"lenet: descent test accuracy after {TARGET_EPOCHS} epochs", f">= {LENET_ACCURACY_TARGET}",
                        at_least(median(d, "test_accuracy"), LENET_ACCURACY_TARGET, 4)])
        if any(r["epochs"] != TARGET_EPOCHS for r in d):
            warnings.append(f"lenet: not {TARGET_EPOCHS} epochs: its accuracy does not answer the target")
    d, s = logistic.get("descent", []), logistic.get("scipy", [])
    if d or s:
        dl, sl = median(d, "train_loss"), median(s, "train_loss")
        if dl is not None and sl is not None:
            loss = f"{dl:.9f} vs {sl:.9f} ({dl - sl:+.2e}) {'ok' if dl <= sl else 'MISS'}"
        else:
            loss = "-"
        targets.append(["logistic: descent train loss vs scipy's, same iterations", "<=", loss])
        secs = lambda r: r["seconds"]
        targets.append(["logistic: scipy / descent seconds", f">= {SOLVER_SPEEDUP_TARGET:g}",
                        at_least(paired(s, d, secs, secs) if d and s else None, SOLVER_SPEEDUP_TARGET, 2, "x")])
        iterations = {(r["side"], r["iterations"]) for r in d + s}
        if len({i for _, i in iterations}) > 1:
            warnings.append(f"logistic: the sides ran different iteration counts ({sorted(iterations)}): the "
                            "comparison is not like for like")
        if any(i != TARGET_ITERATIONS for _, i in iterations):
            warnings.append(f"logistic: not {TARGET_ITERATIONS} iterations: the comparison does not answer the target")
        if any(rows_of(r) != TRAIN_ROWS for r in s):
            warnings.append(f"logistic scipy: trained on {min(rows_of(r) for r in s)} rows, descent on {TRAIN_ROWS}: "
                            "the losses and times do not compare")
    d = converge.get("descent", [])
    if d:
        converged = all(str(r.get("status", "")).startswith("converged") for r in d)
        targets.append(["converge: descent to \\|g\\|_2 <= 1e-6" if args.markdown else
                        "converge: descent to |g|_2 <= 1e-6", "converges",
                        f"{'ok' if converged else 'MISS'}: {spread([r['seconds'] for r in d], 2)} s, "
                        f"{spread([r['iterations'] for r in d], 0)} iterations"])
    if targets:
        print()
        print("Targets of the training issue")
        print(table(["target", "wanted", "measured"], targets, args.markdown))
    if not runs:
        print("no runs")
    print()
    print_warnings(warnings)


if __name__ == "__main__":
    main()
