"""Element types, one table: the IR's type, the numpy dtype of its bytes, its TOSA name.

Every TOSA element type is one ``ElementDType`` row: the xDSL element type the IR
spells it with, the TOSA DType name the flatbuffer schema gives it (``INT8``, ``BF16``,
``SHAPE``...), its bits per element in a flatbuffer and the first TOSA version that has
it. The numpy sides are derived, not listed: ``storage`` (the dtype of the IR's dense
bytes, ``storage_dtype``) and ``values`` (the dtype a caller holds values in: numpy's
bool for BOOL, else the storage).

The others key off this table instead of keeping their own: the flatbuffer codec
(``tosa_flatbuffer.schema`` adds the schema's enum values by name), the reference model's
IO (``runtime.reference``), the float printer (``ir.float_format``) and torch's dtypes
(``bridge.fx_types``, since ``ir`` imports no torch).
"""

from __future__ import annotations

from dataclasses import dataclass

import ml_dtypes
import numpy as np
from xdsl.dialects.builtin import (
    BFloat16Type,
    Float4E2M1FNType,
    Float6E2M3FNType,
    Float6E3M2FNType,
    Float8E4M3FNType,
    Float8E5M2Type,
    Float8E8M0FNUType,
    Float16Type,
    Float32Type,
    Float64Type,
    IndexType,
    IntegerType,
    Signedness,
)
from xdsl.ir import Attribute

#: numpy (ml_dtypes where numpy has none) for every float type the IR stores; f64 is no
#: TOSA type, but constants and attributes may hold it
FLOAT_STORAGE: dict[Attribute, np.dtype] = {
    Float16Type(): np.dtype(np.float16),
    BFloat16Type(): np.dtype(ml_dtypes.bfloat16),
    Float32Type(): np.dtype(np.float32),
    Float64Type(): np.dtype(np.float64),
    Float8E4M3FNType(): np.dtype(ml_dtypes.float8_e4m3fn),
    Float8E5M2Type(): np.dtype(ml_dtypes.float8_e5m2),
    Float8E8M0FNUType(): np.dtype(ml_dtypes.float8_e8m0fnu),
    Float6E2M3FNType(): np.dtype(ml_dtypes.float6_e2m3fn),
    Float6E3M2FNType(): np.dtype(ml_dtypes.float6_e3m2fn),
    Float4E2M1FNType(): np.dtype(ml_dtypes.float4_e2m1fn),
}


def storage_dtype(element_type: Attribute) -> np.dtype:
    """The numpy dtype whose bytes xDSL stores for ``element_type`` (i1 and i4 one byte
    per element, i48 in eight; fp8, fp6 and fp4 one byte, as ``ml_dtypes``)."""
    if isinstance(element_type, IntegerType):
        width = element_type.width.data
        unsigned = element_type.signedness.data == Signedness.UNSIGNED
        if width <= 8:
            return np.dtype(np.uint8 if unsigned else np.int8)
        if width <= 16:
            return np.dtype(np.uint16 if unsigned else np.int16)
        if width <= 32:
            return np.dtype(np.uint32 if unsigned else np.int32)
        return np.dtype(np.uint64 if unsigned else np.int64)
    if isinstance(element_type, IndexType):
        return np.dtype(np.int64)
    found = FLOAT_STORAGE.get(element_type)
    if found is None:
        raise TypeError(f"no numpy storage for element type {element_type}")
    return found


@dataclass(frozen=True)
class ElementDType:
    """One TOSA element type as the IR, numpy and a flatbuffer see it."""

    tosa: str  # the flatbuffer schema's DType name
    ir_type: Attribute  # signless; index for SHAPE
    file_bits: int  # bits per element in a flatbuffer (4, 6, 8, 16, 32, 48, 64)
    version: str = "1.0"  # the first TOSA version with this type

    @property
    def storage(self) -> np.dtype:
        """The dtype of the IR's dense bytes."""
        return storage_dtype(self.ir_type)

    @property
    def values(self) -> np.dtype:
        """The dtype a caller holds values in: numpy's bool for BOOL, else the storage."""
        return np.dtype(np.bool_) if self.tosa == "BOOL" else self.storage


#: every TOSA element type, tensors first, then the shape type
ELEMENT_DTYPES: tuple[ElementDType, ...] = (
    ElementDType("BOOL", IntegerType(1), 8),
    ElementDType("INT4", IntegerType(4), 4),
    ElementDType("INT8", IntegerType(8), 8),
    ElementDType("INT16", IntegerType(16), 16),
    ElementDType("INT32", IntegerType(32), 32),
    ElementDType("INT48", IntegerType(48), 48),
    ElementDType("FP32", Float32Type(), 32),
    ElementDType("FP16", Float16Type(), 16),
    ElementDType("BF16", BFloat16Type(), 16),
    ElementDType("FP8E4M3", Float8E4M3FNType(), 8),
    ElementDType("FP8E5M2", Float8E5M2Type(), 8),
    ElementDType("FP8UE8M0", Float8E8M0FNUType(), 8, "1.1"),
    ElementDType("FP6E2M3", Float6E2M3FNType(), 6, "1.1"),
    ElementDType("FP6E3M2", Float6E3M2FNType(), 6, "1.1"),
    ElementDType("FP4E2M1", Float4E2M1FNType(), 4, "1.1"),
    ElementDType("SHAPE", IndexType(), 64),
)
BY_TOSA_NAME: dict[str, ElementDType] = {d.tosa: d for d in ELEMENT_DTYPES}
#: the tensor element types (not SHAPE), by their IR type
BY_IR_TYPE: dict[Attribute, ElementDType] = {
    d.ir_type: d for d in ELEMENT_DTYPES if d.tosa != "SHAPE"
}


#: ``FLOAT_STORAGE`` by the name MLIR prints the type with (``f16``, ``bf16``, ``f8E4M3FN``)
FLOAT_STORAGE_BY_NAME: dict[str, np.dtype] = {t.name: d for t, d in FLOAT_STORAGE.items()}


__all__ = [
    "BY_IR_TYPE",
    "BY_TOSA_NAME",
    "ELEMENT_DTYPES",
    "FLOAT_STORAGE",
    "FLOAT_STORAGE_BY_NAME",
    "ElementDType",
    "storage_dtype",
]
