"""Build constants from numpy buffers: bytes in, bytes kept, no Python lists.

A 10M-element weight becomes a ``DenseIntOrFPElementsAttr`` by one ``tobytes()``; reading
it back is ``np.frombuffer`` over the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from xdsl.dialects.builtin import (
    AnyDenseElement,
    DenseIntOrFPElementsAttr,
    IndexType,
    IntegerType,
    LocationAttr,
)
from xdsl.ir import Attribute

from ir.dialects.tosa_ext import ConstOp, ConstShapeOp, ShapeType
from ir.dtypes import FLOAT_STORAGE, storage_dtype  # the one table of storage
from ir.speedups.op_create import op_factory
from ir.speedups.prechecked import dense_elements
from ir.speedups.shared_attrs import shared, tensor_type

#: a constant of at most this many bytes (a zero point, a shift, a small shape) is one
#: attribute object per value: models repeat a few such values hundreds of times
SHARED_CONSTANT_BYTES = 64


def dense_from_numpy(array: np.ndarray, element_type: Attribute) -> DenseIntOrFPElementsAttr:
    """Elements attribute over ``array``'s bytes, cast once to the storage dtype: one copy
    of them (two when the cast changes the dtype)."""
    dtype = storage_dtype(element_type).newbyteorder("<")
    data = np.asarray(array, dtype=dtype).tobytes()  # C order: a strided view copies once
    return dense_from_bytes(data, element_type, array.shape)


def dense_from_bytes(
    data: bytes, element_type: Attribute, shape: tuple[int, ...]
) -> DenseIntOrFPElementsAttr:
    """Elements attribute of ``shape`` over ``data``, already the element type's storage
    in little-endian C order (what ``dense_from_numpy`` makes of an array; a builder that
    has the bytes, such as a RESCALE's one multiplier, skips the array)."""
    # storage_dtype took only an integer, index or float element type
    dense_element = cast(AnyDenseElement, element_type)

    def build() -> DenseIntOrFPElementsAttr:
        return dense_elements(tensor_type(dense_element, shape), data)

    if len(data) > SHARED_CONSTANT_BYTES:
        return build()
    return shared(("dense", shape, data), build, dense_element)


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
    return const_of(dense_from_numpy(array, element_type))


_new_const = op_factory(ConstOp)
_new_const_shape = op_factory(ConstShapeOp)


def const_of(values: DenseIntOrFPElementsAttr, location: LocationAttr | None = None) -> ConstOp:
    """``tosa.const`` holding ``values`` (an attribute many constants may share)."""
    return _new_const((), (values.type,), {"values": values}, location)


def const_shape(values: Sequence[int]) -> ConstShapeOp:
    """``tosa.const_shape`` of ``values`` with result ``!tosa.shape<len(values)>``."""
    array = np.asarray(values, dtype=np.int64).reshape(len(values))
    attr = dense_from_numpy(array, shared("index", IndexType))
    rank = len(values)
    shape_type = shared(("shape", rank), lambda: ShapeType(rank))
    return _new_const_shape((), (shape_type,), {"values": attr})


__all__ = [
    "FLOAT_STORAGE",
    "const",
    "const_of",
    "const_shape",
    "dense_from_bytes",
    "dense_from_numpy",
    "flat_storage",
    "numpy_from_dense",
    "storage_dtype",
]
