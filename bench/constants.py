"""A 1M-element int8 constant: build, print (elided and full), re-parse.

Figures are medians of several runs in one process; no assertion, a report.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import IntegerType, ModuleOp
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region

import ir
from bench.measure import timed
from bench.report import Results, Table
from ir.builders import const

RUNS = 5


def _module(op) -> ModuleOp:
    block = Block()
    block.add_ops([op, ReturnOp(op.output)])
    return ModuleOp([FuncOp("weights", ((), [op.output.type]), Region(block))])


def run(runs: int = RUNS, quick: bool = False) -> Results:
    weights = np.random.default_rng(0).integers(-128, 128, 1_000_000).astype(np.int8)
    weights = weights.reshape(1000, 1000)
    build = timed(lambda: const(weights, IntegerType(8)), runs)
    module = _module(build.result)
    elided = timed(lambda: ir.print_module(module, elide_constants=True), runs)
    full = timed(lambda: ir.print_module(module), runs)
    table = Table(f"1M-element int8 constant (median of {runs})", ("step", "ms", "size"))
    table.add("build from numpy", f"{build.median * 1e3:.2f}", "")
    table.add("print elided", f"{elided.median * 1e3:.2f}", f"{len(elided.result)} chars")
    table.add("print full", f"{full.median * 1e3:.2f}", f"{len(full.result) / 1e6:.1f} MB")
    table.add(
        "parse full", f"{timed(lambda: ir.parse_module(full.result), runs).median * 1e3:.2f}", ""
    )
    table.add(
        "parse elided",
        f"{timed(lambda: ir.parse_module(elided.result), runs).median * 1e3:.2f}",
        "",
    )
    return Results([table])


def main() -> None:
    from bench.report import render

    print(render(run()))


if __name__ == "__main__":
    main()
