"""Build constants from numpy buffers: bytes in, bytes kept, no Python lists.

A 10M-element weight becomes a ``DenseIntOrFPElementsAttr`` by one ``tobytes()``; reading
it back is ``np.frombuffer`` over the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import ml_dtypes
import numpy as np
from xdsl.dialects.builtin import (
    BFloat16Type,
    BytesAttr,
    DenseIntOrFPElementsAttr,
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
    TensorType,
)
from xdsl.ir import Attribute

from ir.dialects.tosa_ext import ConstOp, ConstShapeOp, ShapeType
from ir.speedups.identity import interned


#: numpy (ml_dtypes where numpy has none) for every float type TOSA names: the one table
#: of float storage (the flatbuffer codecs and the reference model's IO read it)
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


def dense_from_numpy(array: np.ndarray, element_type: Attribute) -> DenseIntOrFPElementsAttr:
    """Elements attribute over ``array``'s bytes, cast once to the storage dtype."""
    dtype = storage_dtype(element_type).newbyteorder("<")
    data = np.ascontiguousarray(array, dtype=dtype).tobytes()
    return DenseIntOrFPElementsAttr(interned(TensorType(element_type, array.shape)), BytesAttr(data))


def flat_storage(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    """Read-only 1-D numpy view of an elements attribute's stored bytes."""
    dtype = storage_dtype(attr.type.element_type).newbyteorder("<")
    return np.frombuffer(attr.data.data, dtype=dtype)


def numpy_from_dense(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    """Read-only numpy view of an elements attribute's bytes (splat-expanded)."""
    t = attr.type
    shape = tuple(t.get_shape())
    flat = flat_storage(attr)
    if isinstance(t.element_type, IntegerType) and t.element_type.width.data == 1:
        flat = flat != 0  # xDSL parses `true` as all-ones
    if flat.size == 1 and int(np.prod(shape)) != 1:
        return np.broadcast_to(flat.reshape(()), shape)
    return flat.reshape(shape)


def const(array: np.ndarray, element_type: Attribute) -> ConstOp:
    """``tosa.const`` holding ``array``."""
    values = dense_from_numpy(array, element_type)
    return ConstOp.create(properties={"values": values}, result_types=[values.type])


def const_shape(values: Sequence[int]) -> ConstShapeOp:
    """``tosa.const_shape`` of ``values`` with result ``!tosa.shape<len(values)>``."""
    array = np.asarray(values, dtype=np.int64).reshape(len(values))
    attr = dense_from_numpy(array, IndexType())
    return ConstShapeOp.create(properties={"values": attr}, result_types=[ShapeType(len(values))])


__all__ = ["FLOAT_STORAGE", "storage_dtype", "flat_storage", "dense_from_numpy", "numpy_from_dense", "const", "const_shape"]
