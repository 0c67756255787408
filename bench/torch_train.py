#!/usr/bin/python3
"""PyTorch's side of the training benchmark (see bench/run_train.sh): the
recipe of

  descent train --data fashion-mnist --model mlp:784-256-128-10 --optimizer adam --lr 0.001 \\
    --epochs E --batch-size 128 --seed 1 --threads T --json

in PyTorch, reporting the same fields.

  /usr/bin/python3 bench/torch_train.py [--model mlp:784-256-128-10|cnn:lenet] [--epochs E]
                                        [--batch-size B] [--optimizer adam] [--lr LR] [--seed S] [--threads T]
                                        [--openblas-threads N] [--limit N] [--data-dir DIR] [--json]

Data: the Fashion-MNIST IDX files of Debian's dataset-fashion-mnist
(/usr/share/datasets/fashion-mnist), read with gzip and numpy, pixels / 255
in float32 as descent's loader scales them; --limit N trains on the first N
of the 60,000 training images (the test figures always use the 10,000 test
images). Everything is in memory before the clock starts.

Model: bench/torch_model.py's (Linear 784-256, ReLU, 256-128, ReLU, 128-10;
or LeNet), float32, PyTorch's default initialization seeded with --seed;
softmax cross-entropy (the mean over the batch); torch.optim.Adam(lr,
foreach=True); zero_grad(set_to_none=False) as in torch_model.py.

Training: each epoch draws a permutation from a torch.Generator seeded with
--seed and takes batches of --batch-size in that order, the last one
partial (ceil(N / B) steps an epoch, as descent takes them). samples_per_second
is the samples of all epochs over the seconds of all epochs: the shuffle,
the batch gathers, forward, backward and the optimizer step; not the data
loading nor the test evaluation. train_loss is the mean training loss of the
last epoch; test_loss and test_accuracy come from the test images after the
last epoch, in eval mode without gradients.

Threads: as bench/torch_model.py, torch.set_num_threads(T) with OpenBLAS,
which does Debian torch's matrix products, on --openblas-threads (default 1:
its pool fights the OpenMP pool; 0 leaves OpenBLAS's default).

load_fashion_mnist() is shared with bench/scipy_logistic.py.
"""

import argparse
import gzip
import json
import os
import sys
import time

from timing import import_torch  # bench/timing.py, beside this script
from torch_model import build  # bench/torch_model.py: the same models as the model benchmark

MODELS = ("mlp:784-256-128-10", "cnn:lenet")
DATA_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path, magic, rank):
    """The array of one IDX file (gzip or raw): uint8 of shape [count, ...]."""
    import numpy as np
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    got = int.from_bytes(data[:4], "big")
    if got != magic:
        raise ValueError(f"{path}: IDX magic 0x{got:08x}, expected 0x{magic:08x}")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    offset = 4 + 4 * rank
    count = 1
    for d in dims:
        count *= d
    if len(data) - offset != count:
        raise ValueError(f"{path}: {len(data) - offset} bytes of data, dimensions {dims} need {count}")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def load_fashion_mnist(directory, part, limit=0):
    """(images float32 [N, 784] in [0, 1], labels int64 [N]) of part "train" or "t10k"; limit > 0: the first N.

    Pixels are float32(b) / 255 in float32, the values descent's IDX loader gives."""
    import numpy as np

    def path(kind, idx):
        for name in (f"{part}-{kind}-{idx}-ubyte.gz", f"{part}-{kind}-{idx}-ubyte"):
            p = os.path.join(directory, name)
            if os.path.exists(p):
                return p
        sys.exit(f"no {part}-{kind}-{idx}-ubyte[.gz] in {directory} (apt-get install dataset-fashion-mnist)")

    images = read_idx(path("images", "idx3"), 0x00000803, 3)
    labels = read_idx(path("labels", "idx1"), 0x00000801, 1)
    if images.shape[0] != labels.shape[0]:
        sys.exit(f"{directory}: {images.shape[0]} {part} images but {labels.shape[0]} labels")
    if limit > 0:
        images, labels = images[:limit], labels[:limit]
    x = images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(255)
    return x, labels.astype(np.int64)


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=MODELS[0], choices=MODELS)
    ap.add_argument("--epochs", type=int, default=5, help="passes over the training set (default 5)")
    ap.add_argument("--batch-size", type=int, default=128, help="samples per step (default 128)")
    ap.add_argument("--optimizer", default="adam", choices=("adam",), help="torch.optim.Adam (the only one)")
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate (default 1e-3)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the initialization and the shuffles (default 1)")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (default: torch's own choice)")
    ap.add_argument("--openblas-threads", type=int, default=1,
                    help="OPENBLAS_NUM_THREADS for torch's matrix products (default 1; 0: leave it alone)")
    ap.add_argument("--limit", type=int, default=0, help="train on the first N training images (default: all)")
    ap.add_argument("--data-dir", default=DATA_DIR, help=f"the IDX files (default {DATA_DIR})")
    ap.add_argument("--json", action="store_true", help="print one JSON object (the epoch lines go to stderr)")
    args = ap.parse_args()
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be >= 1; got {getattr(args, name)}")
    for name in ("threads", "openblas_threads", "limit"):
        if getattr(args, name) < 0:
            ap.error(f"--{name.replace('_', '-')} must be >= 0; got {getattr(args, name)}")
    return args


def main():
    args = parse()
    torch, openblas_threads = import_torch(args.threads, args.openblas_threads)
    import torch.nn.functional as F

    threads = torch.get_num_threads()
    x_train, y_train = load_fashion_mnist(args.data_dir, "train", args.limit)
    x_test, y_test = load_fashion_mnist(args.data_dir, "t10k")
    torch.manual_seed(args.seed)
    model, shape = build(torch, args.model)
    model = model.to(torch.float32).train()
    parameters = sum(p.numel() for p in model.parameters())
    x = torch.from_numpy(x_train).reshape(-1, *shape)
    y = torch.from_numpy(y_train)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, foreach=True)
    generator = torch.Generator().manual_seed(args.seed)
    n, batch = x.shape[0], min(args.batch_size, x.shape[0])
    log = sys.stderr if args.json else sys.stdout

    steps, epoch_rates, train_loss = 0, [], float("nan")
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        epoch_start = time.perf_counter()
        order = torch.randperm(n, generator=generator)
        loss_sum = 0.0
        for first in range(0, n, batch):
            rows = order[first:first + batch]
            xb, yb = x.index_select(0, rows), y.index_select(0, rows)
            opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * rows.numel()
            steps += 1
        epoch_seconds = time.perf_counter() - epoch_start
        train_loss = loss_sum / n
        epoch_rates.append(n / epoch_seconds)
        print(f"epoch {epoch:>3}  loss {train_loss:.4f}  {n / epoch_seconds:.0f} samples/s  "
              f"{time.perf_counter() - start:.1f} s", file=log, flush=True)
    seconds = time.perf_counter() - start

    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(x_test).reshape(-1, *shape))
        labels = torch.from_numpy(y_test)
        test_loss = float(F.cross_entropy(logits, labels))
        test_accuracy = float((logits.argmax(dim=1) == labels).to(torch.float64).mean())

    result = {
        "library": "torch",
        "model": args.model,
        "optimizer": args.optimizer,
        "lr": args.lr,
        "batch_size": batch,
        "epochs": args.epochs,
        "steps": steps,
        "seed": args.seed,
        "threads": threads,
        "openblas_threads": openblas_threads,
        "parameters": parameters,
        "train_rows": n,
        "train_loss": train_loss,
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "samples_per_second": n * args.epochs / seconds,
        "epoch_samples_per_second": epoch_rates,
        "seconds": seconds,
        "torch_version": torch.__version__,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"PyTorch {torch.__version__}, {args.model} ({parameters} parameters), {n} training samples, batch "
          f"{batch}, Adam lr {args.lr}, {threads} thread{'' if threads == 1 else 's'}, OpenBLAS threads "
          f"{openblas_threads or 'default'}")
    print(f"  {args.epochs} epochs ({steps} steps) in {seconds:.2f} s: {result['samples_per_second']:.0f} samples/s; "
          f"train loss {train_loss:.4f}; test loss {test_loss:.4f}, accuracy {test_accuracy:.4f}")


if __name__ == "__main__":
    sys.exit(main())
