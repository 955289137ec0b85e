"""A 1M-element int8 constant: build, print (elided and full), re-parse.

Figures are medians of several runs in one process; no assertion, a report.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from xdsl.dialects.builtin import IntegerType, ModuleOp
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region

import ir
from ir.builders import const

RUNS = 5


def _median(fn) -> tuple[float, object]:
    times, result = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _module(op) -> ModuleOp:
    block = Block()
    block.add_ops([op, ReturnOp(op.output)])
    return ModuleOp([FuncOp("weights", ((), [op.output.type]), Region(block))])


def main() -> None:
    weights = np.random.default_rng(0).integers(-128, 128, 1_000_000).astype(np.int8)
    weights = weights.reshape(1000, 1000)
    t_build, op = _median(lambda: const(weights, IntegerType(8)))
    module = _module(op)
    t_elided, elided = _median(lambda: ir.print_module(module, elide_constants=True))
    t_full, full = _median(lambda: ir.print_module(module))
    t_parse_full, _ = _median(lambda: ir.parse_module(full))
    t_parse_elided, _ = _median(lambda: ir.parse_module(elided))
    print(f"1M-element int8 constant (median of {RUNS}):")
    print(f"  build from numpy      {t_build * 1e3:8.2f} ms")
    print(f"  print elided          {t_elided * 1e3:8.2f} ms  ({len(elided)} chars)")
    print(f"  print full            {t_full * 1e3:8.2f} ms  ({len(full) / 1e6:.1f} MB)")
    print(f"  parse full            {t_parse_full * 1e3:8.2f} ms")
    print(f"  parse elided          {t_parse_elided * 1e3:8.2f} ms")


if __name__ == "__main__":
    main()
