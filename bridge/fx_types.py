"""FX values to IR types: a torch dtype plus ExecuTorch's ``tosa_special_dtype`` meta.

Torch has no int48, int4 or shape dtypes, so the Arm passes mark such nodes with
``meta["tosa_special_dtype"]``; the fake tensor then carries a stand-in dtype (int64 for
int48). ``torch.uint8`` stays ``ui8`` here: the typed stage shows unsigned IO as it is,
and the signless stage makes it ``i8``.
"""

from __future__ import annotations

import numpy as np
import torch
from xdsl.dialects.builtin import IntegerType, Signedness, TensorType
from xdsl.ir import Attribute

from ir.dialects.tosa_ext import ShapeType
from ir.dtypes import BY_TOSA_NAME, storage_dtype
from ir.speedups.shared_attrs import shared, tensor_type

SPECIAL_DTYPE_META = "tosa_special_dtype"

#: torch's side of ``ir.dtypes``: the TOSA element type each torch dtype stands for
_TORCH_TO_TOSA: dict[torch.dtype, str] = {
    torch.float32: "FP32",
    torch.float16: "FP16",
    torch.bfloat16: "BF16",
    torch.float8_e4m3fn: "FP8E4M3",
    torch.float8_e5m2: "FP8E5M2",
    torch.float8_e8m0fnu: "FP8UE8M0",  # TOSA 1.1 block scales (fp8ue8m0_t)
    torch.int8: "INT8",
    torch.int16: "INT16",
    torch.int32: "INT32",
    torch.bool: "BOOL",
}

DTYPE_TO_ELEMENT: dict[torch.dtype, Attribute] = {
    **{dtype: BY_TOSA_NAME[name].ir_type for dtype, name in _TORCH_TO_TOSA.items()},
    torch.uint8: IntegerType(8, Signedness.UNSIGNED),  # the typed stage's ui8 IO
}

#: ``TosaSpecialDtype`` member names (ExecuTorch's enum, TOSA's names) to element types.
#: The TOSA 1.1 fp4/fp6 block-scaled payloads travel in torch as ``uint8``: fp6 one per
#: byte, fp4 two per byte (``PACKED_FP4``), their TOSA type only in this meta
SPECIAL_TO_ELEMENT: dict[str, Attribute] = {
    name: BY_TOSA_NAME[name].ir_type for name in ("INT48", "INT4", "FP4E2M1", "FP6E2M3", "FP6E3M2")
}

#: an element type whose ``uint8`` carrier holds two elements per byte, low nibble first
#: (torch's ``float4_e2m1fn_x2`` and the TOSA file's order: ExecuTorch writes the bytes as
#: they are), so the carrier's last dimension is half the tensor's
PACKED_FP4 = BY_TOSA_NAME["FP4E2M1"].ir_type

#: torch's unsigned integer of each size: how a dtype numpy lacks crosses to numpy
_UINT_OF_SIZE = {1: torch.uint8, 2: torch.uint16}


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
        raise UnsupportedTypeError(
            f"node has no tensor value in meta['val'] (got {type(val).__name__})"
        )
    return val


def static_shape(tensor: torch.Tensor) -> list[int]:
    """The shape as ints; a symbolic dimension is refused, not read as its example
    value (``int()`` of a backed SymInt quietly gives the hint the export traced with)."""
    dims = list(tensor.shape)
    if all(type(d) is int for d in dims):  # static: plain ints (a SymInt is not an int)
        return dims
    for index, dim in enumerate(tensor.shape):
        if isinstance(dim, torch.SymInt) and dim.node.maybe_as_int() is None:
            raise UnsupportedTypeError(
                f"dimension {index} of shape {tuple(tensor.shape)} is dynamic ({dim}); TOSA 1.0 "
                "shapes are static"
            )
    return [int(d) for d in tensor.shape]


def value_type(meta: dict) -> Attribute:
    """The IR type of an FX node's (first) value: one object per distinct type
    (``ir.speedups.shared_attrs``), so verifying a module checks each op signature once."""
    special = special_dtype_name(meta)
    if special == "SHAPE":
        rank = len(meta["val"])
        return shared(("shape", rank), lambda: ShapeType(rank))
    tensor = first_fake_tensor(meta)
    element = SPECIAL_TO_ELEMENT.get(special) if special else None
    if element is None:
        return tensor_type(element_type(tensor.dtype), static_shape(tensor))
    return tensor_type(element, carried_shape(static_shape(tensor), tensor.dtype, element))


def carried_shape(shape: list[int], dtype: torch.dtype, element: Attribute) -> list[int]:
    """The TOSA shape of a tensor of ``element`` whose torch value has ``shape``: twice
    the last dimension for fp4 packed in uint8, the same otherwise."""
    if element == PACKED_FP4 and dtype == torch.uint8 and shape:
        return [*shape[:-1], shape[-1] * 2]
    return shape


def tensor_type_of(tensor: torch.Tensor) -> TensorType:
    return tensor_type(element_type(tensor.dtype), static_shape(tensor))


def numpy_of(tensor: torch.Tensor, element: Attribute | None = None) -> np.ndarray:
    """A tensor's bytes as numpy, viewing the dtypes numpy lacks (bfloat16, fp8) through
    their ``ir.dtypes`` storage (ml_dtypes, user-defined numpy dtypes: ``num`` >= 256);
    with ``element``, a ``uint8`` carrier of fp6/fp4 (``SPECIAL_TO_ELEMENT``) as one
    element of that type per byte, fp4 unpacked."""
    tensor = tensor.detach().cpu()  # a strided view is fine: the constant copies it once
    if element is not None and tensor.dtype == torch.uint8 and element in _CARRIED:
        return _carried(tensor.numpy(), element)
    own = DTYPE_TO_ELEMENT.get(tensor.dtype)
    storage = storage_dtype(own) if own is not None else None
    if storage is None or storage.num < 256:
        return tensor.numpy()
    return tensor.view(_UINT_OF_SIZE[tensor.element_size()]).numpy().view(storage)


#: the element types a ``uint8`` carrier can hold (one per byte in the IR's storage)
_CARRIED = frozenset(SPECIAL_TO_ELEMENT[name] for name in ("FP4E2M1", "FP6E2M3", "FP6E3M2"))


def _carried(carrier: np.ndarray, element: Attribute) -> np.ndarray:
    storage = storage_dtype(element)
    if element != PACKED_FP4:
        return carrier.view(storage)
    pairs = np.stack([carrier & 0x0F, carrier >> 4], axis=-1)
    return pairs.reshape(*carrier.shape[:-1], carrier.shape[-1] * 2).view(storage)
