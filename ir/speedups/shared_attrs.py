"""Attributes built once per value, for builders that make many equal ones.

Replaces: a fresh xDSL attribute every time one is needed. Constructing a parametrized
attribute runs xDSL's verification of every parameter against its IRDL constraint
(``ParametrizedAttribute.__post_init__``): about 7 us for a ``TensorType``, 11 us for a
boolean ``IntegerAttr``, 13 us for a one-element dense attribute. The FX import of
MobileNetV2 needs about 700 types, 300 zero points and 500 flags and arrays, of a few
dozen distinct values; and an op whose properties are fresh objects misses the verify
memo (``identity``), which keys by object identity.

Here a builder names what it wants by plain Python values (``key``: a kind and its
arguments; attributes among them by identity) and gets the object built the first time,
by xDSL's own constructor: nothing is skipped, a bad value fails as it always did (a
failure is not remembered), and a hit is an equal attribute. The object is the interned
one (``identity.interned``), so ops built from it share it with the rest of the module.

``tensor_type`` finds a type by its element's identity and its dims in one lookup; and
``shared_properties`` gives an op's whole property mapping (of shared attributes) once
per key, such as a RESCALE's four flags: an op's constructor copies the mapping it is
given, so the one mapping serves every op.

Off with ``TOSA_IR_NO_SPEEDUPS=1``: every call builds afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TypeVar

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Attribute

from ir.speedups import ENABLED
from ir.speedups.identity import interned

AttributeT = TypeVar("AttributeT", bound=Attribute)
ElementT = TypeVar("ElementT", bound=Attribute)

#: key -> (the attribute, the objects whose ids are in the key: held, so the ids stay theirs)
_SHARED: dict[Hashable, tuple[Attribute, tuple[Attribute, ...]]] = {}
_LIMIT = 50_000


def shared(key: Hashable, build: Callable[[], AttributeT], *by_identity: Attribute) -> AttributeT:
    """The attribute ``build()`` gives, built once per ``key`` and ``by_identity``, which
    together must determine it. ``by_identity`` are attributes it is built from, keyed by
    their identity: hashing an attribute recurses through all its parameters, and an equal
    but distinct one merely builds its own."""
    if not ENABLED:
        return build()
    full_key = (key, *map(id, by_identity)) if by_identity else key
    found = _SHARED.get(full_key)
    if found is None:
        if len(_SHARED) >= _LIMIT:
            _SHARED.clear()
        found = _SHARED[full_key] = (interned(build()), by_identity)
    return found[0]  # pyright: ignore[reportReturnType]  (the key determines the class)


#: key -> an op's property mapping
_PROPERTIES: dict[Hashable, Mapping[str, Attribute]] = {}


def shared_properties(
    key: Hashable, build: Callable[[], Mapping[str, Attribute]]
) -> Mapping[str, Attribute]:
    """The property mapping ``build()`` gives (of attributes it takes from ``shared``),
    built once per ``key``, which must determine it: one mapping may serve every op, as
    an op's constructor (``create``, ``op_create``'s) copies the mapping it is given.
    The caller must not change it."""
    if not ENABLED:
        return build()
    found = _PROPERTIES.get(key)
    if found is None:
        if len(_PROPERTIES) >= _LIMIT:
            _PROPERTIES.clear()
        found = _PROPERTIES[key] = build()
    return found


#: (id of the element type, dims) -> (the tensor type, the element type: held, so the id
#: stays its own); what ``tensor_type`` gives for them, found without building a key of keys
_TENSOR_TYPES: dict[tuple, tuple[TensorType, Attribute]] = {}


def tensor_type(element: ElementT, shape: Sequence[int]) -> TensorType[ElementT]:
    """``TensorType(element, shape)`` (static shape, no encoding), one per value."""
    dims = tuple(shape)
    if not ENABLED:
        return TensorType(element, dims)
    key = (id(element), dims)
    try:
        found = _TENSOR_TYPES.get(key)
    except TypeError:  # an unhashable dimension: xDSL's path, and its error
        return TensorType(element, dims)
    if found is not None:
        return found[0]  # pyright: ignore[reportReturnType]  (built from this element)
    if not all(type(d) is int for d in dims):  # xDSL takes IntAttr dims too: its own path
        return TensorType(element, dims)
    built = shared(("tensor", dims), lambda: TensorType(element, dims), element)
    if len(_TENSOR_TYPES) >= _LIMIT:
        _TENSOR_TYPES.clear()
    _TENSOR_TYPES[key] = (built, element)
    return built


__all__ = ["shared", "shared_properties", "tensor_type"]
