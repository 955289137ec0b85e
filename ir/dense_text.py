"""Dense elements attributes as MLIR writes them, computed from the bytes with numpy.

MLIR prints a splat as one value, more than 100 elements as a hex string of its own
storage (i1 and i4 one byte per element, i48 in six bytes), and otherwise a nested list.
xDSL decodes every element into a Python list even for the hex form and stores i48 in
eight bytes; this module does neither.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, IndexType, IntegerType
from xdsl.ir import Attribute

from ir.builders import flat_storage

HEX_THRESHOLD = 100  # MLIR: more elements than this print as hex


def is_i48(element_type: Attribute) -> bool:
    return isinstance(element_type, IntegerType) and element_type.width.data == 48


def mlir_hex(attr: DenseIntOrFPElementsAttr) -> str:
    data = attr.data.data
    if is_i48(attr.type.element_type):
        data = np.frombuffer(data, dtype="<u1").reshape(-1, 8)[:, :6].tobytes()
    return f'"0x{data.hex().upper()}"'


def i48_from_mlir_hex(data: bytes, count: int) -> bytes | None:
    """MLIR's six-byte i48 hex to xDSL's eight-byte storage (sign-extended)."""
    if len(data) not in (6 * count, 6):
        return None
    six = np.frombuffer(data, dtype="<u1").reshape(-1, 6)
    fill = np.where(six[:, 5:6] >= 0x80, 0xFF, 0).astype(np.uint8)
    eight = np.concatenate([six, fill, fill], axis=1)
    if len(eight) == 1 and count != 1:
        eight = np.repeat(eight, count, axis=0)
    return eight.tobytes()


def _element_texts(attr: DenseIntOrFPElementsAttr, values: np.ndarray) -> list[str]:
    element_type = attr.type.element_type
    if isinstance(element_type, IntegerType) and element_type.width.data == 1:
        return ["true" if v else "false" for v in values.tolist()]
    if isinstance(element_type, IntegerType | IndexType):
        return [str(v) for v in values.tolist()]
    from ir.float_format import mlir_float_text

    return [mlir_float_text(v, element_type) for v in values]


def _nested(texts: list[str], shape: tuple[int, ...]) -> str:
    if len(shape) <= 1:
        return "[" + ", ".join(texts) + "]"
    step = len(texts) // shape[0] if shape[0] else 0
    parts = [_nested(texts[i : i + step], shape[1:]) for i in range(0, len(texts), step or 1)]
    return "[" + ", ".join(parts) + "]"


def dense_text(attr: DenseIntOrFPElementsAttr) -> str:
    """``dense<...>`` without the trailing ``: type``."""
    values = flat_storage(attr)
    n = values.size
    if n == 0:
        return "dense<>"
    raw = values.view(f"<u{values.itemsize}")
    if (raw == raw[0]).all():
        return f"dense<{_element_texts(attr, values[:1])[0]}>"
    if n > HEX_THRESHOLD:
        return f"dense<{mlir_hex(attr)}>"
    shape = tuple(attr.type.get_shape())
    return f"dense<{_nested(_element_texts(attr, values), shape)}>"
