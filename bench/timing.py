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
