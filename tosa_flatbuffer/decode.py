"""Untrusted bytes to checked records: the one place that reads a TOSA flatbuffer.

Everything here is pure Python over the generated ``tosa`` accessors, so a corrupt file
cannot crash the process; every failure becomes a ``FlatbufferError`` saying what is
wrong and where (region / block / operator or tensor). Nothing is handed to C++ (the
reference model, Vela) before ``decode`` has accepted the buffer.

The records keep tensor data as zero-copy ``memoryview`` slices of the input.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from tosa.DType import DType
from tosa.TosaGraph import TosaGraph
from tosa.TosaRegion import TosaRegion
from xdsl.ir import Operation

from ir.diagnostics import describe_op, op_place
from ir.dialects.tosa_ext import OPS_BY_SPEC_NAME
from tosa_flatbuffer.schema import (
    CODEC_BY_DTYPE,
    DTYPE_NAMES,
    FILE_IDENTIFIER,
    AttributeTable,
    attribute_table,
    camel,
    file_size,
    spec_name_of_file_op,
)
from tosa_flatbuffer.verify_bytes import LayoutError, verify_layout

#: elements one tensor may hold: TOSA level 8K's MAX_TENSOR_SIZE is far below this; the
#: bound only keeps a flipped bit in a dimension from asking for terabytes
MAX_ELEMENTS = 1 << 40
#: the deepest cond/while nesting we follow (level 8K allows 6)
MAX_NESTING = 64


class FlatbufferError(ValueError):
    """A TOSA flatbuffer we cannot read, or a module we cannot write; says what and where.

    ``op`` is the IR op a writer error is about (None for a file's own faults, which name
    their region / block / operator in the text); ``place`` its ``file:line``, for tools
    that print errors the way compilers do.
    """

    def __init__(self, message: str, *, op: Operation | None = None) -> None:
        super().__init__(message)
        self.op = op

    @classmethod
    def at(cls, op: Operation | None, message: str) -> FlatbufferError:
        """An error about ``op``: its description (``ir.diagnostics.describe_op``) first."""
        return cls(f"{describe_op(op)}: {message}", op=op)

    @property
    def place(self) -> str | None:
        return op_place(self.op)


@dataclass(frozen=True)
class FbTensor:
    name: str
    shape: tuple[int, ...]
    dtype: int  # schema DType
    data: memoryview | None  # the file's bytes (None: no data)
    variable: bool = False
    variable_name: str = ""

    @property
    def count(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class FbOperator:
    op: str  # spec name, e.g. "CONV2D"
    attributes: dict  # snake_case field -> Python value (see schema.FIELD_KINDS)
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    location: str


@dataclass
class FbBlock:
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    tensors: dict[str, FbTensor] = field(default_factory=dict)
    operators: list[FbOperator] = field(default_factory=list)


@dataclass
class FbGraph:
    version: tuple[int, int, int, bool]
    regions: dict[str, list[FbBlock]]  # region name -> blocks; the first region is main

    @property
    def main(self) -> FbBlock:
        return next(iter(self.regions.values()))[0]


@dataclass(frozen=True, eq=False)
class CheckedFlatbuffer:
    """A TOSA flatbuffer's bytes with their records, known to be well formed.

    Made by ``check_flatbuffer`` (decoded, rebuilt as IR and verified) or by
    ``writer.to_checked_flatbuffer`` (written from a verified module, whose records the
    writer planned), never from unchecked bytes: the runtime takes one in place of bytes
    so that one compile decodes and verifies nothing twice.
    """

    data: bytes
    graph: FbGraph

    def __len__(self) -> int:
        return len(self.data)

    def __bytes__(self) -> bytes:
        return self.data


def decode(data: bytes | bytearray | memoryview) -> FbGraph:
    """Read and check a TOSA 1.0 flatbuffer; ``FlatbufferError`` if it is not one."""
    buf = memoryview(data).cast("B") if not isinstance(data, memoryview) else data.cast("B")
    _check_header(buf)
    try:
        verify_layout(buf)
    except LayoutError as err:
        raise FlatbufferError(f"graph: corrupt flatbuffer: {err}") from None
    where = "graph"
    try:
        graph = TosaGraph.GetRootAs(buf, 0)
        version = _version(graph)
        regions: dict[str, list[FbBlock]] = {}
        for r in range(_length(graph.RegionsLength(), "regions", buf)):
            where = f"region {r}"
            # None only when the vector is absent, and then RegionsLength() is 0
            region = cast(TosaRegion, graph.Regions(r))
            name = _text(region.Name())
            where = f"region '{name}'"
            if name in regions:
                raise FlatbufferError(f"two regions are named '{name}'")
            count = _length(region.BlocksLength(), "blocks", buf)
            regions[name] = [
                _block(region.Blocks(b), f"{where} block {b}", buf) for b in range(count)
            ]
    except FlatbufferError as err:
        if str(err).startswith(("region", "graph")):
            raise
        raise FlatbufferError(f"{where}: {err}") from None
    except (
        struct.error,
        ValueError,
        IndexError,
        TypeError,
        UnicodeDecodeError,
        AttributeError,
    ) as err:
        raise FlatbufferError(
            f"{where}: corrupt flatbuffer ({type(err).__name__}: {err})"
        ) from None
    if not regions or not next(iter(regions.values())):
        raise FlatbufferError("graph: no main region (the file holds no graph)")
    fb = FbGraph(version, regions)
    _check_references(fb)
    return fb


# ----------------------------------------------------------------------------- parts


def _check_header(buf: memoryview) -> None:
    if len(buf) < 8:
        raise FlatbufferError(f"graph: {len(buf)} bytes is too short for a TOSA flatbuffer")
    if bytes(buf[4:8]) != FILE_IDENTIFIER:
        raise FlatbufferError(
            f"graph: file identifier is {bytes(buf[4:8])!r}, not {FILE_IDENTIFIER!r}: not a TOSA "
            "flatbuffer"
        )
    root = struct.unpack_from("<I", buf, 0)[0]
    if root + 4 > len(buf):
        raise FlatbufferError(
            f"graph: root table offset {root} is past the end ({len(buf)} bytes): truncated file"
        )


def _version(graph: TosaGraph) -> tuple[int, int, int, bool]:
    v = graph.Version()
    if v is None:
        raise FlatbufferError("no version table")
    version = (v._Major(), v._Minor(), v._Patch(), bool(v._Draft()))
    major, minor = version[:2]
    if major != 1 or minor > 1:
        text = f"{major}.{minor}.{version[2]}" + (" draft" if version[3] else "")
        raise FlatbufferError(
            f"TOSA version {text} is not supported (this reads TOSA 1.0 files, and 1.1 drafts "
            "holding 1.0 operators)"
        )
    return version


def _length(n: int, what: str, buf: memoryview) -> int:
    # each element of a vector of tables takes at least 4 bytes of the buffer
    if n < 0 or n * 4 > len(buf):
        raise FlatbufferError(f"{what} vector claims {n} entries in a {len(buf)}-byte file")
    return n


def _text(raw: bytes | None) -> str:
    return "" if raw is None else raw.decode("utf-8")


def _block(block, where: str, buf: memoryview) -> FbBlock:
    name = _text(block.Name())
    inputs = tuple(
        _text(block.Inputs(i)) for i in range(_length(block.InputsLength(), "inputs", buf))
    )
    outputs = tuple(
        _text(block.Outputs(i)) for i in range(_length(block.OutputsLength(), "outputs", buf))
    )
    fb = FbBlock(name, inputs, outputs)
    for t in range(_length(block.TensorsLength(), "tensors", buf)):
        _add_tensor(fb, _tensor(block.Tensors(t), f"{where} tensor {t}"), where)
    for s in range(_length(block.ShapesLength(), "shapes", buf)):
        _add_tensor(fb, _shape(block.Shapes(s), f"{where} shape {s}"), where)
    for o in range(_length(block.OperatorsLength(), "operators", buf)):
        fb.operators.append(_operator(block.Operators(o), f"{where} operator {o}"))
    return fb


def _add_tensor(block: FbBlock, tensor: FbTensor, where: str) -> None:
    known = block.tensors.get(tensor.name)
    if known is not None and known != tensor:
        raise FlatbufferError(f"{where}: two different tensors are named '{tensor.name}'")
    block.tensors[tensor.name] = tensor


def _tensor(t, where: str) -> FbTensor:
    name = _text(t.Name())
    where = f"{where} '{name}'"
    dtype = t.Type()
    if dtype not in CODEC_BY_DTYPE:
        raise FlatbufferError(
            f"{where}: element type {DTYPE_NAMES.get(dtype, dtype)} is not a TOSA 1.0 tensor type"
        )
    if t.IsUnranked():
        raise FlatbufferError(f"{where}: unranked tensors are not supported")
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    _check_shape(shape, where)
    data = _data(t.DataAsNumpy() if t.DataLength() else None, shape, dtype, where)
    return FbTensor(name, shape, dtype, data, bool(t.Variable()), _text(t.VariableName()))


def _shape(s, where: str) -> FbTensor:
    name = _text(s.Name())
    rank = s.Rank()
    where = f"{where} '{name}'"
    if not 0 <= rank <= MAX_NESTING:
        raise FlatbufferError(f"{where}: shape of rank {rank}")
    data = s.DataAsNumpy() if s.DataLength() else None
    return FbTensor(name, (rank,), DType.SHAPE, _data(data, (rank,), DType.SHAPE, where))


def _check_shape(shape: tuple[int, ...], where: str) -> None:
    if any(d < 0 for d in shape):
        raise FlatbufferError(f"{where}: shape {list(shape)} has a negative (dynamic) dimension")
    if math.prod(shape) > MAX_ELEMENTS:
        raise FlatbufferError(f"{where}: shape {list(shape)} is too large")


def _data(array, shape: tuple[int, ...], dtype: int, where: str) -> memoryview | None:
    if array is None:
        return None
    count = math.prod(shape)
    need = count * 8 if dtype == DType.SHAPE else file_size(count, CODEC_BY_DTYPE[dtype])
    if array.size < need:
        raise FlatbufferError(
            f"{where}: {array.size} bytes of data for {count} elements of {DTYPE_NAMES[dtype]} "
            f"(need {need})"
        )
    return np.ascontiguousarray(array[:need]).data  # a memoryview of those bytes


def _operator(o, where: str) -> FbOperator:
    code = o.Op()
    spec_name = spec_name_of_file_op(code, o.AttributeType())
    if spec_name not in OPS_BY_SPEC_NAME:
        raise FlatbufferError(f"{where}: operator {spec_name or code} is not a TOSA 1.0 operator")
    where = f"{where} ({spec_name})"
    inputs = tuple(_text(o.Inputs(i)) for i in range(o.InputsLength()))
    outputs = tuple(_text(o.Outputs(i)) for i in range(o.OutputsLength()))
    location = o.Location()
    text = _text(location.Text()) if location is not None else ""
    return FbOperator(spec_name, _attributes(o, spec_name, where), inputs, outputs, text)


def _attributes(o, spec_name: str, where: str) -> dict:
    try:
        table = attribute_table(spec_name)
    except KeyError:
        return {}
    if o.AttributeType() != table.tag:
        if not table.fields:
            return {}  # e.g. MLIR writes VARIABLE_READ with another empty table
        raise FlatbufferError(
            f"{where}: attribute table {o.AttributeType()} is not {table.cls.__name__}"
        )
    raw = o.Attribute()
    if raw is None:
        raise FlatbufferError(f"{where}: missing {table.cls.__name__}")
    attr = table.cls()
    attr.Init(raw.Bytes, raw.Pos)
    return {name: _field(attr, table, name) for name in table.fields}


def _field(attr, table: AttributeTable, name: str):
    accessor = camel(name)
    as_numpy = getattr(attr, f"{accessor}AsNumpy", None)
    if as_numpy is None:
        value = getattr(attr, accessor)()
        return value.decode("utf-8") if isinstance(value, bytes) else value
    if getattr(attr, f"{accessor}Length")() == 0:
        return np.zeros(0, dtype=np.int32)
    return np.array(as_numpy())


def _check_references(fb: FbGraph) -> None:
    """Every name an operator or block uses is a tensor of its block (or a region name)."""
    for region_name, blocks in fb.regions.items():
        for block in blocks:
            where = f"region '{region_name}' block '{block.name}'"
            for name in (*block.inputs, *block.outputs):
                if name not in block.tensors:
                    raise FlatbufferError(
                        f"{where}: input/output '{name}' is not a tensor of the block"
                    )
            for index, op in enumerate(block.operators):
                for name in (*op.inputs, *op.outputs):
                    if name not in block.tensors:
                        raise FlatbufferError(
                            f"{where} operator {index} ({op.op}): tensor '{name}' is not in the "
                            "block"
                        )
                for key, value in op.attributes.items():
                    if key.endswith("_graph") and value not in fb.regions:
                        raise FlatbufferError(
                            f"{where} operator {index} ({op.op}): no region named '{value}'"
                        )
