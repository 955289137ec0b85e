"""Run a TOSA flatbuffer on the TOSA reference model, in process, with typed numpy IO.

``tosa_reference_model.run`` is a thin pybind binding with three habits a caller must not
see: it checks an input only by its byte count (a float32 (2, 3) array runs as an int32
(2, 3) tensor, an int8 (3, 2) one as (2, 3)); it hands back bfloat16 and fp8 outputs as
raw ``V2``/``V1`` bytes and INT48 outputs as an empty float64 array; and it writes to the
process's stdout/stderr from C++: a version note on every run and, on every ERROR_IF, a
node dump plus a gdb backtrace of this very process (it forks, attaches gdb to its parent
and waits for it). So ``run_reference``

* checks the flatbuffer (``tosa_flatbuffer.check_flatbuffer``) and every input's count,
  shape and dtype against the graph before anything reaches C++, naming the input;
* gives TOSA 1.0's uint8/uint16 IO its numpy type: there is no unsigned tensor type, an
  input is unsigned when a RESCALE reads it with ``input_unsigned`` and an output when a
  RESCALE writes it with ``output_unsigned`` (``graph_io`` says which);
* redirects file descriptors 1 and 2 around the call and turns the captured text, gdb
  backtraces dropped, into the ``ReferenceModelError`` of a failed run, so a normal run
  prints nothing and a failing one prints nothing either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import tosa_reference_model

from runtime._capture import captured_output

if TYPE_CHECKING:
    from tosa_flatbuffer.decode import CheckedFlatbuffer, FbBlock

__all__ = [
    "GraphIO",
    "IoTensor",
    "ReferenceModelError",
    "checked_for_reference",
    "graph_io",
    "run_reference",
]

#: the levels the binding knows; see ``run_reference`` for why NONE is the default
TOSA_LEVELS = ("NONE", "EIGHTK")

# ----------------------------------------------------------------------------- errors


class ReferenceModelError(Exception):
    """A reference-model run that did not give outputs, and why.

    ``status`` is one of

    * ``"ERROR_IF"``: the graph hit an ERROR_IF while running (GraphStatus TOSA_ERROR);
    * ``"UNPREDICTABLE"``: a REQUIRE or a level limit failed (GraphStatus TOSA_UNPREDICTABLE);
    * ``"INVALID"``: the reference model refused to load or validate the graph (its ERROR_IF
      checks on shapes and types run before any data moves);
    * ``"BAD_FLATBUFFER"``: the bytes are not a readable TOSA flatbuffer (never reached C++);
    * ``"INPUT_MISMATCH"``: wrong input count, type, shape or dtype (never reached C++);
    * ``"UNSUPPORTED"``: a graph input or output whose dtype the binding cannot carry (INT48...);
    * ``"BAD_OUTPUT"``: the binding returned an output that does not fit the graph.

    ``log`` is what the reference model printed, gdb backtraces removed; ``input_index`` and
    ``tensor_name`` name the input (or output) at fault when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: str,
        log: str = "",
        input_index: int | None = None,
        tensor_name: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.log = log
        self.input_index = input_index
        self.tensor_name = tensor_name


# ----------------------------------------------------------------------------- graph IO


@dataclass(frozen=True)
class IoTensor:
    """One graph input or output as numpy sees it.

    ``dtype`` is the numpy dtype a caller passes or gets: ``uint8``/``uint16`` for an
    INT8/INT16 tensor a RESCALE reads or writes unsigned (``unsigned``), int64 for INT48,
    ml_dtypes for bfloat16 and fp8. ``shape`` is None for an unranked tensor; a negative
    dimension is a dynamic one.
    """

    name: str
    shape: tuple[int, ...] | None
    dtype: np.dtype
    unsigned: bool
    tosa_dtype: str  # the flatbuffer's DType name: "INT8", "BF16", ...


@dataclass(frozen=True)
class GraphIO:
    """The main block's inputs and outputs, in the order the reference model takes and
    gives them."""

    inputs: tuple[IoTensor, ...]
    outputs: tuple[IoTensor, ...]


_UNSIGNED_DTYPES = {"INT8": np.dtype(np.uint8), "INT16": np.dtype(np.uint16)}


@cache
def _numpy_dtypes() -> dict[str, np.dtype]:
    """The numpy carrier of each TOSA 1.0 dtype: ``ir.dtypes``' values (INT4 one per
    byte, INT48 and SHAPE in int64, ml_dtypes for bfloat16 and fp8); 1.1's types show as
    raw bytes (V1). Read late: ``ir`` brings in xDSL, which ``import runtime`` alone
    should not pay for."""
    from ir.dtypes import ELEMENT_DTYPES

    return {d.tosa: d.values for d in ELEMENT_DTYPES if d.version == "1.0"}


def _numpy_dtype(tosa_dtype: str) -> np.dtype:
    return _numpy_dtypes().get(tosa_dtype, np.dtype("V1"))


def _wire_dtype(tosa_dtype: str) -> np.dtype:
    """What crosses the binding instead of the numpy dtype: for the dtypes numpy's buffer
    protocol cannot spell (user-defined ones, ``num`` >= 256: ml_dtypes) the same bytes
    as unsigned integers; everything else as its signed carrier (a uint8 input as int8)."""
    dtype = _numpy_dtypes()[tosa_dtype]
    return np.dtype(f"<u{dtype.itemsize}") if dtype.num >= 256 else dtype


# Checked by running identity graphs through tosa-tools 2026.5.0: these come back with
# their bytes intact. INT48 comes back as an empty float64 array ("Unsupported tensor
# DType: INT48") and is refused as an input; INT4 and SHAPE are no graph IO in TOSA 1.0.
_RUNNABLE = frozenset(
    {"BOOL", "INT8", "INT16", "INT32", "INT64", "FP32", "FP16", "BF16", "FP8E4M3", "FP8E5M2"}
)


def graph_io(flatbuffer: bytes | CheckedFlatbuffer) -> GraphIO:
    """The typed inputs and outputs of ``flatbuffer``'s main block.

    Reads the flatbuffer with ``tosa_flatbuffer.decode``, no C++ involved (a
    ``CheckedFlatbuffer``'s records are taken as they are); a buffer it cannot read raises
    ``ReferenceModelError`` (``BAD_FLATBUFFER``).
    """
    from tosa_flatbuffer import CheckedFlatbuffer, FlatbufferError, decode

    if isinstance(flatbuffer, CheckedFlatbuffer):
        return _graph_io(flatbuffer.graph.main)
    try:
        graph = decode(bytes(flatbuffer))
    except FlatbufferError as error:
        raise ReferenceModelError(
            f"cannot read the flatbuffer's main block: {type(error).__name__}: {error}",
            status="BAD_FLATBUFFER",
        ) from error
    return _graph_io(graph.main)


def _graph_io(block: FbBlock) -> GraphIO:
    """The typed IO of a decoded main block (the first block of the first region, the one
    the reference model runs)."""
    reads_unsigned, writes_unsigned = _unsigned_rescale_io(block)
    return GraphIO(
        inputs=tuple(_io_tensor(block, name, name in reads_unsigned) for name in block.inputs),
        outputs=tuple(_io_tensor(block, name, name in writes_unsigned) for name in block.outputs),
    )


def _unsigned_rescale_io(block: FbBlock) -> tuple[set[str], set[str]]:
    """Tensor names a RESCALE reads as unsigned (its data input) and writes as unsigned.

    This is where TOSA 1.0 keeps uint8/uint16: the tensor type stays INT8/INT16 and the
    boundary RESCALE carries the flag. A tensor counts as unsigned when any RESCALE reads
    it so; mixed signed and unsigned readers are the IR verifier's business, not ours.
    """
    reads, writes = set(), set()
    for op in block.operators:
        if op.op != "RESCALE":
            continue
        if op.attributes.get("input_unsigned") and op.inputs:
            reads.add(op.inputs[0])
        if op.attributes.get("output_unsigned") and op.outputs:
            writes.add(op.outputs[0])
    return reads, writes


def _io_tensor(block: FbBlock, name: str, unsigned_use: bool) -> IoTensor:
    """The record of graph IO tensor ``name`` (decode has checked that the block has it);
    unsigned only for INT8/INT16 (RESCALE's flags mean nothing for other types, and the
    reference model ERROR_IFs on them)."""
    from tosa_flatbuffer.schema import DTYPE_NAMES

    tensor = block.tensors[name]
    tosa_dtype = DTYPE_NAMES.get(tensor.dtype, f"DType({tensor.dtype})")
    unsigned = unsigned_use and tosa_dtype in _UNSIGNED_DTYPES
    dtype = _UNSIGNED_DTYPES[tosa_dtype] if unsigned else _numpy_dtype(tosa_dtype)
    return IoTensor(
        name=name, shape=tuple(tensor.shape), dtype=dtype, unsigned=unsigned, tosa_dtype=tosa_dtype
    )


# ----------------------------------------------------------------------------- running


def run_reference(
    flatbuffer: bytes | CheckedFlatbuffer,
    inputs: Sequence[np.ndarray],
    *,
    tosa_level: str = "NONE",
) -> list[np.ndarray]:
    """Run ``flatbuffer`` on the TOSA reference model; one numpy array per graph output.

    Inputs go in the graph's input order with exactly the dtypes ``graph_io`` gives
    (uint8 for an unsigned INT8 input, ``ml_dtypes.bfloat16`` for BF16...); outputs come
    back the same way, shaped. Anything but a valid run raises ``ReferenceModelError``.
    A ``CheckedFlatbuffer`` (``tosa_flatbuffer.check_flatbuffer``'s or the writer's) is
    not checked again: pass one to run the same graph many times.

    ``tosa_level`` defaults to ``"NONE"``: a flatbuffer does not record its level, the
    specs this project compiles for (``TOSA-1.0+INT``, ``TOSA-1.0+FP``, Ethos-U's
    ``TOSA-1.0+INT+int16+int4``) claim none, and ExecuTorch's own reference runs use NONE;
    with ``"EIGHTK"`` a graph that is legal under those specs but exceeds an 8K limit
    (a stride above 8192, say) comes back UNPREDICTABLE. Pass ``"EIGHTK"`` for a ``+8k``
    spec. Runs are serialized: the reference model keeps global state, and the output
    capture swaps the process's stdout/stderr.
    """
    if tosa_level not in TOSA_LEVELS:
        raise ValueError(f"tosa_level must be one of {TOSA_LEVELS}, not {tosa_level!r}")
    checked = checked_for_reference(flatbuffer)
    data = checked.data
    io = _graph_io(checked.graph.main)
    _check_runnable(io)
    wire_inputs = _wire_inputs(io.inputs, inputs)
    with captured_output() as captured:  # holds the capture lock: runs are serialized
        try:
            outputs, status = tosa_reference_model.run(data, wire_inputs, tosa_level=tosa_level)
        except ValueError as error:  # the binding's way to say "would not load/validate"
            rejected: ValueError | None = error
        else:
            rejected = None
    log = _without_backtraces(captured.text)
    if rejected is not None:
        raise _rejection_error(rejected, log)
    _check_status(status, log, tosa_level)
    return _typed_outputs(io.outputs, outputs, log)


def checked_for_reference(flatbuffer: bytes | CheckedFlatbuffer) -> CheckedFlatbuffer:
    """The bytes and their records, once ``check_flatbuffer`` has accepted them (a
    ``CheckedFlatbuffer`` is returned as it is): refuse a truncated, corrupt or
    wrong-version buffer before C++ parses it, since the reference model's own parser
    reports such buffers only as "Invalid TOSA graph"; ``ReferenceModelError``
    (``BAD_FLATBUFFER``) otherwise. Check once, then run many times.

    Imported here, not at the top: ``tosa_flatbuffer`` brings in xDSL and the IR,
    which ``import runtime`` alone should not pay for.
    """
    from tosa_flatbuffer import FlatbufferError, check_flatbuffer

    try:
        return check_flatbuffer(flatbuffer)
    except FlatbufferError as error:
        raise ReferenceModelError(
            f"not a runnable TOSA flatbuffer: {error}", status="BAD_FLATBUFFER"
        ) from error


def _check_runnable(io: GraphIO) -> None:
    """Refuse graph IO the binding cannot carry, rather than return its empty arrays."""
    for kind, tensors in (("input", io.inputs), ("output", io.outputs)):
        for index, tensor in enumerate(tensors):
            if tensor.tosa_dtype in _RUNNABLE:
                continue
            raise ReferenceModelError(
                f"{kind} {index} {tensor.name!r} is {tensor.tosa_dtype}, which the reference "
                f"model's Python binding cannot pass (it carries {', '.join(sorted(_RUNNABLE))})",
                status="UNSUPPORTED",
                input_index=index if kind == "input" else None,
                tensor_name=tensor.name,
            )


def _wire_inputs(expected: Sequence[IoTensor], given: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Check every input against the graph and give the arrays the binding takes: the
    same bytes, contiguous, in a dtype numpy's buffer protocol can spell."""
    if len(given) != len(expected):
        wanted = ", ".join(f"{t.name!r} {_describe(t.dtype, t.shape)}" for t in expected)
        raise ReferenceModelError(
            f"input mismatch: the graph takes {len(expected)} input(s) ({wanted}), given "
            f"{len(given)}",
            status="INPUT_MISMATCH",
        )
    return [
        _wire_input(index, tensor, array)
        for index, (tensor, array) in enumerate(zip(expected, given))
    ]


def _wire_input(index: int, tensor: IoTensor, array: np.ndarray) -> np.ndarray:
    """One input, checked (type, dtype, shape) and viewed as its wire dtype."""
    where = f"input {index} {tensor.name!r}"
    if not isinstance(array, np.ndarray):
        raise ReferenceModelError(
            f"input mismatch: {where} expects a numpy array "
            f"{_describe(tensor.dtype, tensor.shape)}, "
            f"given {type(array).__name__}",
            status="INPUT_MISMATCH",
            input_index=index,
            tensor_name=tensor.name,
        )
    if array.dtype != tensor.dtype or not _shape_fits(tensor.shape, array.shape):
        raise ReferenceModelError(
            f"input mismatch: {where} expects {_describe(tensor.dtype, tensor.shape)}, "
            f"given {_describe(array.dtype, array.shape)}{_signedness_hint(tensor, array.dtype)}",
            status="INPUT_MISMATCH",
            input_index=index,
            tensor_name=tensor.name,
        )
    wire = _wire_dtype(tensor.tosa_dtype)
    return np.ascontiguousarray(array).view(wire)


def _shape_fits(expected: tuple[int, ...] | None, given: tuple[int, ...]) -> bool:
    """Unranked takes any shape, a negative (dynamic) dimension any size."""
    if expected is None:
        return True
    return len(expected) == len(given) and all(e < 0 or e == g for e, g in zip(expected, given))


def _describe(dtype: np.dtype, shape: tuple[int, ...] | None) -> str:
    return f"{np.dtype(dtype).name} {'unranked' if shape is None else tuple(shape)}"


def _signedness_hint(tensor: IoTensor, given: np.dtype) -> str:
    """Why int8 and uint8 are not interchangeable here: the graph decides, via RESCALE."""
    if tensor.unsigned and given == _numpy_dtype(tensor.tosa_dtype):
        return (
            f" (the graph reads this {tensor.tosa_dtype} tensor as unsigned: a RESCALE with "
            f"input_unsigned = true consumes it)"
        )
    if not tensor.unsigned and given == _UNSIGNED_DTYPES.get(tensor.tosa_dtype):
        return (
            f" (the graph reads this {tensor.tosa_dtype} tensor as signed: "
            f"{np.dtype(given).name} is only taken where a RESCALE with input_unsigned = true "
            "consumes it)"
        )
    return ""


def _typed_outputs(
    expected: Sequence[IoTensor], outputs: list[np.ndarray], log: str
) -> list[np.ndarray]:
    """The binding's outputs viewed as the graph's types: raw ``V2``/``V1`` bytes as
    bfloat16/fp8, the int8/int16 of an unsigned RESCALE as uint8/uint16."""
    if len(outputs) != len(expected):
        raise ReferenceModelError(
            f"the reference model returned {len(outputs)} output(s), the graph has {len(expected)}",
            status="BAD_OUTPUT",
            log=log,
        )
    return [
        _typed_output(index, tensor, array, log)
        for index, (tensor, array) in enumerate(zip(expected, outputs))
    ]


def _typed_output(index: int, tensor: IoTensor, array: np.ndarray, log: str) -> np.ndarray:
    if array.dtype.itemsize != tensor.dtype.itemsize or not _shape_fits(tensor.shape, array.shape):
        raise ReferenceModelError(
            f"output {index} {tensor.name!r}: the reference model returned "
            f"{_describe(array.dtype, array.shape)} for {tensor.tosa_dtype} {tensor.shape}",
            status="BAD_OUTPUT",
            log=log,
            tensor_name=tensor.name,
        )
    return array.view(tensor.dtype)


# ----------------------------------------------------------------------------- status


def _check_status(status, log: str, tosa_level: str) -> None:
    """Raise for any GraphStatus but TOSA_VALID; the outputs of such a run are garbage."""
    if status == tosa_reference_model.GraphStatus.TOSA_VALID:
        return
    if status == tosa_reference_model.GraphStatus.TOSA_ERROR:
        headline, code = "graph hit an ERROR_IF (GraphStatus.TOSA_ERROR)", "ERROR_IF"
    elif "LEVEL_CHECK() fails" in log:
        headline = (
            f"graph exceeds a limit of TOSA level {tosa_level} (GraphStatus.TOSA_UNPREDICTABLE)"
        )
        code = "UNPREDICTABLE"
    elif status == tosa_reference_model.GraphStatus.TOSA_UNPREDICTABLE:
        headline, code = (
            "graph result is UNPREDICTABLE: a REQUIRE failed (GraphStatus.TOSA_UNPREDICTABLE)",
            "UNPREDICTABLE",
        )
    else:
        headline, code = f"reference model returned {status!r}", "INVALID"
    raise ReferenceModelError(_message(headline, log), status=code, log=log)


def _rejection_error(error: ValueError, log: str) -> ReferenceModelError:
    """The binding raises ValueError when it cannot load or validate the graph ("Invalid
    TOSA graph") or take the inputs ("Invalid inputs."; our checks should make that moot)."""
    if "input" in str(error).lower():
        headline, code = (
            f"input mismatch: the reference model refused the inputs ({error})",
            "INPUT_MISMATCH",
        )
    else:
        headline, code = (
            f"reference model rejected the graph before running it ({error})",
            "INVALID",
        )
    return ReferenceModelError(_message(headline, log), status=code, log=log)


_MAX_LOG_LINES = 40


def _message(headline: str, log: str) -> str:
    """Headline, the reference model's own reasons, then its (trimmed) output."""
    reasons = _reasons(log)
    text = headline + (": " + "; ".join(reasons) if reasons else "")
    lines = log.splitlines()
    if not lines:
        return text
    shown = lines[:_MAX_LOG_LINES]
    more = len(lines) - len(shown)
    tail = [f"... {more} more line(s) in .log"] if more else []
    return "\n".join([text, "reference model output:", *("  " + line for line in shown + tail)])


_FAILED_CHECK = re.compile(r"^\w+\(\) fails AT ")
_REASON_PREFIXES = ("Operator validation error: ", "ERROR: ", "FATAL ERROR")


def _reasons(log: str) -> list[str]:
    """The human lines of the log: the line after each ``X() fails AT file:line`` and the
    reference model's own error lines, in order, without repeats."""
    lines = log.splitlines()
    found: list[str] = []
    for i, line in enumerate(lines):
        if _FAILED_CHECK.match(line) and i + 1 < len(lines):
            found.append(lines[i + 1].strip())
        elif line.startswith(_REASON_PREFIXES):
            found.append(
                line.removeprefix("Operator validation error: ").removeprefix("ERROR: ").strip()
            )
    return list(dict.fromkeys(reason for reason in found if reason))


# ----------------------------------------------------------------------------- output log

# Printed on every run by this tosa-tools for a 1.0.0 flatbuffer (its serializer is
# 1.1.0d): true, harmless, and not worth a line in every error message.
_VERSION_NOTE = "WARNING: Different TOSA spec in flatbuffer and serializer versions detected"
_BACKTRACE_START = "Attaching debugger to pid"
_BACKTRACE_END = re.compile(r"^\[Inferior \d+ \(process \d+\) detached\]")
# Lines the reference model itself writes; they end a backtrace block gdb did not close.
_MODEL_LINE = re.compile(
    r"^(WARNING AT |\w+\(\) fails AT |FATAL ERROR|ASSERTION AT |ERROR: "
    r"|Operator validation error|Graph result)"
)


def _without_backtraces(text: str) -> str:
    """The captured text minus gdb's backtraces and the version note.

    Every ERROR_IF makes the reference model fork and run ``gdb --batch`` on this process:
    "Attaching debugger to pid N", gdb's banner and warnings, a stack of Python frames,
    "[Inferior 1 (process N) detached]" (or "Backtrace generation failed..." when gdb is
    missing). None of it says anything about the graph.
    """
    kept: list[str] = []
    in_backtrace = False
    for line in text.splitlines():
        if line.startswith(_BACKTRACE_START):
            in_backtrace = True
            continue
        if in_backtrace and _BACKTRACE_END.match(line):
            in_backtrace = False
            continue
        if in_backtrace and not _MODEL_LINE.match(line):
            continue
        in_backtrace = False
        if not line.startswith(_VERSION_NOTE) and line.strip():
            kept.append(line)
    return "\n".join(kept)
