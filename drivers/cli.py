"""The command-line tools: ``tosa-ir-opt`` (the IR's ``mlir-opt``) and ``tosa-ir compile``.

``tosa-ir-opt FILE.mlir|FILE.tosa [-p PIPELINE] [--verify SPEC | --no-verify]
[-o OUT.mlir|OUT.tosa] [--print-ir-after-each DIR] [--review]`` reads MLIR text or a TOSA
flatbuffer, runs a pass pipeline (``ir.lowering.pipeline``; none by default, which makes
it a converter and a verifier) and writes text or a flatbuffer by the output's suffix.
It imports neither torch nor ExecuTorch, so it starts in a second.

``tosa-ir compile path/to/model.py:Factory [--inputs SHAPE ...] [--spec SPEC]
[--uint8-io] --out DIR [--target tosa|vgf] [--accelerator ACC] [--progress]`` takes a
PyTorch model through ExecuTorch's Arm flow and the IR and writes, per partition, the
numbered stage dumps, the ``.tosa``, an annotated review dump and Vela's output (target
``tosa``) or the model converter's ``.vgf`` (target ``vgf``: ExecuTorch's VGF
partitioning and passes), plus ``report.txt``.
``tosa-ir opt ...`` is ``tosa-ir-opt ...``; ``python -m drivers.cli`` is ``tosa-ir``.

Errors are one line each, ``file:line: error: [rule-id] message`` for rule violations
(exit 1) and ``FILE: error: message`` for bad input or usage (exit 2); no traceback for
bad input. Every file is written whole or not at all, and ``-o`` only when the run
succeeds; the stage dumps of the passes that did run are kept (MLIR's
``--mlir-print-ir-after-all`` prints them too), as they show where it went wrong.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from drivers.common import (
    CHECK_INPUTS,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VIOLATION,
    MODEL_CONVENTION,
    CliError,
    LoadedModel,
    Progress,
    _as_tuple,
    _checked_pipeline,
    _checked_spec,
    _first_line,
    _internal,
    _parse_args,
    _perturbed,
    _placed,
    _quiet,
    _report_error,
    _stage,
    _vela,
    _violations,
    add_model_arguments,
    compare_with_torch,
    load_model,
    read_module,
)
from ir.defaults import DEFAULT_ACCELERATOR, DEFAULT_PIPELINE, DEFAULT_SPEC
from ir.files import write_atomically

#: what ``compile`` makes of each partition after its ``.tosa``
TARGETS = ("tosa", "vgf")


def _opt_parser(prog: str = "tosa-ir-opt") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Read MLIR text or a TOSA flatbuffer, run a pass pipeline, verify, "
        "write text or a flatbuffer. With no -p it converts and verifies.",
        epilog="Exit status: 0 clean, 1 rule violations (one 'file:line: error: [rule-id] "
        "...' line each), 2 bad usage or unreadable input.",
    )
    parser.add_argument("file", type=Path, help="input: FILE.tosa (flatbuffer) or MLIR text")
    parser.add_argument(
        "-p",
        "--pipeline",
        default="",
        help="passes to run, comma-separated, e.g. 'legalize-unsigned-io,canonicalize' "
        "(default: none)",
    )
    check = parser.add_mutually_exclusive_group()
    check.add_argument(
        "--verify",
        metavar="SPEC",
        default=DEFAULT_SPEC,
        help=f"verify before and after each pass against SPEC (default {DEFAULT_SPEC})",
    )
    check.add_argument("--no-verify", action="store_true", help="skip verification")
    parser.add_argument(
        "--verify-each",
        action="store_true",
        help="verify the whole module after each pass (default: the input whole, then what "
        "each pass changed)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="OUT.tosa writes a flatbuffer, any other name MLIR text (default: text on stdout)",
    )
    parser.add_argument(
        "--print-ir-after-each",
        metavar="DIR",
        type=Path,
        help="write the module before and after each pass to DIR/NN-<pass>.mlir",
    )
    parser.add_argument(
        "--review",
        action="store_true",
        help="print a review dump: large constants elided (text output only; not re-readable)",
    )
    return parser


def opt_main(argv: list[str] | None = None) -> int:
    """``tosa-ir-opt``; returns the exit status."""
    args, code = _parse_args(_opt_parser(), argv)
    if args is None:
        return code
    try:
        _opt(args)
    except CliError as err:
        return _report_error(err)
    except Exception as err:
        return _report_error(CliError(EXIT_USAGE, _internal(err, str(args.file))))
    return EXIT_OK


def _opt(args: argparse.Namespace) -> None:
    """Check everything the user typed before reading the input, and read and transform
    the input before writing anything: a failure leaves no output file behind."""
    label = str(args.file)
    writes_flatbuffer = args.output is not None and args.output.suffix == ".tosa"
    if args.review and writes_flatbuffer:
        raise CliError(EXIT_USAGE, f"{args.output}: error: --review prints text, not a .tosa")
    target = _checked_spec(args.verify, label)
    passes = _checked_pipeline(args.pipeline, label)
    module = read_module(args.file)
    verify = not args.no_verify
    _run_passes(module, passes, target, verify, args.print_ir_after_each, label, args.verify_each)
    data = _render(module, writes_flatbuffer, args.review, label)
    if args.output is None:
        sys.stdout.write(data)
        return
    try:
        write_atomically(args.output, data)
    except OSError as err:
        raise CliError(EXIT_USAGE, f"{args.output}: error: cannot write: {err.strerror}") from None


def _run_passes(
    module, passes, target, verify: bool, dump_dir, label: str, verify_each: bool = False
) -> None:
    """The pipeline; violations become their diagnostic lines (exit 1). A pass that
    refuses its input with a plain error says so in one line, also exit 1."""
    from xdsl.utils.exceptions import DiagnosticException

    from ir.lowering.pipeline import run_pipeline
    from ir.verify import VerificationError

    try:
        run_pipeline(
            module, passes, spec=target, verify=verify, verify_each=verify_each, dump_dir=dump_dir
        )
    except VerificationError as err:
        raise _violations(err, label) from None
    except (ValueError, DiagnosticException) as err:
        raise CliError(EXIT_VIOLATION, _placed(err, label)) from None
    except OSError as err:
        raise CliError(EXIT_USAGE, f"{dump_dir}: error: cannot write: {err.strerror}") from None


def _render(module, flatbuffer: bool, review: bool, label: str) -> bytes | str:
    """The output's content, made whole before any file is opened.

    Text keeps the locations (``debuginfo``): a flatbuffer names its tensors through
    them, so ``.tosa -> .mlir -> .tosa`` is only byte-identical with them in the text.
    """
    import ir
    from tosa_flatbuffer import FlatbufferError, to_flatbuffer

    if not flatbuffer:
        return ir.print_module(module, elide_constants=review, debuginfo=True).rstrip("\n") + "\n"
    try:
        return to_flatbuffer(module)
    except FlatbufferError as err:
        raise CliError(EXIT_VIOLATION, _placed(err, label)) from None


def _compile_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    add_model_arguments(parser, "path/to/model.py:Factory (see below)")
    parser.add_argument(
        "--preserve-io-quantization",
        action="store_true",
        help="keep the IO quantize/dequantize outside the delegates on a spec with float "
        "support (ExecuTorch's compile-spec option; needed for --uint8-io on TOSA-1.0+INT+FP)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "-p",
        "--pipeline",
        default=DEFAULT_PIPELINE,
        help=f"the stages after import (default {DEFAULT_PIPELINE!r})",
    )
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="tosa",
        help="tosa: the .tosa and Vela's output for --accelerator (default); vgf: "
        "ExecuTorch's VGF partitioning and passes, and the model converter's .vgf of each "
        "partition (model-converter from $MODEL_CONVERTER_PATH, PATH or beside python)",
    )
    parser.add_argument(
        "--accelerator",
        default=DEFAULT_ACCELERATOR,
        help=f"Ethos-U configuration for Vela (default {DEFAULT_ACCELERATOR})",
    )
    parser.add_argument(
        "--progress",
        action="store_true",
        help="show a progress bar on stderr even when it is not a terminal",
    )
    return parser


def _main_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tosa-ir",
        description="The TOSA IR tools: 'compile' a PyTorch model, 'debug' its accuracy op by op, "
        "'view' a module in Model Explorer, 'opt' a module.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _compile_parser(
        commands.add_parser(
            "compile",
            help="a PyTorch model through ExecuTorch's Arm flow, the IR stages and Vela",
            description="Quantize, export and partition MODEL with ExecuTorch's Arm flow, "
            "lower each partition through the IR's stages, and write per partition: "
            "DIR/<partition>/NN-<stage>.mlir, DIR/<partition>.tosa, "
            "DIR/<partition>.review.mlir (Vela's placement as comments), "
            "DIR/<partition>.vela.bin and .vela.txt (--target vgf: DIR/<partition>.vgf "
            "instead), and DIR/report.txt.",
            epilog=MODEL_CONVENTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    from drivers.debug_cli import add_parser as add_debug_parser

    add_debug_parser(commands)
    from drivers.explorer.view import add_parser as add_view_parser

    add_view_parser(commands)
    commands.add_parser("opt", help="tosa-ir-opt (see tosa-ir-opt --help)", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``tosa-ir``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["opt"]:
        return opt_main(argv[1:])
    args, code = _parse_args(_main_parser(), argv)
    if args is None:
        return code
    if args.command == "view":
        from drivers.explorer.view import run_view

        return run_view(args)
    progress = Progress(enabled=args.progress or sys.stderr.isatty())
    try:
        if args.command == "debug":
            from drivers.debug_cli import debug_model

            report = debug_model(args, progress)
        else:
            report = compile_model(args, progress)
    except CliError as err:
        progress.finish(ok=False)
        return _report_error(err)
    progress.finish()
    print(report, end="")
    return EXIT_OK


@dataclass
class PartitionResult:
    name: str
    op_counts: Counter
    flatbuffer: object  # tosa_flatbuffer.CheckedFlatbuffer: the bytes and their records
    dumps: list[Path]  # the numbered stage dumps
    vela: object | None  # runtime.VelaResult
    vela_error: str | None
    vgf_bytes: int | None = None  # --target vgf: the size of <partition>.vgf


def compile_model(args: argparse.Namespace, progress: Progress) -> str:
    """The whole ``compile`` command; returns the report (also in ``DIR/report.txt``)."""
    target = _checked_spec(args.spec, args.model, "--spec")
    if args.uint8_io and "PRO-INT" not in target.profiles:
        raise CliError(EXIT_USAGE, f"error: --uint8-io needs an integer spec, not {args.spec}")
    passes = _checked_pipeline(args.pipeline, args.model)  # before the slow part
    if args.out.exists() and not args.out.is_dir():
        raise CliError(EXIT_USAGE, f"{args.out}: error: --out must be a folder, this is a file")
    converter = _converter() if args.target == "vgf" else None  # before the slow part too
    loaded = load_model(args.model, args.inputs)
    progress.total = 3  # export, partition, the torch comparison; stages added below
    exported, checks, expected, quantization = _export(loaded, target, args, progress)
    partitions = _partitions(exported, target, args, progress)
    progress.total += len(partitions) * (len(passes) + 2)
    results = [
        _compile_partition(i, p, passes, target, args, progress) for i, p in enumerate(partitions)
    ]
    progress.step("reference model vs torch")
    agreement = _agreement(results, checks, expected, quantization)
    report = _report(args, target, loaded, results, agreement, partitions.cpu_ops, converter)
    write_atomically(args.out / "report.txt", report)
    return report


def _export(loaded: LoadedModel, target, args, progress: Progress):
    """The quantized, exported program, the check inputs and the quantized torch model's
    outputs on them (taken before partitioning, which rewrites the program)."""
    import torch

    from bridge.capture import io_quantization, quantize_and_export

    progress.step("quantize and export")
    with _quiet():
        exported = _stage(
            "quantize and export",
            lambda: quantize_and_export(loaded.model, loaded.inputs, target, args.uint8_io),
        )
        checks = [_perturbed(loaded.inputs, seed, torch) for seed in range(1, CHECK_INPUTS + 1)]
        program = exported.module()
        with torch.no_grad():
            expected = [_as_tuple(program(*x)) for x in checks]
        quantization = io_quantization(exported)
    return exported, checks, expected, quantization


def _partitions(exported, target, args, progress: Progress):
    from bridge.partitioner import tosa_level_partitions

    progress.step("partition (ExecuTorch's Arm passes)")
    with _quiet():
        return _stage(
            "partition",
            lambda: tosa_level_partitions(
                exported,
                None,
                target,
                args.uint8_io,
                preserve_io_quantization=args.preserve_io_quantization,
                vgf=args.target == "vgf",
            ),
        )


def _compile_partition(index: int, partition, passes, target, args, progress: Progress):
    """``bridge.compile.compile_partition`` (import, the stages with their numbered dumps,
    the ``.tosa``), then Vela and the review."""
    from xdsl.utils.exceptions import DiagnosticException

    from bridge.compile import compile_partition
    from bridge.fx_context import node_name
    from bridge.fx_import import FxImportError
    from bridge.partitioner import partition_name
    from bridge.provenance import module_paths
    from drivers.explorer.modules import write_modules_file
    from drivers.explorer.overlays import write_compile_overlays
    from ir.verify import VerificationError
    from tosa_flatbuffer import FlatbufferError

    name = partition_name(partition, index)
    out: Path = args.out
    progress.step(f"{name}: import")
    try:
        compiled = compile_partition(
            partition.graph_module,
            partition.exported_program,
            target,
            pipeline=passes,
            dump_dir=out,
            name=name,
            on_pass=lambda i, n, pass_name: progress.step(f"{name}: {pass_name}"),
        )
    except VerificationError as err:
        raise _violations(err, name) from None
    except (FxImportError, FlatbufferError, ValueError, DiagnosticException) as err:
        raise CliError(EXIT_VIOLATION, _placed(err, name)) from None
    except OSError as err:
        raise CliError(
            EXIT_USAGE, f"{err.filename or out}: error: cannot write: {err.strerror}"
        ) from None
    if args.target == "vgf":
        progress.step(f"{name}: model converter")
        vela, vela_error = None, None
        vgf_bytes = _convert(compiled, out, name)
    else:
        progress.step(f"{name}: Vela")
        vela, vela_error = _vela(compiled.checked, args.accelerator)
        vgf_bytes = None
    try:
        _write_vela(out, name, vela)
        _write_review(out, name, compiled.module, vela, args)
        write_compile_overlays(out, name, compiled.module, vela)  # Model Explorer node data
        write_modules_file(out, name, module_paths(partition.graph_module, node_name))  # its layers
    except OSError as err:
        raise CliError(
            EXIT_USAGE, f"{err.filename or out}: error: cannot write: {err.strerror}"
        ) from None
    counts = Counter(
        op.name.removeprefix("tosa.")
        for op in compiled.module.walk()
        if op.name.startswith("tosa.")
    )
    return PartitionResult(
        name, counts, compiled.checked, list(compiled.dumps), vela, vela_error, vgf_bytes
    )


def _converter():
    """The model converter ``--target vgf`` runs, checked before any slow work."""
    from runtime.model_converter import ModelConverterError, find_converter

    try:
        return find_converter()
    except ModelConverterError as err:
        raise CliError(EXIT_USAGE, f"error: --target vgf: {err}") from None


def _convert(compiled, out: Path, name: str) -> int:
    """The model converter's ``.vgf`` of the partition's ``.tosa``, written whole as
    ``DIR/<partition>.vgf``; its size. A failing converter is one error naming the kept
    ``.tosa`` and the command that repeats the failure."""
    from runtime.model_converter import ModelConverterError, convert_to_vgf

    try:
        vgf = convert_to_vgf(compiled.flatbuffer, name=name, tosa_path=compiled.flatbuffer_path)
    except ModelConverterError as err:
        raise CliError(EXIT_VIOLATION, f"{compiled.flatbuffer_path}: error: {err}") from None
    try:
        write_atomically(out / f"{name}.vgf", vgf)
    except OSError as err:
        raise CliError(
            EXIT_USAGE, f"{err.filename or out}: error: cannot write: {err.strerror}"
        ) from None
    return len(vgf)


def _write_vela(out: Path, name: str, vela) -> None:
    """The NPU command stream and Vela's summary (placement per op, cycles, memory)."""
    if vela is None:
        return
    write_atomically(out / f"{name}.vela.bin", vela.command_stream)
    write_atomically(out / f"{name}.vela.txt", vela.summary.format() + "\n")


def _write_review(out: Path, name: str, module, vela, args) -> None:
    """The final stage (what the ``.tosa`` holds, so Vela's names match), constants
    elided, locations shown, each op's placement above it."""
    from ir.review import annotate, placement_by_name

    placement = placement_by_name(vela.summary.placement) if vela is not None else {}
    where = f", Vela {args.accelerator} placement as comments" if vela is not None else ""
    header = f"// {name} of {args.model} ({args.spec}), final stage{where}\n"
    write_atomically(out / f"{name}.review.mlir", header + annotate(module, placement))


def _agreement(results: list[PartitionResult], checks, expected, quantization) -> str:
    """Reference model vs the quantized torch model, as ``drivers/example.py`` compares
    them: quantized outputs in LSBs (max difference and the share within 1 LSB), float
    outputs as the max absolute difference. Only meaningful for a whole-model partition.
    """
    from runtime import ReferenceModelError

    if len(results) != 1:
        return f"{len(results)} partitions: the torch comparison needs the whole model in one"
    try:
        return compare_with_torch(results[0].flatbuffer, checks, expected, quantization)
    except ReferenceModelError as err:
        return f"reference model failed: {_first_line(err)}"


def _report(
    args,
    target,
    loaded: LoadedModel,
    results: list[PartitionResult],
    agreement: str,
    cpu_ops=(),
    converter=None,
) -> str:
    integer = "PRO-INT" in target.profiles
    io = "uint8 IO" if args.uint8_io else ("int8 IO" if integer else "float IO")
    lines = [f"tosa-ir compile {args.model} ({args.spec}, {io}): {len(results)} partition(s)"]
    lines.append(
        f"on the CPU: {len(cpu_ops)} compute op(s)" if cpu_ops else "on the CPU: no compute op"
    )
    lines.extend(f"  {op.format()}" for op in cpu_ops)
    for r in results:
        constants = r.op_counts.get("const", 0) + r.op_counts.get("const_shape", 0)
        kinds = ", ".join(
            f"{op} {n}"
            for op, n in sorted(r.op_counts.items())
            if op not in ("const", "const_shape")
        )
        total = sum(r.op_counts.values())
        lines.append(f"{r.name}: {total} TOSA ops ({constants} constants): {kinds}")
        lines.append(f"  {r.name}.tosa: {len(r.flatbuffer)} bytes")
        lines.append(f"  stage dumps: {', '.join(f'{r.name}/{p.name}' for p in r.dumps)}")
        if r.vgf_bytes is not None:
            lines.append(
                f"  {r.name}.vgf: {r.vgf_bytes} bytes (model-converter {converter.version_text})"
            )
        else:
            lines.append(f"  Vela {args.accelerator}: {_vela_line(r)}")
    lines.append(agreement)
    after = (
        ".vgf (model converter)"
        if converter is not None
        else (".vela.bin (command stream), .vela.txt (Vela summary)")
    )
    lines.append(
        f"files in {args.out}/: per partition <partition>/NN-<stage>.mlir, .tosa, "
        f".review.mlir (annotated), {after}"
    )
    return "\n".join(lines) + "\n"


def _vela_line(result: PartitionResult) -> str:
    if result.vela is None:
        return f"not compiled: {result.vela_error}"
    s = result.vela.summary
    return (
        f"{s.npu_ops} NPU / {s.cpu_ops} CPU ops, {s.cycles} cycles "
        f"({s.inference_time_s * 1e3:.3f} ms), SRAM {s.sram_bytes} B, flash {s.flash_bytes} B"
    )


if __name__ == "__main__":
    sys.exit(main())
