"""The command-line tools: ``tosa-ir-opt`` (the IR's ``mlir-opt``) and ``tosa-ir compile``.

``tosa-ir-opt FILE.mlir|FILE.tosa [-p PIPELINE] [--verify SPEC | --no-verify]
[-o OUT.mlir|OUT.tosa] [--print-ir-after-each DIR] [--review]`` reads MLIR text or a TOSA
flatbuffer, runs a pass pipeline (``ir.lowering.pipeline``; none by default, which makes
it a converter and a verifier) and writes text or a flatbuffer by the output's suffix.
It imports neither torch nor ExecuTorch, so it starts in a second.

``tosa-ir compile path/to/model.py:Factory [--inputs SHAPE ...] [--spec SPEC]
[--uint8-io] --out DIR [--accelerator ACC] [--progress]`` takes a PyTorch model through
ExecuTorch's Arm flow and the IR and writes, per partition, the numbered stage dumps, the
``.tosa``, an annotated review dump and Vela's output, plus ``report.txt``.
``tosa-ir opt ...`` is ``tosa-ir-opt ...``; ``python -m bridge.cli`` is ``tosa-ir``.

Errors are one line each, ``file:line: error: [rule-id] message`` for rule violations
(exit 1) and ``FILE: error: message`` for bad input or usage (exit 2); no traceback for
bad input. Every file is written whole or not at all, and ``-o`` only when the run
succeeds; the stage dumps of the passes that did run are kept (MLIR's
``--mlir-print-ir-after-all`` prints them too), as they show where it went wrong.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ir.files import write_atomically

EXIT_OK = 0
EXIT_VIOLATION = 1
EXIT_USAGE = 2
DEFAULT_SPEC = "TOSA-1.0+INT"
DEFAULT_ACCELERATOR = "ethos-u55-128"
#: ``ir.lowering.pipeline.DEFAULT_PIPELINE``, spelled out so ``--help`` needs no import
DEFAULT_PIPELINE = "legalize-unsigned-io,canonicalize"
#: new inputs the reference model and the quantized torch model are compared on
CHECK_INPUTS = 3


class CliError(Exception):
    """What a tool prints on stderr before it exits with ``code``: ready-made lines, so
    the entry points have one place that turns failures into output."""

    def __init__(self, code: int, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.code = code
        self.lines = lines


def _first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else "(no message)"


_AT_OP = re.compile(r"(\S.*?:\d+(?::\d+)?): (.*)")


def _placed(err, label: str) -> str:
    """An error's first line as ``file:line: error: ...`` when it starts at an op's
    place (``ir.diagnostics.describe_op``), else at the input file."""
    first = _first_line(err)
    at = _AT_OP.match(first)
    return f"{at[1]}: error: {at[2].removeprefix('error: ')}" if at else f"{label}: error: {first}"


def _violations(err, label: str) -> CliError:
    """A ``VerificationError`` as the compiler-style lines it is made of, plus its notes
    (which pass broke the module) as ``note:`` lines."""
    lines = [d.format(fallback=label) for d in err.diagnostics]
    notes = [n.strip().strip("()") for n in getattr(err, "__notes__", ())]
    return CliError(EXIT_VIOLATION, *lines, *(f"{label}: note: {n}" for n in notes))


def _report_error(err: CliError) -> int:
    for line in err.lines:
        print(line, file=sys.stderr)
    return err.code


def _parse_args(parser: argparse.ArgumentParser, argv: list[str] | None):
    """argparse, but returning its exit code instead of exiting: the entry points are
    also called in-process (tests, ``tosa-ir opt``)."""
    try:
        return parser.parse_args(argv), None
    except SystemExit as exit_:
        return None, exit_.code if isinstance(exit_.code, int) else EXIT_USAGE


# =========================================================================== tosa-ir-opt


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
    except Exception as err:  # noqa: BLE001 -- a bug of ours: still one line, no traceback
        return _report_error(CliError(EXIT_USAGE, _internal(err, str(args.file))))
    return EXIT_OK


def _internal(err: Exception, label: str) -> str:
    """An exception no step expected (a bug of ours, reached by this input): one line
    that says so, instead of a traceback."""
    return f"{label}: error: internal error ({type(err).__name__}: {_first_line(err)}); please report it with the input"


def _opt(args: argparse.Namespace) -> None:
    """Check everything the user typed before reading the input, and read and transform
    the input before writing anything: a failure leaves no output file behind."""
    label = str(args.file)
    writes_flatbuffer = args.output is not None and args.output.suffix == ".tosa"
    if args.review and writes_flatbuffer:
        raise CliError(EXIT_USAGE, f"{args.output}: error: --review prints text, not a .tosa")
    spec = _checked_spec(args.verify, label).text
    passes = _checked_pipeline(args.pipeline, label)
    module = read_module(args.file)
    _run_passes(module, passes, spec, not args.no_verify, args.print_ir_after_each, label)
    data = _render(module, writes_flatbuffer, args.review, label)
    if args.output is None:
        sys.stdout.write(data)
        return
    try:
        write_atomically(args.output, data)
    except OSError as err:
        raise CliError(EXIT_USAGE, f"{args.output}: error: cannot write: {err.strerror}") from None


def _checked_spec(spec: str, label: str, option: str = "--verify"):
    """The parsed spec (``ir.verify.Target``), or a usage error naming the option."""
    from ir.verify import SpecError, parse_spec

    try:
        return parse_spec(spec)
    except SpecError as err:
        raise CliError(EXIT_USAGE, f"{label}: error: {option} {spec!r}: {err}") from None


def _checked_pipeline(text: str, label: str):
    """The passes of ``text``; an unknown pass is a usage error listing the known ones."""
    from ir.lowering.pipeline import PipelineError, parse_pipeline

    try:
        return parse_pipeline(text)
    except PipelineError as err:
        raise CliError(EXIT_USAGE, f"{label}: error: {err}") from None


def read_module(path: Path):
    """The module in ``path``: a flatbuffer when it ends in ``.tosa``, else MLIR text.

    Every way the input can be bad is one ``CliError`` line: a missing file, bytes that
    are not a TOSA flatbuffer, text that does not parse (``file:line:col: error: ...``).
    """
    import ir
    from bridge.flatbuffer import FlatbufferError, from_flatbuffer

    label = str(path)
    try:
        if path.suffix == ".tosa":
            return from_flatbuffer(path.read_bytes())
        return ir.parse_module(path.read_text(encoding="utf-8"), name=label)
    except OSError as err:
        raise CliError(EXIT_USAGE, f"{label}: error: cannot read: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise CliError(EXIT_USAGE, f"{label}: error: not UTF-8 text ({err.reason})") from None
    except FlatbufferError as err:
        raise CliError(EXIT_USAGE, f"{label}: error: {_first_line(err)}") from None
    except ir.IRParseError as err:
        raise CliError(EXIT_USAGE, err.error_line()) from None


def _run_passes(module, passes, spec: str, verify: bool, dump_dir, label: str) -> None:
    """The pipeline; violations become their diagnostic lines (exit 1). A pass that
    refuses its input with a plain error says so in one line, also exit 1."""
    from xdsl.utils.exceptions import DiagnosticException

    from ir.lowering.pipeline import run_pipeline
    from ir.verify import VerificationError

    try:
        run_pipeline(module, passes, spec=spec, verify=verify, dump_dir=dump_dir)
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
    from bridge.flatbuffer import FlatbufferError, to_flatbuffer

    if not flatbuffer:
        return ir.print_module(module, elide_constants=review, debuginfo=True).rstrip("\n") + "\n"
    try:
        return to_flatbuffer(module)
    except FlatbufferError as err:
        raise CliError(EXIT_VIOLATION, _placed(err, label)) from None


# =========================================================================== progress


@dataclass
class Progress:
    """A one-line progress bar on stderr for the slow steps of ``compile``.

    Silent unless asked: a bar is for a person at a terminal, not for a log file. The
    total grows once the number of partitions is known.
    """

    enabled: bool
    total: int = 0
    done: int = 0
    width: int = 24
    stream: object = field(default_factory=lambda: sys.stderr)

    def step(self, label: str) -> None:
        """Announce the step that starts now."""
        self.done += 1
        if not self.enabled:
            return
        total = max(self.total, self.done)
        filled = self.width * (self.done - 1) // total
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r\033[K[{bar}] {self.done}/{total} {label}")
        self.stream.flush()

    def finish(self, ok: bool = True) -> None:
        """A full bar when the work is done; on failure the bar is wiped, so the error
        lines that follow stand alone."""
        if not (self.enabled and self.done):
            return
        self.stream.write(f"\r\033[K[{'#' * self.width}] done\n" if ok else "\r\033[K")
        self.stream.flush()


# =========================================================================== the model


@dataclass
class LoadedModel:
    name: str
    model: object  # torch.nn.Module
    inputs: tuple


MODEL_CONVENTION = """\
MODEL is path/to/model.py:Factory. The file is loaded by path; Factory() (a class or a
function) returns either the nn.Module or a (module, example_inputs) pair. --inputs
(random tensors in [0, 1) of those shapes, seeded) replaces the example inputs; without
it they come from the pair, else the model's example_inputs() method, else an
example_inputs() function in the file. They are
the quantizer's calibration batch; the reference model and the quantized torch model are
compared on them perturbed with seeded noise. Example:
  tosa-ir compile bridge/example.py:ExampleCNN --spec TOSA-1.0+INT --uint8-io --out out/cnn
"""


def load_model(target: str, shapes: list[tuple[int, ...]] | None) -> LoadedModel:
    """Factory's model and example inputs, by the convention of ``MODEL_CONVENTION``."""
    import torch

    path_text, _, factory_name = target.rpartition(":")
    if not path_text or not factory_name:
        raise CliError(EXIT_USAGE, f"error: {target!r}: expected path/to/model.py:Factory")
    module = _load_file(Path(path_text))
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise CliError(EXIT_USAGE, f"{path_text}: error: no callable {factory_name!r} in it")
    made = _call(factory, f"{path_text}: error: {factory_name}()")
    model, inputs = made if _is_pair(made, torch) else (made, None)
    if not isinstance(model, torch.nn.Module):
        raise CliError(
            EXIT_USAGE,
            f"{path_text}: error: {factory_name}() gave {type(model).__name__}, not an "
            "nn.Module or a (module, example_inputs) pair",
        )
    if shapes:
        inputs = _random_inputs(shapes, torch)
    inputs = inputs if inputs is not None else _found_inputs(model, module, path_text)
    return LoadedModel(factory_name, model, _as_tuple(inputs))


def _load_file(path: Path):
    """Import ``path`` as a module of its own (not via ``sys.path``): a model file need
    not be part of a package."""
    import importlib.util

    if not path.is_file():
        raise CliError(EXIT_USAGE, f"{path}: error: no such file")
    name = "tosa_ir_model_" + re.sub(r"\W", "_", path.stem)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CliError(EXIT_USAGE, f"{path}: error: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up here
    _call(lambda: spec.loader.exec_module(module), f"{path}: error: loading it failed")
    return module


def _call(function, failure: str):
    """``function()``; the user's code failing is bad input: one line, no traceback."""
    try:
        return function()
    except Exception as err:  # noqa: BLE001 -- any failure in user code is reported
        raise CliError(EXIT_USAGE, f"{failure}: {type(err).__name__}: {_first_line(err)}") from None


def _is_pair(value, torch) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and isinstance(value[0], torch.nn.Module)
    )


def _as_tuple(inputs) -> tuple:
    return tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


def _random_inputs(shapes: list[tuple[int, ...]], torch) -> tuple:
    """Seeded: the inputs are the calibration batch, so they fix the quantization."""
    generator = torch.Generator().manual_seed(0)
    return tuple(torch.rand(*shape, generator=generator) for shape in shapes)


def _found_inputs(model, module, path_text: str):
    for owner in (model, module):
        finder = getattr(owner, "example_inputs", None)
        if callable(finder):
            return _call(finder, f"{path_text}: error: example_inputs()")
    raise CliError(
        EXIT_USAGE,
        f"{path_text}: error: no example inputs: give --inputs SHAPE..., return "
        "(module, inputs) from the factory, or define example_inputs()",
    )


def parse_shape(text: str) -> tuple[int, ...]:
    """``1x3x32x32`` (or ``1,3,32,32``) as a shape, for ``--inputs``."""
    parts = re.split(r"[x,]", text.strip())
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not a shape like 1x3x32x32")
    return tuple(int(p) for p in parts)


# =========================================================================== tosa-ir compile


def _compile_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("model", metavar="MODEL", help="path/to/model.py:Factory (see below)")
    parser.add_argument(
        "--inputs",
        nargs="+",
        type=parse_shape,
        metavar="SHAPE",
        help="example input shapes, e.g. 1x3x32x32 (random in [0, 1))",
    )
    parser.add_argument("--spec", default=DEFAULT_SPEC, help=f"TOSA spec (default {DEFAULT_SPEC})")
    parser.add_argument(
        "--uint8-io", action="store_true", help="uint8 model inputs and outputs (INT specs)"
    )
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
        "'opt' a module.",
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
            "DIR/<partition>.vela.bin and .vela.txt, and DIR/report.txt.",
            epilog=MODEL_CONVENTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    from bridge.debug_cli import add_parser as add_debug_parser

    add_debug_parser(commands)
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
    progress = Progress(enabled=args.progress or sys.stderr.isatty())
    try:
        if args.command == "debug":
            from bridge.debug_cli import debug_model

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
    flatbuffer: bytes
    dumps: list[Path]  # the numbered stage dumps
    vela: object | None  # runtime.VelaResult
    vela_error: str | None


def compile_model(args: argparse.Namespace, progress: Progress) -> str:
    """The whole ``compile`` command; returns the report (also in ``DIR/report.txt``)."""
    target = _checked_spec(args.spec, args.model, "--spec")
    if args.uint8_io and "PRO-INT" not in target.profiles:
        raise CliError(EXIT_USAGE, f"error: --uint8-io needs an integer spec, not {args.spec}")
    passes = _checked_pipeline(args.pipeline, args.model)  # before the slow part
    if args.out.exists() and not args.out.is_dir():
        raise CliError(EXIT_USAGE, f"{args.out}: error: --out must be a folder, this is a file")
    loaded = load_model(args.model, args.inputs)
    progress.total = 3  # export, partition, the torch comparison; stages added below
    exported, checks, expected, quantization = _export(loaded, args, progress)
    partitions = _partitions(exported, args, progress)
    progress.total += len(partitions) * (len(passes) + 2)
    results = [
        _compile_partition(i, p, passes, args, progress) for i, p in enumerate(partitions)
    ]
    progress.step("reference model vs torch")
    agreement = _agreement(results, checks, expected, quantization)
    report = _report(args, loaded, results, agreement, partitions.cpu_ops)
    write_atomically(args.out / "report.txt", report)
    return report


def _quiet():
    from bridge.capture import quiet

    return quiet()


def _export(loaded: LoadedModel, args, progress: Progress):
    """The quantized, exported program, the check inputs and the quantized torch model's
    outputs on them (taken before partitioning, which rewrites the program)."""
    import torch

    from bridge.capture import io_quantization, quantize_and_export

    progress.step("quantize and export")
    with _quiet():
        exported = _stage(
            "quantize and export",
            lambda: quantize_and_export(loaded.model, loaded.inputs, args.spec, args.uint8_io),
        )
        checks = [_perturbed(loaded.inputs, seed, torch) for seed in range(1, CHECK_INPUTS + 1)]
        program = exported.module()
        with torch.no_grad():
            expected = [_as_tuple(program(*x)) for x in checks]
        quantization = io_quantization(exported)
    return exported, checks, expected, quantization


def _perturbed(inputs: tuple, seed: int, torch) -> tuple:
    """New inputs in the calibrated range: the examples plus seeded noise, clipped to
    the examples' own range (a uint8 input stands for exactly that range)."""
    generator = torch.Generator().manual_seed(seed)
    out = []
    for x in inputs:
        if not torch.is_floating_point(x):
            out.append(x)
            continue
        noise = 0.25 * x.std() * torch.randn(x.shape, generator=generator)
        out.append((x + noise).clamp(x.min(), x.max()))
    return tuple(out)


def _stage(what: str, function):
    """A step of ExecuTorch's flow; its failure is one line (exit 1), not a traceback."""
    try:
        return function()
    except Exception as err:  # noqa: BLE001 -- export/partition failures are reported
        raise CliError(
            EXIT_VIOLATION, f"error: {what}: {type(err).__name__}: {_first_line(err)}"
        ) from None


def _partitions(exported, args, progress: Progress):
    from bridge.capture import tosa_level_partitions

    progress.step("partition (ExecuTorch's Arm passes)")
    with _quiet():
        return _stage(
            "partition",
            lambda: tosa_level_partitions(
                exported, None, args.spec, args.uint8_io, preserve_io_quantization=args.preserve_io_quantization
            ),
        )


def _compile_partition(index: int, partition, passes, args, progress: Progress):
    """Import, the stages with their numbered dumps, the ``.tosa``, Vela, the review."""
    from xdsl.utils.exceptions import DiagnosticException

    from bridge.flatbuffer import FlatbufferError, to_flatbuffer
    from bridge.fx_import import FxImportError, fx_to_ir
    from ir.lowering.pipeline import run_pipeline
    from ir.verify import VerificationError, parse_spec

    name = _partition_name(index, partition)
    out: Path = args.out
    progress.step(f"{name}: import")
    try:
        module = fx_to_ir(partition.graph_module, partition.exported_program, tosa_spec=args.spec)
        dumps = run_pipeline(
            module,
            passes,
            spec=args.spec,
            dump_dir=out / name,
            on_pass=lambda i, n, pass_name: progress.step(f"{name}: {pass_name}"),
        )
        flatbuffer = to_flatbuffer(module, version=parse_spec(args.spec).version)
    except VerificationError as err:
        raise _violations(err, name) from None
    except (FxImportError, FlatbufferError, ValueError, DiagnosticException) as err:
        raise CliError(EXIT_VIOLATION, _placed(err, name)) from None
    except OSError as err:
        raise CliError(EXIT_USAGE, f"{err.filename or out}: error: cannot write: {err.strerror}") from None
    progress.step(f"{name}: Vela")
    vela, vela_error = _vela(flatbuffer, args.accelerator)
    try:
        write_atomically(out / f"{name}.tosa", flatbuffer)
        _write_vela(out, name, vela)
        _write_review(out, name, module, vela, args)
    except OSError as err:
        raise CliError(EXIT_USAGE, f"{err.filename or out}: error: cannot write: {err.strerror}") from None
    counts = Counter(
        op.name.removeprefix("tosa.") for op in module.walk() if op.name.startswith("tosa.")
    )
    return PartitionResult(name, counts, flatbuffer, dumps, vela, vela_error)


def _partition_name(index: int, partition) -> str:
    """ExecuTorch's delegation tag (``tag0``), as ``bridge.Partitioner``'s dumps name it."""
    from executorch.backends.arm.tosa.backend import arm_get_first_delegation_tag

    return arm_get_first_delegation_tag(partition.graph_module) or f"partition{index}"


def _vela(flatbuffer: bytes, accelerator: str):
    """Vela's compile, or why not (a float graph, an op the NPU cannot run): the
    report says so instead of failing the whole command."""
    from runtime import VelaError, compile_vela

    try:
        return compile_vela(flatbuffer, accelerator), None
    except VelaError as err:
        return None, _first_line(err)


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
    """Reference model vs the quantized torch model, as ``bridge/example.py`` compares
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


def compare_with_torch(flatbuffer: bytes, checks, expected, quantization) -> str:
    """One line: the reference model on ``checks`` against the torch model's
    ``expected`` outputs (tuples), in LSBs of the quantized outputs or as a float
    difference; ``quantization`` is ``bridge.capture.io_quantization``'s pair."""
    import numpy as np

    from bridge.capture import quantize_tensor
    from runtime import graph_io, run_reference

    in_params, out_params = quantization
    io = graph_io(flatbuffer)
    quantized = bool(in_params)
    if len(io.inputs) != len(checks[0]) or len(io.outputs) != len(expected[0]):
        return "the partition's IO is not the model's: no torch comparison"
    if quantized and (len(in_params) != len(io.inputs) or len(out_params) != len(io.outputs)):
        return "not every model input/output is quantized: no torch comparison"
    diffs = []
    for x, want in zip(checks, expected):
        if quantized:
            feed = [quantize_tensor(t, p).reshape(s.shape) for t, p, s in zip(x, in_params, io.inputs)]
            wants = [quantize_tensor(w, p) for w, p in zip(want, out_params)]
        else:
            feed = [t.numpy().reshape(s.shape) for t, s in zip(x, io.inputs)]
            wants = [w.detach().numpy() for w in want]
        for got, target in zip(run_reference(flatbuffer, feed), wants):
            as_float = np.float64 if not quantized else np.int64
            diffs.append(np.abs(got.astype(as_float) - target.reshape(got.shape).astype(as_float)).ravel())
    diff = np.concatenate(diffs)
    runs = f"on {len(checks)} new inputs"
    if not quantized:
        return f"reference model vs the torch model {runs}: max |diff| = {diff.max():g} (float)"
    within = float((diff <= 1).mean())
    return (
        f"reference model vs the quantized torch model {runs}: max |diff| = {int(diff.max())} LSB, "
        f"{within:.1%} of {diff.size} values within 1 LSB"
    )


def _report(args, loaded: LoadedModel, results: list[PartitionResult], agreement: str, cpu_ops=()) -> str:
    integer = "PRO-INT" in _checked_spec(args.spec, args.model, "--spec").profiles
    io = "uint8 IO" if args.uint8_io else ("int8 IO" if integer else "float IO")
    lines = [f"tosa-ir compile {args.model} ({args.spec}, {io}): {len(results)} partition(s)"]
    lines.append(f"on the CPU: {len(cpu_ops)} compute op(s)" if cpu_ops else "on the CPU: no compute op")
    lines.extend(f"  {op.format()}" for op in cpu_ops)
    for r in results:
        constants = r.op_counts.get("const", 0) + r.op_counts.get("const_shape", 0)
        kinds = ", ".join(
            f"{op} {n}" for op, n in sorted(r.op_counts.items()) if op not in ("const", "const_shape")
        )
        total = sum(r.op_counts.values())
        lines.append(f"{r.name}: {total} TOSA ops ({constants} constants): {kinds}")
        lines.append(f"  {r.name}.tosa: {len(r.flatbuffer)} bytes")
        lines.append(f"  stage dumps: {', '.join(f'{r.name}/{p.name}' for p in r.dumps)}")
        lines.append(f"  Vela {args.accelerator}: {_vela_line(r)}")
    lines.append(agreement)
    lines.append(
        f"files in {args.out}/: per partition <partition>/NN-<stage>.mlir, .tosa, "
        ".review.mlir (annotated), .vela.bin (command stream), .vela.txt (Vela summary)"
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
