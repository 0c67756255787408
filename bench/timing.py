"""Timing shared by the Python sides of the benchmarks (imported, not run)."""
import time


def median_seconds(run, budget):
    """Median seconds of run() over 10 to 1000 calls (about budget seconds), after 3 warm-ups.

    The upper median for an even count, as descent's `bench` subcommands take it,
    so that both sides report the same statistic. Returns (seconds, calls)."""
    for _ in range(3):
        run()
    samples = []
    begin = time.perf_counter()
    while len(samples) < 1000:
        t0 = time.perf_counter()
        run()
        t1 = time.perf_counter()
        samples.append(t1 - t0)
        if len(samples) >= 10 and t1 - begin > budget:
            break
    return sorted(samples)[len(samples) // 2], len(samples)


def import_torch(threads, openblas_threads):
    """Imports torch with its thread pools sized as bench/torch_model.py sizes them (see its docstring).

    threads > 0: OMP_NUM_THREADS and MKL_NUM_THREADS before the import, torch.set_num_threads after;
    openblas_threads > 0: OPENBLAS_NUM_THREADS, for the matrix products Debian's torch does in
    OpenBLAS (0 leaves OpenBLAS's default, or a value already set, alone). Call it before anything
    imports torch. Returns (torch, OPENBLAS_NUM_THREADS as an int, or None for OpenBLAS's default)."""
    import os
    if threads > 0:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)
    if openblas_threads > 0:
        os.environ["OPENBLAS_NUM_THREADS"] = str(openblas_threads)
    openblas = os.environ.get("OPENBLAS_NUM_THREADS")
    import torch
    if threads > 0:
        torch.set_num_threads(threads)
    return torch, None if openblas is None else int(openblas)
