"""What the command-line tools share: exit codes and one-line errors, reading a module
(text or ``.tosa``), checking the spec and the pipeline a user typed, loading a model
file by the ``path/model.py:Factory`` convention, the progress bar, Vela's verdict, and
the comparison of the reference model with the quantized torch model.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ir.defaults import DEFAULT_SPEC

EXIT_OK = 0
EXIT_VIOLATION = 1
EXIT_USAGE = 2
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


def _placed(err, label: str) -> str:
    """An error's first line as ``file:line: error: ...`` at the place it names: the op's
    or FX node's ``place`` our exceptions carry (``FlatbufferError``, ``FxImportError``),
    else the input file. xDSL's exceptions carry no op, so theirs go to the input file."""
    from ir.diagnostics import error_line

    first = _first_line(err)
    place = getattr(err, "place", None)
    if not place or not first.startswith(f"{place}: "):
        return error_line(label, first)
    return error_line(place, first.removeprefix(f"{place}: ").removeprefix("error: "))


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


def _internal(err: Exception, label: str) -> str:
    """An exception no step expected (a bug of ours, reached by this input): one line
    that says so, instead of a traceback."""
    return (
        f"{label}: error: internal error ({type(err).__name__}: {_first_line(err)}); "
        "please report it with the input"
    )


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
    from tosa_flatbuffer import FlatbufferError, from_flatbuffer

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
  tosa-ir compile drivers/example.py:ExampleCNN --spec TOSA-1.0+INT --uint8-io --out out/cnn
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
    except Exception as err:
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


def add_model_arguments(parser: argparse.ArgumentParser, model_help: str) -> None:
    """What every command that takes a model reads: MODEL, --inputs, --spec, --uint8-io."""
    parser.add_argument("model", metavar="MODEL", help=model_help)
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


def _quiet():
    from bridge.capture import quiet

    return quiet()


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
    except Exception as err:
        raise CliError(
            EXIT_VIOLATION, f"error: {what}: {type(err).__name__}: {_first_line(err)}"
        ) from None


def _vela(flatbuffer, accelerator: str):
    """Vela's compile, or why not (a float graph, an op the NPU cannot run): the
    report says so instead of failing the whole command."""
    from runtime import VelaError, compile_vela

    try:
        return compile_vela(flatbuffer, accelerator), None
    except VelaError as err:
        return None, _first_line(err)


def compare_with_torch(flatbuffer, checks, expected, quantization) -> str:
    """One line: the reference model on ``checks`` against the torch model's
    ``expected`` outputs (tuples), in LSBs of the quantized outputs or as a float
    difference; ``quantization`` is ``bridge.capture.io_quantization``'s pair.
    ``flatbuffer`` is bytes or a ``tosa_flatbuffer.CheckedFlatbuffer`` (bytes are
    checked once here, not once per run)."""
    import numpy as np

    from bridge.capture import quantize_tensor
    from runtime import checked_for_reference, graph_io, run_reference

    in_params, out_params = quantization
    io = graph_io(flatbuffer)
    flatbuffer = checked_for_reference(flatbuffer)
    quantized = bool(in_params)
    if len(io.inputs) != len(checks[0]) or len(io.outputs) != len(expected[0]):
        return "the partition's IO is not the model's: no torch comparison"
    if quantized and (len(in_params) != len(io.inputs) or len(out_params) != len(io.outputs)):
        return "not every model input/output is quantized: no torch comparison"
    diffs = []
    for x, want in zip(checks, expected):
        if quantized:
            feed = [
                quantize_tensor(t, p).reshape(s.shape) for t, p, s in zip(x, in_params, io.inputs)
            ]
            wants = [quantize_tensor(w, p) for w, p in zip(want, out_params)]
        else:
            feed = [t.numpy().reshape(s.shape) for t, s in zip(x, io.inputs)]
            wants = [w.detach().numpy() for w in want]
        for got, target in zip(run_reference(flatbuffer, feed), wants):
            as_float = np.float64 if not quantized else np.int64
            diffs.append(
                np.abs(got.astype(as_float) - target.reshape(got.shape).astype(as_float)).ravel()
            )
    diff = np.concatenate(diffs)
    runs = f"on {len(checks)} new inputs"
    if not quantized:
        return f"reference model vs the torch model {runs}: max |diff| = {diff.max():g} (float)"
    within = float((diff <= 1).mean())
    return (
        f"reference model vs the quantized torch model {runs}: max |diff| = {int(diff.max())} LSB, "
        f"{within:.1%} of {diff.size} values within 1 LSB"
    )
