"""``tosa-ir debug MODEL``: which op loses accuracy, as a table and an annotated dump.

``tosa-ir debug path/model.py:Factory [--spec SPEC] [--uint8-io] [--quantization Q]
[--module edited.mlir] [--inputs SHAPE ...] --out DIR`` runs ``drivers.debug``: every TOSA
op's output against the quantized and the float torch model. It prints the table and
writes ``DIR/debug.txt`` (the same table) and ``DIR/<partition>.debug.mlir``: the review
dump with Vela's placement and each op's error on the comment line above it
(``// NPU 1437 cycles; err max 3 LSB, 97.2% <= 1 LSB``).

It is ``tosa-ir compile``'s sibling and reuses its pieces (``drivers.cli``): the model
convention and loader, ``CliError`` with its exit codes (1 for a failing step, 2 for bad
input), the progress bar, whole-file writes. Nothing is written unless the whole run
succeeds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from drivers.common import (
    EXIT_USAGE,
    EXIT_VIOLATION,
    MODEL_CONVENTION,
    CliError,
    Progress,
    _checked_spec,
    _first_line,
    _quiet,
    _stage,
    _vela,
    add_model_arguments,
    load_model,
    read_module,
)
from ir.defaults import DEFAULT_ACCELERATOR
from ir.files import write_atomically

REPORT_NAME = "debug.txt"


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "debug",
        help="find the op that loses accuracy: each TOSA op against the torch models",
        description="Quantize and lower MODEL as 'compile' does, run each partition on the "
        "TOSA reference model with every intermediate tensor as an output, and compare "
        "each op's output with the quantized (Q/DQ) and the float torch model at the node "
        "it came from. Prints the table; writes DIR/debug.txt and "
        "DIR/<partition>.debug.mlir (the review dump, each op's error beside Vela's "
        "placement).",
        epilog=MODEL_CONVENTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_arguments(parser, "path/to/model.py:Factory")
    parser.add_argument(
        "--quantization",
        default="8a8w",
        choices=("8a8w", "16a8w"),
        help="8a8w (default) or 16a8w (int16 activations; the spec needs +int16)",
    )
    parser.add_argument(
        "--module",
        type=Path,
        metavar="FILE",
        help="run this module (.mlir of the first partition, any stage, e.g. an edited "
        "dump; or .tosa) instead of the pipeline's final stage",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--accelerator",
        default=DEFAULT_ACCELERATOR,
        help=f"Ethos-U configuration for Vela's placement (default {DEFAULT_ACCELERATOR})",
    )
    parser.add_argument(
        "--progress", action="store_true", help="progress bar even when not on a terminal"
    )


def debug_model(args: argparse.Namespace, progress: Progress) -> str:
    """The whole ``debug`` command; returns the table (also in ``DIR/debug.txt``)."""
    target = _checked_spec(args.spec, args.model, "--spec")
    if args.uint8_io and "PRO-INT" not in target.profiles:
        raise CliError(EXIT_USAGE, f"error: --uint8-io needs an integer spec, not {args.spec}")
    if args.out.exists() and not args.out.is_dir():
        raise CliError(EXIT_USAGE, f"{args.out}: error: --out must be a folder, this is a file")
    module = read_module(args.module) if args.module is not None else None  # before the slow part
    loaded = load_model(args.model, args.inputs)
    progress.total = 6

    from drivers.debug import capture, evaluate

    with _quiet():
        captured = _stage(
            "lowering",
            lambda: capture(
                loaded.model,
                loaded.inputs,
                spec=target,
                uint8_io=args.uint8_io,
                quantization=args.quantization,
                on_step=progress.step,
            ),
        )
    progress.total += len(captured.partitions) - 1
    report = _evaluate(evaluate, captured, module, args, progress)
    progress.step("Vela (placement)")
    dumps = {name: _review(args, report, index) for index, name in enumerate(report.names)}
    text = f"tosa-ir debug {args.model} ({args.spec}, {_io(args, target)})\n" + report.format()
    _write(args.out, text, dumps)
    _write_overlays(args.out, report)
    return text


def _io(args, target) -> str:
    if args.uint8_io:
        return "uint8 IO"
    return f"int IO, {args.quantization}" if "PRO-INT" in target.profiles else "float IO"


def _evaluate(evaluate, captured, module, args, progress: Progress):
    """The comparison; a module the reference model refuses, or one whose IO is not
    the partition's, is one line (exit 1)."""
    from runtime import ReferenceModelError

    label = str(args.module) if args.module is not None else args.model
    try:
        return evaluate(captured, module=module, on_step=progress.step)
    except ReferenceModelError as err:
        raise CliError(
            EXIT_VIOLATION, f"{label}: error: reference model: {_first_line(err)}"
        ) from None
    except ValueError as err:
        raise CliError(EXIT_VIOLATION, f"{label}: error: {_first_line(err)}") from None


def _review(args, report, index: int) -> str:
    """The module that ran, as a review dump: constants elided, locations, Vela's
    placement and the op's error on the comment line above each op."""
    from ir.review import annotate, placement_by_name
    from tosa_flatbuffer import FlatbufferError, to_checked_flatbuffer

    module = report.modules[index]
    try:
        vela, _ = _vela(to_checked_flatbuffer(module), args.accelerator)
    except FlatbufferError:
        vela = None
    placement = placement_by_name(vela.summary.placement) if vela is not None else {}
    where = f"Vela {args.accelerator} placement and " if vela is not None else ""
    header = (
        f"// {report.names[index]} of {args.model} ({args.spec}): {where}each op's error "
        "vs the quantized torch model as comments\n"
    )
    return header + annotate(module, placement, report.annotations(index))


def _write(out: Path, text: str, dumps: dict[str, str]) -> None:
    try:
        for name, dump in dumps.items():
            write_atomically(out / f"{name}.debug.mlir", dump)
        write_atomically(out / REPORT_NAME, text)
    except OSError as err:
        raise CliError(
            EXIT_USAGE, f"{err.filename or out}: error: cannot write: {err.strerror}"
        ) from None


def _write_overlays(out: Path, report) -> None:
    """``<partition>.error.json`` per partition: each op's error as Model Explorer node
    data (``tosa-ir view``)."""
    from drivers.explorer.overlays import write_debug_overlays

    try:
        write_debug_overlays(out, report)
    except OSError as err:
        raise CliError(
            EXIT_USAGE, f"{err.filename or out}: error: cannot write: {err.strerror}"
        ) from None
