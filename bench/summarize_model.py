#!/usr/bin/python3
"""The closing summary of bench/run_model.sh, from the JSON lines it wrote.

  summarize_model.py RESULTS/model.jsonl [--markdown]

Each line is one run: "side" is descent (descent bench model --json), torch
(bench/torch_model.py --json), plain (bench_mlp_plain: the MLP in plain C on
OpenBLAS sgemm) or peak (bench_mlp_plain --sgemm-peak: GFLOP/s of a 1024^3
sgemm), with "repeat" and "requested_threads"; a "machine" line records the
CPU and the load.

Two tables of medians over the repeats (with min-max where there are several):

  mlp:784-256-128-10   descent, plain C and torch ms per batch;
                       descent / plain C   target <= 1.2 (plain C times no
                                           optimizer step, so only without one)
                       torch / descent     descent's speed-up over PyTorch
                       descent GFLOP/s and its fraction of the sgemm peak
  cnn:lenet            descent and torch ms per batch;
                       descent / torch     target <= 1.0
                       descent GFLOP/s, its fraction of the sgemm peak with
                       the FLOPs counted below, and with the issue's reference
                       figure of 2.5 MFLOP per sample

FLOPs per sample, from the layer shapes (2 FLOPs per multiply-add; bias adds,
ReLU, pooling, the loss and the optimizer step are not counted):
  forward            the multiply-adds of every conv and linear layer
  weight gradients   the same count again, for every layer
  input gradients    the same count for every layer but the first (the input
                     needs no gradient)
  LeNet: conv1 6x28x28 outputs x 1x5x5 = 117,600; conv2 16x10x10 x 6x5x5 =
  240,000; fc 400x120 = 48,000; fc 120x10 = 1,200 multiply-adds: forward
  406,800, weight gradients 406,800, input gradients 289,200; 1,102,800
  multiply-adds = 2.2056 MFLOP per sample.
  MLP: 784x256 + 256x128 + 128x10 = 234,752 forward, 234,752 weight
  gradients, 34,048 input gradients: 503,552 multiply-adds = 1.0071 MFLOP.

The ratios are medians of the per-repeat ratios (the sides of one repeat ran
close together, so drifts in the machine's speed cancel), or ratios of the
medians where the repeats do not pair up.
"""

import statistics
from collections import defaultdict

from summarize import print_warnings, results_args, spread, table  # bench/summarize.py, beside this script

MLP = "mlp:784-256-128-10"
LENET = "cnn:lenet"
PLAIN_TARGET = 1.2   # descent / plain C ms, at most
TORCH_TARGET = 1.0   # LeNet descent / torch ms, at most
ISSUE_MFLOP = 2.5    # the issue's figure of LeNet's forward + backward MFLOP per sample

# (name, kind, shape): conv (in channels, out channels, kernel, output height, output width); linear (in, out).
LAYERS = {
    LENET: [("conv1", "conv", (1, 6, 5, 28, 28)), ("conv2", "conv", (6, 16, 5, 10, 10)),
            ("fc1", "linear", (400, 120)), ("fc2", "linear", (120, 10))],
    MLP: [("fc1", "linear", (784, 256)), ("fc2", "linear", (256, 128)), ("fc3", "linear", (128, 10))],
}


def multiply_adds(kind, shape):
    """Forward multiply-adds of one layer for one sample."""
    if kind == "conv":
        cin, cout, k, oh, ow = shape
        return cout * oh * ow * cin * k * k
    fan_in, fan_out = shape
    return fan_in * fan_out


def flops_per_sample(model):
    """(total, forward, weight gradients, input gradients) FLOPs of one sample's forward + backward."""
    macs = [multiply_adds(kind, shape) for _, kind, shape in LAYERS[model]]
    forward, weights, inputs = sum(macs), sum(macs), sum(macs[1:])  # the first layer's input needs no gradient
    return 2 * (forward + weights + inputs), 2 * forward, 2 * weights, 2 * inputs


def paired(top, bottom, top_value, bottom_value):
    """Median of top_value(t) / bottom_value(b) over the repeats both have, else the ratio of the medians."""
    a = {r["repeat"]: top_value(r) for r in top if "repeat" in r}
    b = {r["repeat"]: bottom_value(r) for r in bottom if "repeat" in r}
    common = sorted(set(a) & set(b))
    if common:
        return statistics.median(a[k] / b[k] for k in common)
    if top and bottom:
        return (statistics.median(top_value(r) for r in top) /
                statistics.median(bottom_value(r) for r in bottom))
    return None


def at_most(ratio, target, digits=2):
    if ratio is None:
        return "-"
    return f"{ratio:.{digits}f} {'ok' if ratio <= target else 'MISS'}"


def number(value, digits, suffix=""):
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def main():
    args, runs, machine = results_args(__doc__, "model.jsonl", "run_model.sh")

    warnings = []
    threads_of = lambda r: int(r.get("requested_threads", r["threads"]))
    peaks = defaultdict(list)                               # threads -> peak runs
    groups = defaultdict(lambda: defaultdict(list))         # (model, batch, optimizer, threads) -> side -> runs
    for r in runs:
        if r["side"] == "peak":
            peaks[threads_of(r)].append(r)
            continue
        model = r.get("model", MLP)
        groups[(model, int(r["batch_size"]), r.get("optimizer") or "", threads_of(r))][r["side"]].append(r)
        if int(r["threads"]) != threads_of(r):
            warnings.append(f"{model}, {r['side']}: ran with {r['threads']} threads, not {threads_of(r)}")

    ms = lambda r: r["ms_per_batch"]
    gflops_of = lambda model: (lambda r: flops_per_sample(model)[0] * r["batch_size"] / r["ms_per_batch"] / 1e6)
    mlp_rows, lenet_rows = [], []
    for key in sorted(groups, key=lambda k: (k[0] != MLP, k[0], k[1], k[2], k[3])):
        model, batch, opt, t = key
        sides = groups[key]
        d, tc, pl = sides.get("descent", []), sides.get("torch", []), sides.get("plain", [])
        pk = peaks.get(t, [])
        label = opt or "none"
        for name, rs in (("descent", d), ("torch", tc)) + ((("plain", pl),) if model == MLP and not opt else ()):
            if not rs:
                warnings.append(f"{model}, batch {batch}, step {label}, {t} thread(s): no {name} run")
        if model not in LAYERS:
            warnings.append(f"{model}: no FLOP count; skipped")
            continue
        rate = gflops_of(model)
        descent_gflops = [rate(r) for r in d]
        of_peak = paired(d, pk, rate, lambda r: r["gflops"])
        torch_over_descent = paired(tc, d, ms, ms)
        if model == MLP:
            to_plain = paired(d, pl, ms, ms) if not opt else None
            if to_plain is not None and to_plain > PLAIN_TARGET:
                warnings.append(f"{model}, batch {batch}, {t} thread(s): descent at {to_plain:.2f}x plain C's time "
                                f"(target <= {PLAIN_TARGET})")
            mlp_rows.append([label, batch, t, spread([ms(r) for r in d], 3), spread([ms(r) for r in pl], 3),
                             spread([ms(r) for r in tc], 3), at_most(to_plain, PLAIN_TARGET),
                             number(torch_over_descent, 2, "x"), spread(descent_gflops, 1),
                             number(None if of_peak is None else 100 * of_peak, 1, " %")])
        else:
            to_torch = paired(d, tc, ms, ms)
            if to_torch is not None and to_torch > TORCH_TARGET:
                warnings.append(f"{model}, batch {batch}, step {label}, {t} thread(s): descent at {to_torch:.2f}x "
                                f"torch's time (target <= {TORCH_TARGET})")
            issue = None if of_peak is None else of_peak * ISSUE_MFLOP * 1e6 / flops_per_sample(model)[0]
            lenet_rows.append([label, batch, t, spread([ms(r) for r in d], 3), spread([ms(r) for r in tc], 3),
                               at_most(to_torch, TORCH_TARGET), spread(descent_gflops, 1),
                               number(None if of_peak is None else 100 * of_peak, 1, " %"),
                               number(None if issue is None else 100 * issue, 1, " %")])

    for m in machine:
        print(f"machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, kernel {m.get('kernel', '?')}; "
              f"load average before the runs {m.get('load_before', '?')}; {m.get('repeats', '?')} repeat(s) of "
              f"{m.get('batch_seconds', '?')} s, {m.get('threads', '?')} thread(s)")
    versions = sorted({r["torch_version"] for r in runs if "torch_version" in r})
    if versions:
        blas = sorted({str(r.get("openblas_threads") or "default") for r in runs if r["side"] == "torch"})
        print(f"PyTorch {', '.join(versions)}; torch.optim with foreach=True; zero_grad(set_to_none=False); "
              f"OpenBLAS threads under its matrix products: {', '.join(blas)} (bench/torch_model.py)")
    for t in sorted(peaks):
        print(f"sgemm peak (1024^3, OpenBLAS, {t} thread(s)): {spread([r['gflops'] for r in peaks[t]], 1)} GFLOP/s")
    for model in (MLP, LENET):
        total, fwd, wgrad, igrad = flops_per_sample(model)
        print(f"{model} FLOPs per sample: forward {fwd / 1e6:.4f} M + weight gradients {wgrad / 1e6:.4f} M + "
              f"input gradients (all layers but the first) {igrad / 1e6:.4f} M = {total / 1e6:.4f} MFLOP"
              + (f" (the issue's figure: {ISSUE_MFLOP} MFLOP)" if model == LENET else ""))
    print("GFLOP/s count those FLOPs only (not the optimizer step); ms are per batch")
    if mlp_rows:
        print()
        print(table(["step", "batch", "threads", "descent ms", "plain C ms", "torch ms",
                     f"descent / plain C (<= {PLAIN_TARGET})", "torch / descent (speed-up)", "descent GFLOP/s",
                     "of sgemm peak"], mlp_rows, args.markdown))
    if lenet_rows:
        total = flops_per_sample(LENET)[0]
        print()
        print(table(["step", "batch", "threads", "descent ms", "torch ms", f"descent / torch (<= {TORCH_TARGET})",
                     "descent GFLOP/s", f"of sgemm peak ({total / 1e6:.2f} MFLOP/sample)",
                     f"of sgemm peak (issue's {ISSUE_MFLOP} MFLOP/sample)"], lenet_rows, args.markdown))
    if not mlp_rows and not lenet_rows:
        print("no runs")
    print()
    print_warnings(warnings)


if __name__ == "__main__":
    main()
