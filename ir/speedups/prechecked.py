"""Attributes whose parameters xDSL verified once, built again without verifying them.

Replaces: xDSL's parameter verification on every construction of a
``DenseIntOrFPElementsAttr`` (about 6 us: every IRDL constraint of its type, then its own
zero-rank check), of a ``NameLoc`` (about 3 us) and of a ``StringAttr`` (1 us). A
module's constants are hundreds of dense attributes over a few dozen types, and every
op of an FX import gets a ``NameLoc`` over one of a few dozen source lines and a tensor
name, each a fresh ``StringAttr``.

What xDSL checks of these depends on one parameter object only: for a dense attribute
its type (the bytes need only be a ``BytesAttr``; the zero-rank check reads the type and
the byte count, so rank 0 always takes xDSL's path), for a name location its child (the
name need only be a ``StringAttr``). So the first attribute over a given parameter
object is built by xDSL, verifying; once that succeeded, later ones over the very same
object (held here, so its id stays its own) are made as xDSL's ``new`` makes them, minus
the verification that passed. Exact: a failing parameter is never remembered and fails
every time, with xDSL's message. A ``StringAttr``'s verification reads nothing of its
string (``Attribute.verify`` is a no-op there; ``__post_init__`` checks only that the
class is a ``Data``): ``string_attr`` sets the string as the dataclass ``__init__`` does,
and only while xDSL's class still verifies that way (checked once, here).

Off with ``TOSA_IR_NO_SPEEDUPS=1``: every attribute is built and verified by xDSL.
"""

from __future__ import annotations

from dataclasses import fields

from xdsl.dialects.builtin import (
    AnyDenseElement,
    BytesAttr,
    DenseIntOrFPElementsAttr,
    NameLoc,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute, Data

from ir.speedups import ENABLED

#: id -> the parameter object an attribute was verified with (held: its id stays its own)
_VERIFIED_TYPES: dict[int, Attribute] = {}
_VERIFIED_CHILDREN: dict[int, Attribute] = {}
_LIMIT = 50_000


def _remember(seen: dict[int, Attribute], parameter: Attribute) -> None:
    if len(seen) >= _LIMIT:
        seen.clear()
    seen[id(parameter)] = parameter


def dense_elements(type: TensorType[AnyDenseElement], data: bytes) -> DenseIntOrFPElementsAttr:
    """``DenseIntOrFPElementsAttr(type, BytesAttr(data))``."""
    if not ENABLED or not type.shape.data or id(type) not in _VERIFIED_TYPES:
        attr = DenseIntOrFPElementsAttr(type, BytesAttr(data))
        if ENABLED and type.shape.data:
            _remember(_VERIFIED_TYPES, type)
        return attr
    attr = DenseIntOrFPElementsAttr.__new__(DenseIntOrFPElementsAttr)
    object.__setattr__(attr, "type", type)
    object.__setattr__(attr, "data", BytesAttr(data))
    return attr


def _string_attr_checks_nothing() -> bool:
    """Whether ``StringAttr(text)`` verifies nothing of ``text``: no ``verify`` or
    ``__post_init__`` of its own over ``Attribute``'s, which check the class only."""
    return (
        StringAttr.verify is Attribute.verify
        and StringAttr._verify is Attribute._verify  # pyright: ignore[reportPrivateUsage]
        and StringAttr.__post_init__ is Attribute.__post_init__
        and issubclass(StringAttr, Data)
        and [f.name for f in fields(StringAttr)] == ["data"]
    )


_PRECHECKED_STRINGS = ENABLED and _string_attr_checks_nothing()
_new_string = StringAttr.__new__
_set = object.__setattr__


def string_attr(text: str) -> StringAttr:
    """``StringAttr(text)``."""
    if not _PRECHECKED_STRINGS:
        return StringAttr(text)
    attr = _new_string(StringAttr)
    _set(attr, "data", text)
    return attr


def name_loc(name: str, child: Attribute) -> NameLoc:
    """``NameLoc(StringAttr(name), child)``."""
    if not ENABLED or id(child) not in _VERIFIED_CHILDREN:
        location = NameLoc(StringAttr(name), child)
        if ENABLED:
            _remember(_VERIFIED_CHILDREN, child)
        return location
    location = NameLoc.__new__(NameLoc)
    object.__setattr__(location, "desc", string_attr(name))
    object.__setattr__(location, "location", child)
    return location


__all__ = ["dense_elements", "name_loc", "string_attr"]
