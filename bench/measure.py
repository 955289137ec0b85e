"""Timing and memory of one call: medians of several runs, peaks of one extra run.

Time is ``time.perf_counter`` around the call alone (its input built beforehand by
``setup``, outside the clock), with the cyclic garbage collector off during the call as
``timeit`` does: a collection costs in proportion to everything the process holds
(captured torch graphs, other modules), not to the call. Memory is measured in a
separate run, because tracing allocations slows Python code down: the peak of
``tracemalloc`` during the call, counting only what the call allocates (Python objects,
``bytes``, numpy buffers; not C/C++ heaps such as ExecuTorch's ``tosa_serializer``).
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    median: float  # seconds
    runs: int
    result: Any = None


def _no_setup() -> tuple:
    return ()


def timed(fn: Callable, runs: int, setup: Callable[[], tuple] = _no_setup) -> Timing:
    """Median wall time of ``fn(*setup())`` over ``runs`` calls; a fresh input each run."""
    times, result = [], None
    for _ in range(runs):
        args = setup()
        seconds, result = _clocked(fn, *args)
        times.append(seconds)
        del args
    return Timing(statistics.median(times), runs, result)


def _clocked(fn: Callable, *args) -> tuple[float, Any]:
    """Wall seconds of one call, garbage collected before and not during it."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = fn(*args)
        return time.perf_counter() - start, result
    finally:
        gc.enable()


def timed_alternating(fns: dict[str, Callable], runs: int) -> dict[str, Timing]:
    """Median wall time of each of ``fns``, their runs interleaved (a, b, a, b, ...) so
    that a neighbour's load on a shared machine falls on both alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, Any] = {}
    for _ in range(runs):
        for name, fn in fns.items():
            seconds, results[name] = _clocked(fn)
            times[name].append(seconds)
    return {name: Timing(statistics.median(t), runs, results[name]) for name, t in times.items()}


def peak_memory(fn: Callable, setup: Callable[[], tuple] = _no_setup) -> int:
    """Peak bytes traced during one call of ``fn(*setup())``, above what existed before."""
    args = setup()
    gc.collect()
    tracemalloc.start()
    try:
        result = fn(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result, args
    return peak


def mb(n: int | None) -> str:
    """Bytes as MB (kB below one MB), ``n/a`` for None."""
    if n is None:
        return "n/a"
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"
