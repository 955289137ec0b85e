"""Run the benchmarks and print one report: ``python -m bench [PART ...] [--quick]``.

Parts: ``executorch`` (the IR path against ExecuTorch's visitors + serializer on real
models), ``scale`` (synthetic 150/1k/10k-op and 100 MB modules), ``text`` (print/parse
against tosa-opt), ``constants`` (a 1M-element constant); all of them by default.
``--quick`` takes fewer runs and skips the 10k-op and 100 MB modules: a smoke run.
The report is printed and written as markdown to ``out/bench/results.md``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

from bench.report import Results, markdown, render

#: part name -> module with ``run(runs, quick) -> Results``, in report order
PARTS = {
    "executorch": "bench.vs_executorch",
    "scale": "bench.scale",
    "text": "bench.text",
    "constants": "bench.constants",
}
RUNS, QUICK_RUNS = 5, 2
RESULTS = Path("out/bench/results.md")


def machine() -> str:
    """The machine and how busy it was: on a shared 2-core box the load moves the figures."""
    import os

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"load average {load}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "parts", nargs="*", metavar="PART", help=f"any of {', '.join(PARTS)} (default: all)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer runs, no 10k-op or 100 MB module"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help=f"markdown report (default {RESULTS})"
    )
    args = parser.parse_args(argv)
    unknown = [p for p in args.parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}: choose from {', '.join(PARTS)}")
    parts = args.parts or list(PARTS)
    runs = QUICK_RUNS if args.quick else RUNS

    import importlib

    results, start, machine_before = Results(), time.perf_counter(), machine()
    for part in parts:
        print(f"[bench] {part} ...", file=sys.stderr, flush=True)
        results.extend(importlib.import_module(PARTS[part]).run(runs, args.quick))
    print(render(results))
    command = (
        "python -m bench"
        + "".join(f" {p}" for p in args.parts)
        + (" --quick" if args.quick else "")
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        markdown(
            results,
            f"{machine_before} (at the start; {machine().split('load average ')[1]} at the end)",
            command,
        )
    )
    print(f"[bench] {time.perf_counter() - start:.0f} s; written {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
