"""Verification remembered by object identity, and the interning that makes it hit.

xDSL verifies every op from scratch (IRDL constraints, then ours): about 35 us an op, and
a module is verified several times on its way to a flatbuffer; ``ir.verify``'s spec
tables cost more. For an op without regions, successors or traits that look around (only
``Pure``), what is verified is a function of its class, operand and result types and
properties; dense contents are never read (only their class and type). So a signature
that verified once verifies again, with the same findings.

- ``memoize_verify`` (replaces: xDSL's generated ``verify_`` run on every op): a signature
  whose verification passed is remembered; failures never are (they raise, and raise
  again), so every error is xDSL's own.
- ``SignatureMemo`` (also ``ir.verify.core.check_op``'s findings of each op rule, by
  ``rules_signature`` and the values of the constants the rule read).
- ``interned`` (replaces: a fresh type object per op): one object for equal attributes,
  so a module built op by op, or read from a flatbuffer, shares its type objects.

A signature is keyed by the identity of those objects, not their value: hashing xDSL
attributes recurses through every parameter and costs as much as verifying. Each object
is first taken to its canonical equal (``canonical``: hashed once per object, then found
by id) when its kind compares exactly (integers, types, integer arrays, strings, enums;
no floats, where ``0.0 == -0.0``), so equal types and properties of distinct objects
(a fresh import's) share a key. A memo holds the objects themselves, so while an entry
lives no other object can take one of its ids: an equal key means the very same (or
exactly equal) objects. Exact, then: a hit is an op made of what an earlier op verified
with.

The verify memo is installed on the ``tosa`` dialect's ops when this module is imported;
``ir.builders`` imports it, so every ``import ir`` does (``ir/__init__.py`` says so too).
The dialect imports nothing from here: the speed-ups sit above what they speed up.

Off with ``TOSA_IR_NO_SPEEDUPS=1``: nothing is interned or remembered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar, cast

from xdsl.dialects.builtin import (
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    StringAttr,
    TensorType,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, Operation
from xdsl.irdl import IRDLOperation
from xdsl.traits import OpTrait, Pure

from ir.dialects.tosa_ext import (
    TOSA_OPS,
    VERIFY_READS_MODULE,
    ConstOp,
    ConstShapeOp,
    ShapeType,
)
from ir.speedups import ENABLED

_DENSE = (DenseIntOrFPElementsAttr, DenseResourceAttr)

#: what a ``SignatureMemo`` remembers per key
Value = TypeVar("Value")
#: the attribute class ``interned`` takes and gives back
AttributeT = TypeVar("AttributeT", bound=Attribute)


#: attribute kinds whose equality is exact (equal ones print and verify alike), so that
#: ``signature`` may key them by value: no floats (``0.0 == -0.0``) but in bytes
_BY_VALUE = (
    IntegerAttr,
    IntegerType,
    IndexType,
    TensorType,
    DenseArrayBase,
    StringAttr,
    EnumAttribute,
    ShapeType,
)
#: id -> (the object, its canonical equal): each object hashed once while it is held
_CANONICAL: dict[int, tuple[Attribute, Attribute]] = {}
_CANONICAL_BY_VALUE: dict[Attribute, Attribute] = {}
_CANONICAL_LIMIT = 50_000


def _same(attr: Attribute) -> Attribute:
    return attr


def class_test(*classes: type) -> Callable[[type], bool]:
    """``issubclass(cls, classes)`` remembered per class: code that runs on every op or
    attribute tests its class this way (xDSL's op and attribute classes are ABCs, whose
    ``isinstance`` is slow). Exact: a class's bases do not change."""
    known: dict[type, bool] = {}

    def test(cls: type) -> bool:
        found = known.get(cls)
        if found is None:
            found = known[cls] = issubclass(cls, classes)
        return found

    return test


def trait_test(trait: type[OpTrait]) -> Callable[[type[Operation]], bool]:
    """``cls.has_trait(trait)`` remembered per op class (a scan of the class's traits on
    every call otherwise). Exact: an op class's traits are fixed when it is defined."""
    known: dict[type[Operation], bool] = {}

    def test(cls: type[Operation]) -> bool:
        found = known.get(cls)
        if found is None:
            found = known[cls] = cls.has_trait(trait)
        return found

    return test


_is_dense = class_test(*_DENSE)
_is_by_value = class_test(*_BY_VALUE)


def canonical(attr: Attribute) -> Attribute:
    """The first-seen attribute equal to ``attr`` when its kind compares exactly
    (``_BY_VALUE``), else ``attr``: a key by id that compares such attributes by value,
    hashing each object once (an xDSL attribute hashes through all its parameters)."""
    known = _CANONICAL.get(id(attr))
    if known is not None:
        return known[1]
    if not _is_by_value(type(attr)):
        return attr
    if len(_CANONICAL) >= _CANONICAL_LIMIT:
        _CANONICAL.clear()
        _CANONICAL_BY_VALUE.clear()
    canonical = _CANONICAL_BY_VALUE.setdefault(attr, attr)
    _CANONICAL[id(attr)] = (attr, canonical)
    return canonical


def signature(op: Operation) -> tuple[tuple, tuple]:
    """(key, objects): what op-local verification reads of ``op`` (class, operand and
    result types, properties; a dense attribute by its class and type only); the key is
    the property names and the ids of those objects, each taken as its canonical equal
    (``canonical``) when its kind compares exactly. Inside ``held_signatures`` computed
    once per op."""
    if _HELD is not None:
        held = _HELD.get(id(op))
        if held is not None and held[0] is op:
            return held[1]
        found = _signature(op)
        _HELD[id(op)] = (op, found, None)
        return found
    return _signature(op)


def _signature(op: Operation) -> tuple[tuple, tuple]:
    c = canonical if ENABLED else _same
    parts: list = [type(op)]
    parts += [c(o.type) for o in op.operands]
    parts.append(None)
    parts += [c(r.type) for r in op.results]
    properties = op.properties
    for attr in properties.values():
        if _is_dense(type(attr)):
            dense = cast(DenseIntOrFPElementsAttr | DenseResourceAttr, attr)
            parts += [type(attr), c(dense.type)]  # not the (maybe 100 MB) contents
        else:
            parts.append(c(attr))
    # names by value: equal names are often distinct strings
    return (tuple(properties), *map(id, parts)), tuple(parts)


#: while ``held_signatures`` is active: id(op) -> (the op, its ``signature``, its
#: ``rules_signature`` or None until asked)
_HELD: dict[int, tuple[Operation, tuple[tuple, tuple], tuple | None]] | None = None


@contextmanager
def held_signatures() -> Iterator[None]:
    """Within: each op's ``signature`` and ``rules_signature`` computed once, for a
    verification run (xDSL's structure, then the op rules) that reads the module and
    changes nothing in it; both are functions of what the run does not change, so the
    first answer is every later one. The ops are held, so an id stays its op's. Nested
    uses share the outer scope; off with the speed-ups."""
    global _HELD
    if _HELD is not None or not ENABLED:
        yield
        return
    _HELD = {}
    try:
        yield
    finally:
        _HELD = None


class MemoKey:
    """A tuple key whose hash is computed once (a signature has dozens of parts and is
    looked up once per rule)."""

    __slots__ = ("_hash", "parts")

    def __init__(self, parts: tuple) -> None:
        self.parts = parts
        self._hash = hash(parts)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MemoKey) and self.parts == other.parts


_is_constant = class_test(ConstOp, ConstShapeOp)
_is_elements = class_test(DenseIntOrFPElementsAttr)


def rules_signature(op: Operation) -> tuple[MemoKey | None, tuple]:
    """(key, objects): what the op rules of ``ir.verify`` read of ``op`` before reading
    any constant's values: its ``signature`` and which operands are constants (with
    values a rule can read, or elided). The values a rule reads are keyed per rule
    (``ir.verify.core.check_op``). None for an op with regions or successors, whose
    rules may read more. Inside ``held_signatures`` computed once per op."""
    if op.regions or op._successors:  # pyright: ignore[reportPrivateUsage]  (no wrapper)
        return None, ()
    if _HELD is not None:
        held = _HELD.get(id(op))
        if held is not None and held[0] is op:
            if held[2] is not None:
                return held[2]
            found = (_rules_key(op, held[1][0]), held[1][1])
        else:
            sig = _signature(op)
            found = (_rules_key(op, sig[0]), sig[1])
            held = (op, sig, None)
        _HELD[id(op)] = (op, held[1], found)
        return found
    key, objects = _signature(op)
    return _rules_key(op, key), objects


def _rules_key(op: Operation, key: tuple) -> MemoKey:
    constants = tuple(
        (2 if _is_elements(type(cast(ConstOp, o.owner).values)) else 1)
        if _is_constant(type(o.owner))
        else 0
        for o in op.operands
    )
    return MemoKey((key, constants))


class SignatureMemo(Generic[Value]):
    """A bounded map from signature keys to values, holding each key's objects (so its
    ids stay theirs); cleared when full (a parsed model needs a few dozen entries)."""

    def __init__(self, limit: int = 20_000) -> None:
        self._limit = limit
        self._entries: dict[object, tuple[Value, tuple]] = {}

    def get(self, key: object) -> Value | None:
        found = self._entries.get(key) if ENABLED else None
        return None if found is None else found[0]

    def put(self, key: object, value: Value, objects: tuple) -> None:
        if not ENABLED:
            return
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[key] = (value, objects)


_VERIFIED: SignatureMemo[bool] = SignatureMemo()


def _memoized(verify_):
    def verify_once(self) -> None:
        if self.regions or self._successors:
            verify_(self)
            return
        key, objects = signature(self)
        if _VERIFIED.get(key) is not None:
            return
        verify_(self)
        _VERIFIED.put(key, True, objects)

    verify_once.__doc__ = verify_.__doc__
    return verify_once


def memoize_verify(ops: Iterable[type[IRDLOperation]], in_context: tuple[type, ...] = ()) -> None:
    """Remember successful verification of the op-local ones among ``ops``: no regions,
    no attribute definitions, only ``Pure`` traits, and not in ``in_context`` (ops whose
    verifier reads beyond the op). Called once, below, on the ``tosa`` dialect's ops."""
    if not ENABLED:
        return
    for op in ops:
        definition = op.get_irdl_definition()
        local = not definition.regions and not definition.attributes and op not in in_context
        if local and all(isinstance(t, Pure) for t in definition.traits):
            op.verify_ = _memoized(op.verify_)


memoize_verify(TOSA_OPS, in_context=VERIFY_READS_MODULE)

_INTERNED: dict[Attribute, Attribute] = {}
_INTERNED_LIMIT = 50_000


def interned(attr: AttributeT) -> AttributeT:
    """One object for every equal attribute (types, mostly), so a module whose ops share
    their type objects verifies once per distinct signature, not once per op."""
    if not ENABLED:
        return attr
    found = _INTERNED.get(attr)
    if found is not None:
        return cast(AttributeT, found)  # equal attributes are of one class (dataclass ==)
    if len(_INTERNED) >= _INTERNED_LIMIT:
        _INTERNED.clear()
    _INTERNED[attr] = attr
    return attr


__all__ = [
    "MemoKey",
    "SignatureMemo",
    "canonical",
    "class_test",
    "held_signatures",
    "interned",
    "memoize_verify",
    "rules_signature",
    "signature",
    "trait_test",
]
