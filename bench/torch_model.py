#!/usr/bin/python3
"""PyTorch's training batch of the models `descent bench model` times, its peer
(see bench/run_model.sh).

  /usr/bin/python3 bench/torch_model.py --model mlp:784-256-128-10|cnn:lenet --batch-size B
                                        [--optimizer adam|adamw|momentum|sgd] [--threads T]
                                        [--openblas-threads N] [--seconds S] [--json]

The models, float32, as descent builds them from the same spec:
  mlp:784-256-128-10  Linear(784, 256) ReLU Linear(256, 128) ReLU Linear(128, 10)
  cnn:lenet           input 1x28x28: Conv2d(1, 6, 5, padding=2) ReLU MaxPool2d(2)
                      Conv2d(6, 16, 5) ReLU MaxPool2d(2) Flatten Linear(400, 120) ReLU
                      Linear(120, 10)
each with softmax cross-entropy (F.cross_entropy, the mean over the batch)
on random normal inputs and random class labels. One timed batch is

  optimizer.zero_grad(set_to_none=False)   # zero the gradients in place, as
                                           # descent zeroes its gradient vector
  loss = F.cross_entropy(model(x), y)
  loss.backward()
  optimizer.step()                         # only with --optimizer

with lr 1e-4 (descent bench model's), optimizers with foreach=True as in
bench/torch_optim.py: adam torch.optim.Adam, adamw AdamW(weight_decay=0.01),
momentum SGD(momentum=0.9), sgd SGD. The time is the median over batches
(at least 10, at most 1000, about --seconds) after three warm-up batches: the
policy of descent bench model. The input needs no gradient, so autograd skips
the first layer's input gradient, as descent does.

Threads: torch.set_num_threads(T) sizes ATen's OpenMP pool. Debian's torch
does its matrix products in OpenBLAS (BLAS_INFO=generic: libblas.so.3, the
pthread OpenBLAS), whose own thread pool is separate and by default as large
as the machine. Both pools on the same cores fight: OpenMP's workers spin
while OpenBLAS's threads want the cores, and on the 2-core development VM a
batch of the MLP at 2 threads took 4 to 12 ms (bimodal, run to run) against
1.6 ms with OpenBLAS on one thread, LeNet's 3.5 to 10 ms against a steady
4.1 ms. So --openblas-threads (default 1) sets OPENBLAS_NUM_THREADS before
torch loads: T threads in all, the matrix products on one of them, the
fastest steady setting found; --openblas-threads 0 leaves OpenBLAS's default
(or an OPENBLAS_NUM_THREADS already set) alone.

Needs Debian's python3-torch (1.13); only the benchmarks use it.
"""

import argparse
import json
import os
import sys

from timing import median_seconds  # bench/timing.py, beside this script

MODELS = ("mlp:784-256-128-10", "cnn:lenet")
OPTIMIZERS = ("adam", "adamw", "momentum", "sgd")


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=MODELS[0], choices=MODELS)
    ap.add_argument("--batch-size", type=int, default=128, help="samples per batch (default 128)")
    ap.add_argument("--optimizer", default=None, choices=OPTIMIZERS, help="also time this optimizer's step")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (default: torch's own choice)")
    ap.add_argument("--openblas-threads", type=int, default=1,
                    help="OPENBLAS_NUM_THREADS for torch's matrix products (default 1; 0: leave it alone)")
    ap.add_argument("--seconds", type=float, default=2.0, help="time budget of the measurement (default 2)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    if args.batch_size < 1:
        ap.error(f"--batch-size must be >= 1; got {args.batch_size}")
    if args.threads < 0:
        ap.error(f"--threads must be >= 1; got {args.threads}")
    if args.openblas_threads < 0:
        ap.error(f"--openblas-threads must be >= 0; got {args.openblas_threads}")
    return args


def build(torch, spec):
    """(model, input shape of one sample)."""
    nn = torch.nn
    if spec == "mlp:784-256-128-10":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                             nn.Linear(128, 10)), (784,)
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 10)), (1, 28, 28)


def make_optimizer(torch, name, params):
    if name == "adam":
        return torch.optim.Adam(params, lr=1e-4, foreach=True)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01, foreach=True)
    if name == "momentum":
        return torch.optim.SGD(params, lr=1e-4, momentum=0.9, foreach=True)
    return torch.optim.SGD(params, lr=1e-4, foreach=True)


def main():
    args = parse()
    if args.threads > 0:
        # Before torch is imported: its OpenMP pool reads these when it starts.
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    if args.openblas_threads > 0:
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.openblas_threads)
    openblas_threads = os.environ.get("OPENBLAS_NUM_THREADS")  # None: OpenBLAS's default, all cores
    import torch
    import torch.nn.functional as F

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    torch.manual_seed(7)

    model, shape = build(torch, args.model)
    model = model.to(torch.float32).train()
    parameters = sum(p.numel() for p in model.parameters())
    n = args.batch_size
    x = torch.randn(n, *shape, dtype=torch.float32)
    y = torch.randint(0, 10, (n,), dtype=torch.int64)
    opt = make_optimizer(torch, args.optimizer, model.parameters()) if args.optimizer else None

    def batch():
        if opt is not None:
            opt.zero_grad(set_to_none=False)
        else:
            model.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        if opt is not None:
            opt.step()

    seconds, samples = median_seconds(batch, args.seconds)
    ms, rate = seconds * 1e3, n / seconds
    if args.json:
        print(json.dumps({
            "library": "torch",
            "model": args.model,
            "batch_size": n,
            "threads": threads,
            "optimizer": args.optimizer,
            "parameters": parameters,
            "ms_per_batch": ms,
            "samples_per_second": rate,
            "samples": samples,
            "openblas_threads": None if openblas_threads is None else int(openblas_threads),
            "torch_version": torch.__version__,
        }))
        return
    print(f"PyTorch {torch.__version__}, {args.model} ({parameters} parameters), batch {n}, {threads} "
          f"thread{'' if threads == 1 else 's'}{', step ' + args.optimizer if args.optimizer else ''}, "
          f"OpenBLAS threads {openblas_threads or 'default'}")
    print(f"  {ms:.4f} ms per batch, {rate:.0f} samples/s  (median of {samples})")


if __name__ == "__main__":
    sys.exit(main())
