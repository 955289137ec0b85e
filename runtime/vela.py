"""Compile a TOSA flatbuffer for an Arm Ethos-U NPU with Vela, as ExecuTorch does.

``compile_vela(flatbuffer)`` runs Vela (``ethos-u-vela`` 5.1.0) in-process on the bytes and
returns the NPU command stream, the delegate payload ExecuTorch's Ethos-U backend stores in
a ``.pte`` (the "vela_bin_stream" format of ``executorch.backends.arm.arm_vela``), and a
summary: which TOSA operator runs where, and Vela's SRAM/flash and cycle estimates.

The Vela arguments are the ones ``EthosUCompileSpec(accelerator)`` builds, so for the same
flatbuffer the payload is byte for byte ExecuTorch's. The delegate payload is packed here
rather than by calling ``arm_vela.vela_compile``: importing ExecuTorch's Arm backend pulls
in torch and torchao (seconds, and warnings on stderr) for sixty lines of struct packing,
while Vela itself takes a fraction of a second. The tests compare the two byte for byte.

The summary comes from files Vela writes itself: the summary CSV (always written) and the
debug database (``--enable-debug-db``, which leaves the command stream unchanged). The
debug database's ``source`` table keys each TOSA operator by its index in its block
(``ext_key``) and its ``perf`` table gives each scheduled NPU operation its source
operator and cycle estimate, which is what ties the figures back to the TOSA graph.

Vela has no CPU fallback for TOSA input: an operator the NPU cannot run is a compile
error ("Non-passthrough operation (Resize) could not run on NPU"), and the raw output
format ExecuTorch uses refuses CPU operations outright. A successful compile therefore
places every operator on the NPU; ``cpu_ops`` is still read from Vela (its "Passthrough"
operations), not assumed.
"""

from __future__ import annotations

import csv
import glob
import io
import os
import re
import struct
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ir.defaults import DEFAULT_ACCELERATOR
from runtime._capture import CAPTURE_LOCK, captured_output

if TYPE_CHECKING:
    from tosa_flatbuffer.decode import CheckedFlatbuffer, FbOperator

__all__ = [
    "OpPlacement",
    "VelaError",
    "VelaResult",
    "VelaSummary",
    "compile_vela",
    "vela_args",
]

# The Vela configuration file ExecuTorch names: the one shipped inside the Vela package.
VELA_CONFIG = "Arm/vela.ini"
# Vela's own default strategy; only a different one is passed, so that the default
# argument list stays exactly ExecuTorch's.
DEFAULT_OPTIMISE = "Performance"

# ExecuTorch's EthosUCompileSpec._default_system_config_and_memory_mode, by target family.
_DEFAULT_SYSTEM = {
    "ethos-u55": ("Ethos_U55_High_End_Embedded", "Shared_Sram"),
    "ethos-u65": ("Ethos_U65_High_End", "Dedicated_Sram_384KB"),
    "ethos-u85": ("Ethos_U85_SYS_DRAM_Mid", "Sram_Only"),
}
# Arguments compile_vela owns: the payload needs raw output in a folder it cleans up.
_RESERVED_ARGS = ("--output-dir", "--output-format")

# ExecuTorch's EthosUBackend refuses larger graphs: Vela's flatbuffer reader stops at 2 GiB.
_MAX_FLATBUFFER_BYTES = 2 * 1024 * 1024 * 1024
_NETWORK_FILE = "network.tosa"
_CONSTANT_OPS = frozenset({"CONST", "CONST_SHAPE"})
# Vela's name for an operation it leaves to the host CPU (stats_writer's "Target" column).
_VELA_CPU_OPERATOR = "Passthrough"

# The vela_bin_stream layout of executorch/backends/arm/arm_vela.py (vela_compile), which
# ExecuTorch's VelaBinStream.cpp reads on the device: per block a 16-byte NUL-padded name,
# int32 length, external flag, 11 reserved bytes, then the data padded to 16 bytes.
_BLOCK_HEADER = struct.Struct("<16sIB11s")
_BLOCK_ALIGNMENT = 16
_STREAM_HEADER = "vela_bin_stream"
_STREAM_FOOTER = "vela_end_stream"
_VELA_IO_RANK = 6


class VelaError(Exception):
    """Vela could not compile the graph (or was not given one); ``log`` is its output."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


@dataclass(frozen=True)
class OpPlacement:
    """Where one non-constant TOSA operator of the main block runs.

    ``target`` is "NPU" when the operator is part of the command stream, with its own
    scheduled operations or folded into a neighbour's (a RESCALE fused into a CONV2D, a
    RESHAPE that only renames memory), and "CPU" when Vela leaves it to the host.
    ``cycles`` is the sum of Vela's estimates for the operations scheduled for it, None
    when it has none of its own; ``vela_ops`` names those operations (a TRANSPOSE can
    take two).
    """

    index: int
    op: str
    output: str
    target: str
    cycles: int | None
    vela_ops: tuple[str, ...] = ()


@dataclass(frozen=True)
class VelaSummary:
    """What Vela reports for one compile.

    ``npu_ops + cpu_ops`` is the number of non-constant operators of the TOSA main block
    (CONST and CONST_SHAPE excluded); ``scheduled_ops`` is the number of NPU operations in
    Vela's per-layer performance table, what it scheduled after fusing (a RESCALE into a
    CONV2D) and decomposing (a TRANSPOSE into two). Memory figures are Vela's peak
    usage per memory area, in bytes; ``cycles`` its total estimate, which also counts
    work that has no row (the branches of a COND_IF on the Ethos-U85).
    """

    npu_ops: int
    cpu_ops: int
    scheduled_ops: int
    placement: tuple[OpPlacement, ...]
    sram_bytes: int
    dram_bytes: int
    on_chip_flash_bytes: int
    off_chip_flash_bytes: int
    cycles: int
    npu_cycles: int
    macs: int
    core_clock_hz: float
    inference_time_s: float
    accelerator: str = ""
    system_config: str = ""
    memory_mode: str = ""

    @property
    def flash_bytes(self) -> int:
        """On-chip and off-chip flash together: where a memory mode keeps the weights."""
        return self.on_chip_flash_bytes + self.off_chip_flash_bytes

    def format(self) -> str:
        """A short table for a human: the figures, then one line per operator."""
        lines = [
            (
                f"{self.accelerator} ({self.system_config}, {self.memory_mode}): "
                f"{self.npu_ops} NPU / {self.cpu_ops} CPU TOSA ops, "
                f"{self.scheduled_ops} Vela ops"
            ),
            (
                f"{self.cycles} cycles, {self.inference_time_s * 1e3:.3f} ms at "
                f"{self.core_clock_hz / 1e6:g} MHz, {self.macs} MACs"
            ),
            _memory_line(self),
        ]
        width = max([len(p.output) for p in self.placement] + [len("output")])
        lines.append(f"{'#':>4}  {'op':<18} {'output':<{width}}  target  {'cycles':>9}")
        for p in self.placement:
            cycles = "-" if p.cycles is None else str(p.cycles)
            lines.append(
                f"{p.index:>4}  {p.op:<18} {p.output:<{width}}  {p.target:<6}  {cycles:>9}"
            )
        return "\n".join(lines)


def _memory_line(summary: VelaSummary) -> str:
    areas = (
        ("SRAM", summary.sram_bytes),
        ("DRAM", summary.dram_bytes),
        ("on-chip flash", summary.on_chip_flash_bytes),
        ("off-chip flash", summary.off_chip_flash_bytes),
    )
    used = [f"{name} {size} B" for name, size in areas if size]
    return "peak memory: " + (", ".join(used) if used else "none reported")


@dataclass(frozen=True)
class VelaResult:
    """One compile: the NPU command stream, ExecuTorch's delegate payload, the summary.

    ``args`` are the Vela arguments used, without the file names (they name a folder
    that no longer exists).
    """

    command_stream: bytes
    delegate_blob: bytes
    summary: VelaSummary
    args: tuple[str, ...] = ()


# --------------------------------------------------------------------------- arguments


def vela_args(
    accelerator: str = DEFAULT_ACCELERATOR,
    *,
    system_config: str | None = None,
    memory_mode: str | None = None,
    optimise: str = DEFAULT_OPTIMISE,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The Vela arguments ``EthosUCompileSpec(accelerator, system_config, memory_mode,
    extra_flags=extra_args)`` builds, in its order (extra arguments first), plus
    ``--optimise`` when it is not Vela's default."""
    _check_args(accelerator, optimise, extra_args)
    default_system, default_memory = _default_system(accelerator)
    args = [
        *extra_args,
        f"--accelerator-config={accelerator}",
        f"--config={VELA_CONFIG}",
        "--output-format=raw",
        f"--system-config={default_system if system_config is None else system_config}",
        f"--memory-mode={default_memory if memory_mode is None else memory_mode}",
    ]
    if optimise != DEFAULT_OPTIMISE:
        args.append(f"--optimise={optimise}")
    return args


def _check_args(accelerator: str, optimise: str, extra_args: Sequence[str]) -> None:
    """Refuse what Vela would turn into a SystemExit or a wrong payload, before running it."""
    # Through vela's main module: importing scheduler first hits a circular import in Vela.
    from ethosu.vela import vela

    accelerators = vela.architecture_features.Accelerator.member_list()
    if accelerator not in accelerators:
        raise VelaError(
            f"unknown accelerator {accelerator!r}; Vela knows {', '.join(accelerators)}"
        )
    strategies = [s.name for s in vela.scheduler.OptimizationStrategy]
    if optimise not in strategies:
        raise VelaError(
            f"unknown optimise strategy {optimise!r}; Vela knows {', '.join(strategies)}"
        )
    if isinstance(extra_args, str):
        raise VelaError("extra_args must be a sequence of arguments, not one string")
    for arg in extra_args:
        if " " in arg:
            # ExecuTorch joins and re-splits its flags on spaces; keep the same arguments valid.
            raise VelaError(f"Vela argument {arg!r} contains a space; write it as --option=value")
        if arg.split("=", 1)[0] in _RESERVED_ARGS:
            raise VelaError(f"{arg!r}: compile_vela sets the output folder and format itself")


def _default_system(accelerator: str) -> tuple[str, str]:
    for family, defaults in _DEFAULT_SYSTEM.items():
        if accelerator.startswith(family):
            return defaults
    raise VelaError(
        f"no default system config for {accelerator!r}; pass system_config and memory_mode"
    )


# --------------------------------------------------------------------------- compile


def compile_vela(
    flatbuffer: bytes | CheckedFlatbuffer,
    accelerator: str = DEFAULT_ACCELERATOR,
    *,
    system_config: str | None = None,
    memory_mode: str | None = None,
    optimise: str = DEFAULT_OPTIMISE,
    extra_args: Sequence[str] = (),
    verbose: bool = False,
) -> VelaResult:
    """Compile ``flatbuffer`` (a TOSA 1.0 graph) for ``accelerator`` with Vela.

    Defaults are ExecuTorch's for the accelerator (see ``vela_args``). Vela runs in this
    process in a temporary folder that is removed whatever happens; its output is kept
    out of the terminal (the C++ core writes to file descriptor 1 itself, so the capture
    is at descriptor level) unless ``verbose``. Runs are serialized, with each other and
    with reference-model runs, by the output capture's process-wide lock. Any failure,
    Vela's or a bad argument, is a VelaError carrying Vela's message; nothing partial is
    returned.
    """
    checked = _checked_flatbuffer(flatbuffer)
    args = vela_args(
        accelerator,
        system_config=system_config,
        memory_mode=memory_mode,
        optimise=optimise,
        extra_args=extra_args,
    )
    with tempfile.TemporaryDirectory(prefix="vela-") as folder:
        output_dir = _run_vela(checked.data, args, folder, verbose)
        command_stream, delegate_blob = _read_payload(output_dir)
        summary = _read_summary(output_dir, checked.graph.main.operators)
    return VelaResult(command_stream, delegate_blob, summary, tuple(args))


def _checked_flatbuffer(flatbuffer: bytes | CheckedFlatbuffer) -> CheckedFlatbuffer:
    """The bytes and their decoded graph, refused early when they cannot be a TOSA graph.

    Vela's own reader verifies the flatbuffer, but its message for bytes that are not
    TOSA at all is "No networks defined via GraphAPI"; the project's checker
    (``tosa_flatbuffer.check_flatbuffer``) also names what is wrong, and gives the decoded
    graph the summary is matched against. A ``CheckedFlatbuffer`` is not checked again.
    Imported late: ``tosa_flatbuffer`` brings in xDSL and the IR, which ``import runtime``
    alone should not pay for.
    """
    from tosa_flatbuffer import CheckedFlatbuffer, FlatbufferError, check_flatbuffer

    if not isinstance(flatbuffer, (bytes, bytearray, memoryview, CheckedFlatbuffer)):
        raise VelaError(f"expected the flatbuffer's bytes, got {type(flatbuffer).__name__}")
    if not isinstance(flatbuffer, CheckedFlatbuffer):
        flatbuffer = bytes(flatbuffer)
    if len(flatbuffer) > _MAX_FLATBUFFER_BYTES:
        raise VelaError(f"TOSA flatbuffer of {len(flatbuffer)} bytes is over Vela's 2 GiB limit")
    try:
        return check_flatbuffer(flatbuffer)
    except FlatbufferError as err:  # says "not a TOSA flatbuffer" for foreign bytes
        raise VelaError(f"invalid TOSA flatbuffer: {err}") from err


def _run_vela(data: bytes, args: list[str], folder: str, verbose: bool) -> str:
    """Run Vela on ``data`` inside ``folder``; the folder Vela wrote its output to."""
    network = os.path.join(folder, _NETWORK_FILE)
    output_dir = os.path.join(folder, "output")
    with open(network, "wb") as f:
        f.write(data)
    argv = [*args, "--enable-debug-db", f"--output-dir={output_dir}", network]
    if verbose:
        with CAPTURE_LOCK:  # not captured, but kept out of another thread's capture
            failure, log = _invoke_vela(argv), ""
    else:
        with captured_output() as captured:
            failure = _invoke_vela(argv)
        log = captured.text
    if failure is not None:
        raise VelaError(f"Vela failed: {_failure_message(failure, log)}", log)
    return output_dir


def _invoke_vela(argv: list[str]) -> BaseException | None:
    """Vela's ``main`` on ``argv``: None on success, else what went wrong.

    Vela reports failures in every way Python allows: exceptions from its C++ core
    (RuntimeError), its own VelaError family, argparse's SystemExit, and a return code
    of 1 after printing the error (its legacy path). All are returned, not raised, so
    the caller can restore the terminal before raising.
    """
    from ethosu.vela import vela

    try:
        code = vela.main(argv)
    except (Exception, SystemExit) as err:
        return err
    if code:
        return SystemExit(code)  # its message is in the log, as argparse's is
    return None


def _failure_message(failure: BaseException, log: str) -> str:
    """Vela's message: the exception's text, or for argparse's SystemExit (whose text is
    just the exit code) the error line argparse printed."""
    if isinstance(failure, SystemExit):
        lines = [line for line in log.splitlines() if line.strip()]
        errors = [line for line in lines if "error:" in line]
        return "\n".join(errors or lines[-1:]) or f"vela exited with code {failure.code}"
    text = str(failure).strip()
    if isinstance(failure, RuntimeError) and text:
        return text  # the C++ core's "Compilation failed: ..." speaks for itself
    return f"{type(failure).__name__}: {text}"


# --------------------------------------------------------------------------- payload


def _output_file(output_dir: str, pattern: str) -> str:
    matches = sorted(glob.glob(os.path.join(glob.escape(output_dir), pattern)))
    if len(matches) != 1:
        raise VelaError(f"Vela wrote {len(matches)} files matching {pattern!r}, expected one")
    return matches[0]


def _read_payload(output_dir: str) -> tuple[bytes, bytes]:
    """The command stream and the delegate payload, from Vela's raw output (``*_vela.npz``)."""
    with np.load(_output_file(output_dir, "*_vela.npz"), allow_pickle=False) as npz:
        command_stream = npz["cmd_data"].tobytes()
        return command_stream, _delegate_blob(npz, command_stream)


def _delegate_blob(npz, command_stream: bytes) -> bytes:
    """ExecuTorch's vela_bin_stream for Vela's raw output, all blocks inline (its default:
    no external block placements)."""
    scratch = npz["scratch_shape"][0]
    if not isinstance(scratch, np.int64):
        raise VelaError(
            f"expected an int64 scratch size in Vela's output, got {type(scratch).__name__}"
        )
    blocks = {
        _STREAM_HEADER: b"",
        "cmd_data": command_stream,
        "weight_data": npz["weight_data"].tobytes(),
        "scratch_size": struct.pack("<I", int(scratch)),
        "inputs": _pack_io(npz, "input"),
        "outputs": _pack_io(npz, "output"),
        _STREAM_FOOTER: b"",
    }
    return b"".join(_pack_block(name, payload) for name, payload in blocks.items())


def _pack_block(name: str, payload: bytes) -> bytes:
    header = _BLOCK_HEADER.pack(name.encode("utf8")[:15], len(payload), 0, b"")
    padding = b"\x00" * (-len(payload) % _BLOCK_ALIGNMENT)
    return header + payload + padding


def _pack_io(npz, prefix: str) -> bytes:
    """The count, then per tensor its 6-D shape, element size, offset and region (int32)."""
    shapes = npz[f"{prefix}_shape"]
    packed = struct.pack("<i", len(shapes))
    for i, shape in enumerate(shapes):
        if len(shape) != _VELA_IO_RANK:
            raise VelaError(
                f"Vela gave {prefix} {i} a {len(shape)}-D shape, expected {_VELA_IO_RANK}-D"
            )
        fields = [
            *(int(dim) for dim in shape),
            _int32(npz[f"{prefix}_elem_size"][i], f"{prefix}_elem_size"),
            _int32(npz[f"{prefix}_offset"][i], f"{prefix}_offset"),
            _int32(npz[f"{prefix}_region"][i], f"{prefix}_region"),
        ]
        packed += struct.pack("<9i", *fields)
    return packed


def _int32(value, name: str) -> int:
    """A numpy scalar as int32, unsigned values reinterpreted as ExecuTorch does."""
    arr = np.asarray(value)
    if np.issubdtype(arr.dtype, np.unsignedinteger):
        arr = arr.astype(np.int64)
    number = int(arr)
    if not -(2**31) <= number < 2**31:
        raise VelaError(f"{name} out of int32 range: {number}")
    return number


# --------------------------------------------------------------------------- summary


def _read_summary(output_dir: str, ops: Sequence[FbOperator]) -> VelaSummary:
    """The summary CSV's figures and, from the debug database, the placement of ``ops``
    (the operators of the graph's main block, in file order)."""
    figures = _read_summary_csv(_output_file(output_dir, "*_summary_*.csv"))
    tables = _read_debug_db(_output_file(output_dir, "*_debug.xml"))
    perf = _table(tables, "perf", ("source_id", "operator", "op_cycles"))
    placement = _placement(ops, _table(tables, "source", ("id", "operator", "ext_key")), perf)
    npu_ops = sum(1 for p in placement if p.target == "NPU")
    return VelaSummary(
        npu_ops=npu_ops,
        cpu_ops=len(placement) - npu_ops,
        scheduled_ops=sum(1 for row in perf if row["operator"] != _VELA_CPU_OPERATOR),
        placement=placement,
        sram_bytes=_kib_to_bytes(figures, "sram_memory_used"),
        dram_bytes=_kib_to_bytes(figures, "dram_memory_used"),
        on_chip_flash_bytes=_kib_to_bytes(figures, "on_chip_flash_memory_used"),
        off_chip_flash_bytes=_kib_to_bytes(figures, "off_chip_flash_memory_used"),
        cycles=round(_number(figures, "cycles_total")),
        npu_cycles=round(_number(figures, "cycles_npu")),
        macs=round(_number(figures, "nn_macs")),
        core_clock_hz=_number(figures, "core_clock"),
        inference_time_s=_number(figures, "inference_time"),
        accelerator=figures.get("accelerator_configuration", ""),
        system_config=figures.get("system_config", ""),
        memory_mode=figures.get("memory_mode", ""),
    )


def _read_summary_csv(path: str) -> dict[str, str]:
    """Vela's summary CSV: one header row, one row of figures."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) != 2 or len(rows[0]) != len(rows[1]):
        raise VelaError(f"unexpected layout of Vela's summary CSV ({len(rows)} rows)")
    return dict(zip(rows[0], rows[1]))


def _number(figures: dict[str, str], key: str) -> float:
    if key not in figures:
        raise VelaError(f"Vela's summary CSV has no {key!r} column")
    return float(figures[key])


def _kib_to_bytes(figures: dict[str, str], key: str) -> int:
    """Vela writes memory use in KiB (bytes / 1024.0, so exact)."""
    return round(_number(figures, key) * 1024)


_TABLE = re.compile(r'<table name="(\w+)">\s*<!\[CDATA\[\n(.*?)\]\]>', re.DOTALL)


def _read_debug_db(path: str) -> dict[str, list[dict[str, str]]]:
    """The tables of Vela's debug database: CSV text in CDATA sections of an XML file.

    Read with a pattern, not an XML parser: Vela writes the output path into an attribute
    without escaping it.
    """
    with open(path, encoding="utf-8") as f:
        text = f.read()
    tables = {}
    for name, body in _TABLE.findall(text):
        rows = list(csv.reader(io.StringIO(body)))
        tables[name] = [dict(zip(rows[0], row)) for row in rows[1:]] if rows else []
    return tables


def _table(tables: dict, name: str, columns: Sequence[str]) -> list[dict[str, str]]:
    rows = tables.get(name)
    if rows is None:
        raise VelaError(f"Vela's debug database has no {name!r} table")
    missing = [c for c in columns if rows and c not in rows[0]]
    if missing:
        raise VelaError(f"Vela's debug database table {name!r} lacks columns {missing}")
    return rows


def _main_block_sources(source: list[dict[str, str]], ops: Sequence[FbOperator]) -> dict[str, int]:
    """Vela source id -> operator index in the main block (every operator counts, CONST
    included: the index is the one in ``FbBlock.operators``).

    Vela lists the main block's operators first, by increasing ``ext_key`` (the index in
    the block), then each nested block's, restarting from 0: the first decrease ends
    the main block. Each entry is checked against the graph so that a change in Vela's
    keys is an error, not a wrong placement.
    """
    mapping: dict[str, int] = {}
    previous = -1
    for row in source:
        key = int(row["ext_key"])
        if key <= previous:
            break
        if key >= len(ops) or (row["operator"] == "Const") != (ops[key].op in _CONSTANT_OPS):
            raise VelaError(f"cannot match Vela's source operator {row} to the TOSA main block")
        mapping[row["id"]] = key
        previous = key
    return mapping


def _placement(
    ops: Sequence[FbOperator], source: list[dict[str, str]], perf: list[dict[str, str]]
) -> tuple[OpPlacement, ...]:
    """One OpPlacement per non-constant main-block operator, in graph order."""
    index_of = _main_block_sources(source, ops)
    scheduled: dict[int, list[dict[str, str]]] = {}
    for row in perf:
        if row["source_id"] in index_of:
            scheduled.setdefault(index_of[row["source_id"]], []).append(row)
    placement = []
    for index, op in enumerate(ops):
        if op.op in _CONSTANT_OPS:
            continue
        rows = scheduled.get(index, [])
        on_cpu = any(row["operator"] == _VELA_CPU_OPERATOR for row in rows)
        placement.append(
            OpPlacement(
                index=index,
                op=op.op,
                output=op.outputs[0] if op.outputs else "",
                target="CPU" if on_cpu else "NPU",
                cycles=sum(int(row["op_cycles"]) for row in rows) if rows else None,
                vela_ops=tuple(row["operator"] for row in rows),
            )
        )
    return tuple(placement)
