"""What the TOSA flatbuffer schema and our dialect share, as tables.

The generated accessors of tosa-tools (package ``tosa``) are the schema: operator enum
names are the spec's operator names (``ARGMAX``, ``CONST_SHAPE``...), which are also our
dialect's keys (``OPS_BY_SPEC_NAME``); attribute tables are ``<Op>Attribute`` modules
whose ``Add<Field>`` functions name the fields in schema order, and those fields are our
properties in CamelCase. What the generated code cannot say is how a field's value is
spelt in the IR; ``FIELD_KINDS`` says it, one row per distinct field name.
"""

from __future__ import annotations

import enum
import importlib
import re
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import cast

import numpy as np
from tosa.Attribute import Attribute as FbAttribute
from tosa.BlockSize import BlockSize
from tosa.DType import DType
from tosa.NanPropagationMode import NanPropagationMode
from tosa.Op import Op
from tosa.ResizeMode import ResizeMode
from tosa.RoundingMode import RoundingMode
from xdsl.dialects.builtin import IntegerType, Signedness
from xdsl.ir import Attribute

from ir.dialects.tosa_ext import OPS_BY_SPEC_NAME
from ir.dtypes import ELEMENT_DTYPES, storage_dtype

#: the version ExecuTorch 1.5.1 writes for a TOSA 1.0 target
WRITE_VERSION = (1, 0, 0, False)
#: ... and for a TOSA 1.1 one: ``targetDraft`` is set for every minor version above 0
WRITE_VERSION_1_1 = (1, 1, 0, True)
WRITE_VERSIONS = {"1.0": WRITE_VERSION, "1.1": WRITE_VERSION_1_1}
#: file identifier at bytes 4..8 of every TOSA flatbuffer
FILE_IDENTIFIER = b"TOSA"


def _enum_names(cls: type) -> dict[int, str]:
    return {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


OP_NAMES: dict[int, str] = _enum_names(Op)
DTYPE_NAMES: dict[int, str] = _enum_names(DType)
ATTRIBUTE_NAMES: dict[int, str] = _enum_names(FbAttribute)

# ----------------------------------------------------------------------------- operators


def spec_name_of(op_cls: type) -> str:
    return _SPEC_NAME_BY_CLASS[op_cls]


_SPEC_NAME_BY_CLASS = {cls: name for name, cls in OPS_BY_SPEC_NAME.items()}


def _squash(name: str) -> str:
    return name.replace("_", "").lower()


_ATTRIBUTE_BY_SQUASHED = {
    _squash(name.removesuffix("Attribute")): (value, name)
    for value, name in ATTRIBUTE_NAMES.items()
}


#: operators MLIR's serializer (the only other writer of them) files under another op code,
#: told apart by their attribute table; we write and read them the same way
FILE_OP_CODE = {"VARIABLE_READ": Op.IDENTITY, "VARIABLE_WRITE": Op.IDENTITY}


def file_op_code(spec_name: str) -> int | None:
    return FILE_OP_CODE.get(spec_name, getattr(Op, spec_name, None))


def spec_name_of_file_op(code: int, attribute_tag: int) -> str | None:
    """The operator a (op code, attribute table) pair in a file stands for."""
    for spec_name, file_code in FILE_OP_CODE.items():
        if code == file_code and attribute_tag == attribute_table(spec_name).tag:
            return spec_name
    return OP_NAMES.get(code)


@dataclass(frozen=True)
class AttributeTable:
    """The ``<Op>Attribute`` table of one operator: union tag, accessor module, fields."""

    tag: int
    module: ModuleType
    cls: type
    fields: tuple[str, ...]  # snake_case, schema order


@cache
def attribute_table(spec_name: str) -> AttributeTable:
    """The attribute table of operator ``spec_name`` (``ARGMAX`` -> ``ArgMaxAttribute``)."""
    tag, class_name = _ATTRIBUTE_BY_SQUASHED[_squash(spec_name)]
    module = importlib.import_module(f"tosa.{class_name}")
    adders = re.findall(rf"^def {class_name}Add(\w+)\(builder", _source(module), flags=re.MULTILINE)
    fields = tuple(_snake(name) for name in adders)
    return AttributeTable(tag, module, getattr(module, class_name), fields)


def _source(module: ModuleType) -> str:
    with open(cast(str, module.__file__), encoding="utf-8") as f:  # a .py module has one
        return f.read()


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def camel(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


# ----------------------------------------------------------------------------- fields


class Kind(enum.Enum):
    BOOL = "bool"
    INT32 = "int32"
    INT32_LIST = "int32 list"  # IR: array<i64: ...> (array<i32: ...> for perms)
    VALUE_BYTES = "value bytes"  # IR: a scalar of the input's element type
    STRING = "string"
    STRING_BYTES = "string bytes"  # IR: a string; schema: [ubyte]
    REGION = "region name"  # IR: a region of the op; schema: the region's name
    ACC_TYPE = "dtype"
    NAN_MODE = "nan mode"
    ROUNDING_MODE = "rounding mode"
    RESIZE_MODE = "resize mode"
    BLOCK_SIZE = "block size"


FIELD_KINDS: dict[str, Kind] = {
    "axis": Kind.INT32,
    "nan_mode": Kind.NAN_MODE,
    "round": Kind.BOOL,
    "kernel": Kind.INT32_LIST,
    "stride": Kind.INT32_LIST,
    "pad": Kind.INT32_LIST,
    "dilation": Kind.INT32_LIST,
    "out_pad": Kind.INT32_LIST,
    "perms": Kind.INT32_LIST,
    "acc_type": Kind.ACC_TYPE,
    "local_bound": Kind.BOOL,
    "inverse": Kind.BOOL,
    "min_val": Kind.VALUE_BYTES,
    "max_val": Kind.VALUE_BYTES,
    "then_graph": Kind.REGION,
    "else_graph": Kind.REGION,
    "cond_graph": Kind.REGION,
    "body_graph": Kind.REGION,
    "operator_name": Kind.STRING,
    "domain_name": Kind.STRING,
    "implementation_attrs": Kind.STRING_BYTES,
    "scale32": Kind.BOOL,
    "per_channel": Kind.BOOL,
    "input_unsigned": Kind.BOOL,
    "output_unsigned": Kind.BOOL,
    "rounding_mode": Kind.ROUNDING_MODE,
    "mode": Kind.RESIZE_MODE,
    "block_size": Kind.BLOCK_SIZE,
}

#: list fields MLIR spells ``array<i32: ...>``; the others are ``array<i64: ...>``
I32_LIST_FIELDS = frozenset({"perms"})

#: region fields in the order of the op's regions
REGION_FIELDS = {
    "COND_IF": ("then_graph", "else_graph"),
    "WHILE_LOOP": ("cond_graph", "body_graph"),
}

#: enum kinds: (schema enum class, IR enum names in schema spelling)
ENUMS = {
    Kind.NAN_MODE: NanPropagationMode,
    Kind.ROUNDING_MODE: RoundingMode,
    Kind.RESIZE_MODE: ResizeMode,
    Kind.BLOCK_SIZE: BlockSize,
}

# ----------------------------------------------------------------------------- element types


@dataclass(frozen=True)
class ElementCodec:
    """How one TOSA dtype is stored: in the flatbuffer and in the IR's dense bytes."""

    dtype: int  # schema DType value
    ir_type: Attribute
    file_bits: int  # bits per element in the flatbuffer (4, 6, 8, 16, 32, 48, 64)
    version: str = "1.0"  # the first TOSA version with this dtype

    @property
    def numpy(self) -> np.dtype:
        """The IR's storage: ``ir.dtypes.storage_dtype``, the one table of it."""
        return storage_dtype(self.ir_type)


#: the tensor element types of ``ir.dtypes`` (SHAPE is a shape record, not a tensor),
#: with the schema's enum value of their name
_CODECS = [
    ElementCodec(getattr(DType, d.tosa), d.ir_type, d.file_bits, d.version)
    for d in ELEMENT_DTYPES
    if d.tosa != "SHAPE"
]
CODEC_BY_DTYPE: dict[int, ElementCodec] = {c.dtype: c for c in _CODECS}
CODEC_BY_IR_TYPE: dict[Attribute, ElementCodec] = {c.ir_type: c for c in _CODECS}


def codec_of(element_type: Attribute) -> ElementCodec | None:
    """The codec of a signless IR element type; None for anything TOSA 1.0/1.1 cannot store."""
    if (
        isinstance(element_type, IntegerType)
        and element_type.signedness.data != Signedness.SIGNLESS
    ):
        return None
    return CODEC_BY_IR_TYPE.get(element_type)


def file_bytes(values: np.ndarray, codec: ElementCodec) -> bytes:
    """The flatbuffer's bytes for ``values`` (flat, IR storage dtype): 4- and 6-bit
    elements packed as a little-endian bit stream (i4/fp4 two per byte low nibble first,
    fp6 four in three bytes), i48 in six little-endian bytes, bool as 0/1, the rest as
    stored."""
    if codec.dtype == DType.BOOL:
        return (values != 0).astype(np.uint8).tobytes()
    if codec.file_bits in (4, 6):
        raw = np.ascontiguousarray(values).view(np.uint8).reshape(-1)
        bits = np.unpackbits(raw[:, None], axis=1, bitorder="little")[:, : codec.file_bits]
        return np.packbits(bits.reshape(-1), bitorder="little").tobytes()
    if codec.file_bits == 48:
        wide = values.astype("<i8").view(np.uint8).reshape(-1, 8)
        return wide[:, :6].tobytes()
    return np.ascontiguousarray(values, dtype=codec.numpy.newbyteorder("<")).tobytes()


def ir_bytes(data: memoryview | bytes, count: int, codec: ElementCodec) -> bytes:
    """The IR's dense bytes for ``count`` elements stored in the flatbuffer as ``data``:
    one byte per 4/6-bit element (i4 sign-extended), eight per i48."""
    raw = np.frombuffer(data, dtype=np.uint8, count=file_size(count, codec))
    if codec.file_bits in (4, 6):
        bits = np.unpackbits(raw, bitorder="little")[: count * codec.file_bits].reshape(
            count, codec.file_bits
        )
        fields = np.packbits(bits, axis=1, bitorder="little").reshape(-1)
        if codec.dtype == DType.INT4:
            return (
                np.where(fields > 7, fields.astype(np.int16) - 16, fields).astype(np.int8).tobytes()
            )
        return fields.tobytes()
    if codec.file_bits == 48:
        six = raw.reshape(count, 6)
        sign = np.where(six[:, 5:6] & 0x80, np.uint8(0xFF), np.uint8(0))
        return np.concatenate([six, sign, sign], axis=1).tobytes()
    return raw.tobytes()


def file_size(count: int, codec: ElementCodec) -> int:
    """Bytes the flatbuffer needs for ``count`` elements."""
    return (count * codec.file_bits + 7) // 8
