"""Attribute fields both ways: IR property <-> the value the schema stores.

One pair of small functions per ``schema.Kind``; the writer and the reader look them up
in ``TO_FILE`` / ``FROM_FILE``, so a field's two directions sit next to each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, cast

import numpy as np
from xdsl.dialects.builtin import (
    AnyFloat,
    DenseArrayBase,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
    i1,
    i32,
    i64,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute

from ir.dialects.tosa_ext import (
    BlockSize,
    BlockSizeAttr,
    NanMode,
    NanModeAttr,
    ResizeMode,
    ResizeModeAttr,
    RoundingMode,
    RoundingModeAttr,
)
from tosa_flatbuffer.schema import (
    CODEC_BY_DTYPE,
    ENUMS,
    I32_LIST_FIELDS,
    Kind,
    codec_of,
    file_bytes,
    ir_bytes,
)

#: IR enum member name -> schema enum member name, where they differ
_SCHEMA_SPELLING = {"NEAREST_NEIGHBOR": "NEAREST"}
_IR_SPELLING = {v: k for k, v in _SCHEMA_SPELLING.items()}
_IR_ENUMS = {
    Kind.NAN_MODE: (NanMode, NanModeAttr),
    Kind.ROUNDING_MODE: (RoundingMode, RoundingModeAttr),
    Kind.RESIZE_MODE: (ResizeMode, ResizeModeAttr),
    Kind.BLOCK_SIZE: (BlockSize, BlockSizeAttr),
}


class FieldContext(NamedTuple):
    """What a field conversion may need besides the value (a tuple: one is made per
    field of every operator written or read)."""

    name: str
    element_type: Attribute | None  # the first input's element type (CLAMP bounds)


class FieldError(ValueError):
    pass


# ----------------------------------------------------------------------------- IR -> file


def _bool_to_file(value: IntegerAttr | None, ctx: FieldContext):
    return bool(value.value.data) if value is not None else False


def _int_to_file(value: IntegerAttr, ctx: FieldContext):
    return int(value.value.data)


def _list_to_file(value: DenseArrayBase[IntegerType], ctx: FieldContext):
    return np.asarray(value.get_values(), dtype=np.int32)


def _value_bytes_to_file(value: IntegerAttr | FloatAttr, ctx: FieldContext):
    codec = codec_of(ctx.element_type) if ctx.element_type is not None else None
    if codec is None:
        raise FieldError(f"{ctx.name}: no TOSA storage for element type {ctx.element_type}")
    scalar = value.value.data
    return file_bytes(np.asarray([scalar]).astype(codec.numpy), codec)


def _string_to_file(value: StringAttr, ctx: FieldContext):
    return value.data


def _string_bytes_to_file(value: StringAttr, ctx: FieldContext):
    return value.data.encode("utf-8")


def _acc_type_to_file(value: Attribute, ctx: FieldContext):
    codec = codec_of(value)
    if codec is None:
        raise FieldError(f"{ctx.name}: {value} is not a TOSA accumulator type")
    return codec.dtype


def _enum_to_file(kind: Kind) -> Callable:
    def convert(value: EnumAttribute, ctx: FieldContext):
        ir_name = cast(str, value.data.value)  # a StrEnum member's value
        return getattr(ENUMS[kind], _SCHEMA_SPELLING.get(ir_name, ir_name))

    return convert


TO_FILE: dict[Kind, Callable] = {
    Kind.BOOL: _bool_to_file,
    Kind.INT32: _int_to_file,
    Kind.INT32_LIST: _list_to_file,
    Kind.VALUE_BYTES: _value_bytes_to_file,
    Kind.STRING: _string_to_file,
    Kind.STRING_BYTES: _string_bytes_to_file,
    Kind.ACC_TYPE: _acc_type_to_file,
    **{kind: _enum_to_file(kind) for kind in ENUMS},
}

# ----------------------------------------------------------------------------- file -> IR


def _bool_from_file(value, ctx: FieldContext):
    return IntegerAttr(int(bool(value)), i1)


def _int_from_file(value, ctx: FieldContext):
    return IntegerAttr(int(value), i32)


def _list_from_file(value, ctx: FieldContext):
    element = i32 if ctx.name in I32_LIST_FIELDS else i64
    return DenseArrayBase.from_list(element, [int(v) for v in value])


def _value_bytes_from_file(value, ctx: FieldContext):
    codec = codec_of(ctx.element_type) if ctx.element_type is not None else None
    if codec is None:
        raise FieldError(f"{ctx.name}: cannot read a bound for element type {ctx.element_type}")
    raw = np.asarray(value, dtype=np.uint8).tobytes()
    scalar = np.frombuffer(ir_bytes(raw, 1, codec), dtype=codec.numpy)[0]
    ir_type = codec.ir_type
    if isinstance(ir_type, IntegerType):
        return IntegerAttr(int(scalar), ir_type)
    return FloatAttr(float(scalar), cast(AnyFloat, ir_type))  # the codecs' other types


def _string_from_file(value, ctx: FieldContext):
    return StringAttr(value or "")


def _string_bytes_from_file(value, ctx: FieldContext):
    return StringAttr(np.asarray(value, dtype=np.uint8).tobytes().decode("utf-8"))


def _acc_type_from_file(value, ctx: FieldContext):
    codec = CODEC_BY_DTYPE.get(value)
    if codec is None:
        raise FieldError(f"{ctx.name}: DType {value} is not an accumulator type")
    return codec.ir_type


def _enum_from_file(kind: Kind) -> Callable:
    names = {v: k for k, v in vars(ENUMS[kind]).items() if not k.startswith("_")}
    ir_enum, ir_attr = _IR_ENUMS[kind]

    def convert(value, ctx: FieldContext):
        name = names.get(value, "")  # no such value: "" is no member either
        ir_name = _IR_SPELLING.get(name, name)
        if ir_name not in ir_enum.__members__:
            raise FieldError(f"{ctx.name}: {value} is not a valid {ENUMS[kind].__name__}")
        return ir_attr(ir_enum[ir_name])

    return convert


FROM_FILE: dict[Kind, Callable] = {
    Kind.BOOL: _bool_from_file,
    Kind.INT32: _int_from_file,
    Kind.INT32_LIST: _list_from_file,
    Kind.VALUE_BYTES: _value_bytes_from_file,
    Kind.STRING: _string_from_file,
    Kind.STRING_BYTES: _string_bytes_from_file,
    Kind.ACC_TYPE: _acc_type_from_file,
    **{kind: _enum_from_file(kind) for kind in ENUMS},
}
