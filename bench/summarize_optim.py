#!/usr/bin/python3
"""The closing summary of bench/run_optim.sh, from the JSON lines it wrote.

  summarize_optim.py RESULTS/optim.jsonl [--markdown]

Each line is one run: "side" is descent (descent bench step --json), fused
(bench_fused_step --json) or torch (bench/torch_optim.py --json), with
"repeat", optimizer, size, threads, seconds_per_step, steps_per_second,
bytes_per_step and gbps; a "machine" line records the CPU and the load.

For each optimizer, size and thread count the table gives medians over the
repeats (with min-max where there are several):
  descent GB/s, fused GB/s   the bytes the update must move (28 per parameter
                             for Adam and AdamW, 20 for momentum) per second
  descent / fused            target >= 0.90: descent at the hand-written roofline
  torch, descent steps/s     optimizer steps per second
  speed-up over torch        target >= 5 for Adam and AdamW (the issue's target
                             is PyTorch's Adam); for momentum it is reported only
  triad GB/s                 descent bench step's STREAM triad, same size and threads
The ratios are medians of the per-repeat ratios (the sides of one repeat ran
one after the other, so drifts in the machine's speed cancel), or ratios of
the medians where the repeats do not pair up.
"""

import statistics
from collections import defaultdict

from summarize import print_warnings, results_args, size, spread, table  # bench/summarize.py, beside this script

FUSED_TARGET = 0.90
TORCH_TARGET = 5.0
TORCH_TARGET_APPLIES = {"adam", "adamw"}


def paired_ratio(top, bottom, key):
    """Median of top/bottom over the repeats both sides have, else the ratio of the medians."""
    a = {r["repeat"]: r[key] for r in top if "repeat" in r}
    b = {r["repeat"]: r[key] for r in bottom if "repeat" in r}
    common = sorted(set(a) & set(b))
    if common:
        return statistics.median(a[k] / b[k] for k in common)
    if top and bottom:
        return statistics.median(r[key] for r in top) / statistics.median(r[key] for r in bottom)
    return None


def verdict(ratio, target, digits):
    if ratio is None:
        return "-"
    return f"{ratio:.{digits}f} {'ok' if ratio >= target else 'MISS'}"


def main():
    args, runs, machine = results_args(__doc__, "optim.jsonl", "run_optim.sh")

    groups = defaultdict(lambda: defaultdict(list))  # (optimizer, size, threads) -> side -> runs
    warnings = []
    order = {"adam": 0, "adamw": 1, "momentum": 2}
    for r in runs:
        key = (r["optimizer"], int(r["size"]), int(r.get("requested_threads", r["threads"])))
        groups[key][r["side"]].append(r)

    rows = []
    for key in sorted(groups, key=lambda k: (order.get(k[0], 99), k[0], k[1], k[2])):
        opt, n, t = key
        sides = groups[key]
        d, fz, tc = sides.get("descent", []), sides.get("fused", []), sides.get("torch", [])
        for name, rs in (("descent", d), ("fused", fz), ("torch", tc)):
            if not rs:
                warnings.append(f"{opt}, {size(n)}, {t} thread(s): no {name} run")
            if any(int(r["threads"]) != t for r in rs):
                warnings.append(f"{opt}, {size(n)}, {t} thread(s): {name} ran with "
                                f"{sorted({int(r['threads']) for r in rs})} threads")
        # The three sides must count the same bytes for their GB/s to compare.
        counted = {name: rs[0]["bytes_per_step"] for name, rs in (("descent", d), ("fused", fz), ("torch", tc)) if rs}
        if len(set(counted.values())) > 1:
            warnings.append(f"{opt}, {size(n)}: the sides count different bytes per step: {counted}")
        to_fused = paired_ratio(d, fz, "gbps")
        to_torch = paired_ratio(d, tc, "steps_per_second")
        if to_fused is not None and to_fused < FUSED_TARGET:
            warnings.append(f"{opt}, {size(n)}, {t} thread(s): descent at {to_fused:.2f} of the fused loop's "
                            f"GB/s (target {FUSED_TARGET:.2f})")
        torch_target = opt in TORCH_TARGET_APPLIES
        if torch_target and to_torch is not None and to_torch < TORCH_TARGET:
            warnings.append(f"{opt}, {size(n)}, {t} thread(s): descent {to_torch:.1f}x PyTorch's steps/s "
                            f"(target {TORCH_TARGET:g}x)")
        rows.append([opt, size(n), t,
                     spread([r["gbps"] for r in d], 1),
                     spread([r["gbps"] for r in fz], 1),
                     verdict(to_fused, FUSED_TARGET, 2),
                     spread([r["steps_per_second"] for r in tc], 1),
                     spread([r["steps_per_second"] for r in d], 1),
                     verdict(to_torch, TORCH_TARGET, 1) if torch_target
                     else ("-" if to_torch is None else f"{to_torch:.1f}"),
                     spread([r["triad_gbps"] for r in d if "triad_gbps" in r], 1)])

    for m in machine:
        print(f"machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, kernel {m.get('kernel', '?')}; "
              f"load average before the runs {m.get('load_before', '?')}; {m.get('repeats', '?')} repeat(s) of "
              f"{m.get('step_seconds', '?')} s")
    versions = sorted({r["torch_version"] for r in runs if "torch_version" in r})
    if versions:
        print(f"PyTorch {', '.join(versions)}: torch.optim with foreach=True on one float32 tensor (on CPU its "
              f"_foreach_* kernels run per tensor: whole-array ATen ops)")
    if not rows:
        print("no runs")
        return
    print("GB/s count the bytes the update must move (Adam, AdamW: 28 per parameter; momentum: 20); "
          "10^7 parameters fit in a large L3, 10^8 do not")
    print()
    print(table(["optimizer", "size", "threads", "descent GB/s", "fused GB/s",
                 f"descent / fused (>= {FUSED_TARGET:.2f})", "torch steps/s", "descent steps/s",
                 f"descent / torch (>= {TORCH_TARGET:g})", "triad GB/s"], rows, args.markdown))
    print()
    print_warnings(warnings)


if __name__ == "__main__":
    main()
