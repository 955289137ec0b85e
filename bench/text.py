"""Part 3: text. Print and parse of the MobileNetV2 INT dump and of the 10k-op module,
against ``tosa-opt`` reading and printing the same text.

``tosa-opt`` runs as a subprocess on the round-trip text (stdin to stdout); its time is
the whole call, process start included, with nothing subtracted. Ours: ``print_module``
(round-trip and review) and ``parse_module`` (which verifies the structure), in process.
"""

from __future__ import annotations

import statistics
import time

from bench.measure import timed
from bench.models import capture, models
from bench.report import Results, Table, Target
from bench.synthetic import blocks_for_ops, op_count, synthetic_module

REVIEW_PRINT_SECONDS = 0.1
PARSE_10K_SECONDS = 1.0


def tosa_opt_seconds(text: str) -> float:
    """Wall time of one ``tosa-opt`` parse + print of ``text`` (process start included)."""
    from ir.mlir_tools import run_tosa_opt

    start = time.perf_counter()
    run_tosa_opt(text)
    return time.perf_counter() - start


def _module_rows(label: str, module, runs: int, table: Table) -> dict[str, float]:
    import ir

    text = ir.print_module(module)
    figures = {
        "print review": timed(lambda: ir.print_module(module, elide_constants=True), runs).median,
        "print": timed(lambda: ir.print_module(module), runs).median,
        "parse": timed(lambda: ir.parse_module(text), runs).median,
        "tosa-opt": statistics.median(tosa_opt_seconds(text) for _ in range(runs)),
    }
    table.add(
        label,
        op_count(module),
        f"{len(text) / 1e6:.2f} MB",
        *(f"{figures[k]:.3f}" for k in ("print review", "print", "parse", "tosa-opt")),
        f"{(figures['print'] + figures['parse']) / figures['tosa-opt']:.1f}",
    )
    return figures


def run(runs: int, quick: bool) -> Results:
    from bench.vs_executorch import ir_import

    table = Table(
        "Text: ours vs tosa-opt (median seconds)",
        (
            "module",
            "ops",
            "text",
            "print review",
            "print",
            "parse",
            "tosa-opt parse+print",
            "(print+parse) / tosa-opt",
        ),
    )
    mv2 = models(quick)[0]
    partition = capture(mv2).partitions[0]
    results = Results([table])
    # the typed stage with ExecuTorch's constant per use, the module of the earlier figures
    typed = ir_import(partition, mv2.spec, as_ir_path=False)
    figures = _module_rows(mv2.name, typed, runs, table)
    results.targets.append(
        Target(
            f"review print, {mv2.name}",
            f"<= {REVIEW_PRINT_SECONDS} s",
            f"{figures['print review']:.3f} s",
            figures["print review"] <= REVIEW_PRINT_SECONDS,
        )
    )
    if not quick:
        figures = _module_rows(
            "synthetic 10k ops", synthetic_module(blocks_for_ops(10_000)), runs, table
        )
        results.targets.append(
            Target(
                "parse, 10k-op module",
                f"<= {PARSE_10K_SECONDS} s",
                f"{figures['parse']:.3f} s",
                figures["parse"] <= PARSE_10K_SECONDS,
            )
        )
    table.notes.append(
        "tosa-opt: one subprocess call each (process start included, nothing subtracted) on the "
        "round-trip text"
    )
    return results
