"""FX values to IR types: a torch dtype plus ExecuTorch's ``tosa_special_dtype`` meta.

Torch has no int48, int4 or shape dtypes, so the Arm passes mark such nodes with
``meta["tosa_special_dtype"]``; the fake tensor then carries a stand-in dtype (int64 for
int48). ``torch.uint8`` stays ``ui8`` here: the typed stage shows unsigned IO as it is,
and the signless stage makes it ``i8``.
"""

from __future__ import annotations

import numpy as np
import torch
from xdsl.dialects.builtin import (
    BFloat16Type,
    Float8E4M3FNType,
    Float8E5M2Type,
    Float8E8M0FNUType,
    Float16Type,
    Float32Type,
    IntegerType,
    Signedness,
    TensorType,
)
from xdsl.ir import Attribute

from ir.dialects.tosa_ext import ShapeType

SPECIAL_DTYPE_META = "tosa_special_dtype"

DTYPE_TO_ELEMENT: dict[torch.dtype, Attribute] = {
    torch.float32: Float32Type(),
    torch.float16: Float16Type(),
    torch.bfloat16: BFloat16Type(),
    torch.float8_e4m3fn: Float8E4M3FNType(),
    torch.float8_e5m2: Float8E5M2Type(),
    torch.float8_e8m0fnu: Float8E8M0FNUType(),  # TOSA 1.1 block scales (fp8ue8m0_t)
    torch.int8: IntegerType(8),
    torch.uint8: IntegerType(8, Signedness.UNSIGNED),
    torch.int16: IntegerType(16),
    torch.int32: IntegerType(32),
    torch.bool: IntegerType(1),
}

#: ``TosaSpecialDtype`` member names (ExecuTorch's enum) to element types
SPECIAL_TO_ELEMENT: dict[str, Attribute] = {
    "INT48": IntegerType(48),
    "INT4": IntegerType(4),
}


class UnsupportedTypeError(TypeError):
    """A value whose dtype TOSA has no type for (int64, float64, complex...)."""


def element_type(dtype: torch.dtype) -> Attribute:
    element = DTYPE_TO_ELEMENT.get(dtype)
    if element is None:
        raise UnsupportedTypeError(f"TOSA has no element type for {dtype}")
    return element


def special_dtype_name(meta: dict) -> str | None:
    special = meta.get(SPECIAL_DTYPE_META)
    return None if special is None else special.name


def first_fake_tensor(meta: dict):
    """The fake tensor of a node (the first one of a multi-output node)."""
    val = meta.get("val")
    if isinstance(val, list | tuple):
        val = val[0] if val else None
    if not isinstance(val, torch.Tensor):
        raise UnsupportedTypeError(f"node has no tensor value in meta['val'] (got {type(val).__name__})")
    return val


def static_shape(tensor: torch.Tensor) -> list[int]:
    """The shape as ints; a symbolic dimension is refused, not read as its example
    value (``int()`` of a backed SymInt quietly gives the hint the export traced with)."""
    for index, dim in enumerate(tensor.shape):
        if isinstance(dim, torch.SymInt) and dim.node.maybe_as_int() is None:
            raise UnsupportedTypeError(
                f"dimension {index} of shape {tuple(tensor.shape)} is dynamic ({dim}); TOSA 1.0 shapes are static"
            )
    return [int(d) for d in tensor.shape]


def value_type(meta: dict) -> Attribute:
    """The IR type of an FX node's (first) value."""
    special = special_dtype_name(meta)
    if special == "SHAPE":
        return ShapeType(len(meta["val"]))
    tensor = first_fake_tensor(meta)
    element = SPECIAL_TO_ELEMENT.get(special) if special else None
    if element is None:
        element = element_type(tensor.dtype)
    return TensorType(element, static_shape(tensor))


def tensor_type_of(tensor: torch.Tensor) -> TensorType:
    return TensorType(element_type(tensor.dtype), static_shape(tensor))


def numpy_of(tensor: torch.Tensor) -> np.ndarray:
    """A tensor's bytes as numpy, viewing the dtypes numpy lacks through ml_dtypes."""
    import ml_dtypes

    tensor = tensor.detach().cpu().contiguous()
    views = {
        torch.bfloat16: (torch.uint16, ml_dtypes.bfloat16),
        torch.float8_e4m3fn: (torch.uint8, ml_dtypes.float8_e4m3fn),
        torch.float8_e5m2: (torch.uint8, ml_dtypes.float8_e5m2),
        torch.float8_e8m0fnu: (torch.uint8, ml_dtypes.float8_e8m0fnu),
    }
    if tensor.dtype in views:
        storage, view = views[tensor.dtype]
        return tensor.view(storage).numpy().view(view)
    return tensor.numpy()
