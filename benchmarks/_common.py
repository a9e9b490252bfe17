"""Helpers shared by the benchmarks: interleaved timing, so that ratios are measured side by side."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def compare(fns: dict[str, Callable[[], object]], repeat: int = 5) -> dict[str, float]:
    """Median seconds of each function, run round-robin *repeat* times after one warm-up each.

    Interleaving puts every contender under the same machine load, which matters on a shared,
    noisy machine more than the number of runs does.
    """
    return {name: wall for name, (wall, _) in compare_cpu(fns, repeat).items()}


def compare_cpu(fns: dict[str, Callable[[], object]], repeat: int = 5) -> dict[str, tuple[float, float]]:
    """Like :func:`compare`, with the median CPU seconds of this process beside the wall-clock seconds:
    on a machine shared by many, the wall clock measures the others' load too."""
    for fn in fns.values():
        fn()
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            started, cpu = time.perf_counter(), time.process_time()
            fn()
            samples[name].append((time.perf_counter() - started, time.process_time() - cpu))
    return {name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
            for name, values in samples.items()}


def row(label: str, seconds: float, *ratios: tuple[str, float]) -> str:
    extra = "  ".join(f"{name} {value:6.2f}×" for name, value in ratios)
    return f"  {label:<36} {seconds * 1000:9.1f} ms  {extra}"
