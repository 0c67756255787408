#!/usr/bin/python3
"""PyTorch's optimizer step on one large float32 parameter, the peer of
`descent bench step` (see bench/run_optim.sh).

  /usr/bin/python3 bench/torch_optim.py --optimizer adam|adamw|momentum --size N --threads T
                                        [--seconds S] [--json]

Times optimizer.step() of
  adam      torch.optim.Adam([p], lr=1e-4, foreach=True)
  adamw     torch.optim.AdamW([p], lr=1e-4, weight_decay=0.01, foreach=True)
  momentum  torch.optim.SGD([p], lr=1e-4, momentum=0.9, foreach=True)
on one parameter of N elements whose .grad is set once (the gradient does not
change between steps, as in descent bench step and bench_fused_step). The
time is the median over steps (at least 10, at most 1000, about --seconds)
after three warm-up steps, under torch.no_grad().

What this measures: foreach=True is the multi-tensor implementation, the
fastest torch.optim offers these methods on CPU in torch 1.13 (fused=True is
CUDA only there). On CPU, torch 1.13's _foreach_* kernels are the per-tensor
fallback, so with a single tensor each step is a sequence of whole-array
ATen operations (each one a pass over memory, with temporaries), threaded
by ATen's intra-op OpenMP pool.

bytes_per_step and gbps count the same minimal traffic as descent and the
fused loop (Adam, AdamW: 28 bytes per parameter; momentum: 20), so the GB/s
of the three sides are comparable; torch itself moves more.
"""

import argparse
import json
import os
import sys

from timing import median_seconds  # bench/timing.py, beside this script


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--optimizer", default="adam", choices=["adam", "adamw", "momentum"])
    ap.add_argument("--size", type=lambda s: int(float(s)), default=10_000_000,
                    help="number of float32 parameters (1e7 also works)")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (default: torch's own choice)")
    ap.add_argument("--seconds", type=float, default=2.0, help="time budget of the measurement (default 2)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    if args.size < 1:
        ap.error(f"--size must be >= 1; got {args.size}")
    if args.threads < 0:
        ap.error(f"--threads must be >= 1; got {args.threads}")
    return args


def main():
    args = parse()
    if args.threads > 0:
        # Before torch is imported: its OpenMP pool reads these when it starts.
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    import torch

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    n = args.size

    # The values descent bench step and bench_fused_step start from.
    j = torch.arange(n, dtype=torch.int64)
    x = (j % 97).to(torch.float32).mul_(0.01).sub_(0.5)
    g = (j % 89).to(torch.float32).mul_(0.001).sub_(0.04)
    del j
    p = torch.nn.Parameter(x)
    p.grad = g

    if args.optimizer == "adam":
        opt = torch.optim.Adam([p], lr=1e-4, foreach=True)
        bytes_per_parameter = 28
        call = "torch.optim.Adam(lr=1e-4, foreach=True)"
    elif args.optimizer == "adamw":
        opt = torch.optim.AdamW([p], lr=1e-4, weight_decay=0.01, foreach=True)
        bytes_per_parameter = 28
        call = "torch.optim.AdamW(lr=1e-4, weight_decay=0.01, foreach=True)"
    else:
        opt = torch.optim.SGD([p], lr=1e-4, momentum=0.9, foreach=True)
        bytes_per_parameter = 20
        call = "torch.optim.SGD(lr=1e-4, momentum=0.9, foreach=True)"

    def step():
        with torch.no_grad():
            opt.step()

    seconds, samples = median_seconds(step, args.seconds)
    bytes_per_step = float(bytes_per_parameter) * n
    gbps = bytes_per_step / seconds / 1e9
    note = (f"{call} on a single float32 tensor: torch {torch.__version__}'s foreach path, whose CPU "
            f"_foreach_* kernels run per tensor (whole-array ATen ops); gbps counts the minimal "
            f"{bytes_per_parameter} bytes per parameter")
    if args.json:
        print(json.dumps({
            "optimizer": args.optimizer,
            "size": n,
            "threads": threads,
            "seconds_per_step": seconds,
            "steps_per_second": 1 / seconds,
            "bytes_per_step": bytes_per_step,
            "gbps": gbps,
            "samples": samples,
            "torch_version": torch.__version__,
            "note": note,
        }))
        return
    print(f"PyTorch {torch.__version__}, {args.optimizer} on {n} float parameters, "
          f"{threads} thread{'' if threads == 1 else 's'}")
    print(f"  step {seconds * 1e3:10.4f} ms  {1 / seconds:8.1f} steps/s  {bytes_per_step:10.3e} bytes  "
          f"{gbps:6.1f} GB/s  (median of {samples})")
    print(f"  ({note})")


if __name__ == "__main__":
    sys.exit(main())
