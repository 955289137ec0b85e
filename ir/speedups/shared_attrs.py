"""Attributes built once per value, for builders that make many equal ones.

Replaces: a fresh xDSL attribute every time one is needed. Constructing a parametrized
attribute runs xDSL's verification of every parameter against its IRDL constraint
(``ParametrizedAttribute.__post_init__``): about 7 us for a ``TensorType``, 11 us for a
boolean ``IntegerAttr``, 13 us for a one-element dense attribute. The FX import of
MobileNetV2 needs about 700 types, 300 zero points and 500 flags and arrays, of a few
dozen distinct values; and an op whose properties are fresh objects misses the verify
memo (``identity``), which keys by object identity.

Here a builder names what it wants by plain Python values (``key``: a kind and its
arguments, attribute objects included, which hash by value) and gets the object built
the first time, by xDSL's own constructor: nothing is skipped, a bad value fails as it
always did (a failure is not remembered), and a hit is an equal attribute. The object is
the interned one (``identity.interned``), so ops built from it share it with the rest of
the module.

Off with ``TOSA_IR_NO_SPEEDUPS=1``: every call builds afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Attribute

from ir.speedups import ENABLED
from ir.speedups.identity import interned

AttributeT = TypeVar("AttributeT", bound=Attribute)
ElementT = TypeVar("ElementT", bound=Attribute)

_SHARED: dict[Hashable, Attribute] = {}
_LIMIT = 50_000


def shared(key: Hashable, build: Callable[[], AttributeT]) -> AttributeT:
    """The attribute ``build()`` gives, built once per ``key`` (which must determine it)."""
    if not ENABLED:
        return build()
    found = _SHARED.get(key)
    if found is None:
        if len(_SHARED) >= _LIMIT:
            _SHARED.clear()
        found = _SHARED[key] = interned(build())
    return found  # pyright: ignore[reportReturnType]  (the key determines the class)


def tensor_type(element: ElementT, shape: Sequence[int]) -> TensorType[ElementT]:
    """``TensorType(element, shape)`` (static shape, no encoding), one per value."""
    dims = tuple(shape)
    if not all(type(d) is int for d in dims):  # xDSL takes IntAttr dims too: its own path
        return TensorType(element, dims)
    return shared(("tensor", element, dims), lambda: TensorType(element, dims))


__all__ = ["shared", "tensor_type"]
