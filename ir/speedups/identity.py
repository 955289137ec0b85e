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
- ``SignatureMemo`` (also ``ir.verify.core.check_op``'s findings of every op rule, by
  ``rules_signature``: the signature plus the constants the op reads).
- ``interned`` (replaces: a fresh type object per op): one object for equal attributes,
  so a module built op by op, or read from a flatbuffer, shares its type objects.

A signature is keyed by the identity of those objects, not their value: hashing xDSL
attributes recurses through every parameter and costs as much as verifying. A memo holds
the objects themselves, so while an entry lives no other object can take one of its ids:
an equal key means the very same objects. Equal but distinct types simply miss. Exact,
then: a hit is an op made of the very objects an earlier op verified with.

The verify memo is installed on the ``tosa`` dialect's ops when this module is imported;
``ir.builders`` imports it, so every ``import ir`` does (``ir/__init__.py`` says so too).
The dialect imports nothing from here: the speed-ups sit above what they speed up.

Off with ``TOSA_IR_NO_SPEEDUPS=1``: nothing is interned or remembered.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Generic, TypeVar, cast

from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, DenseResourceAttr
from xdsl.ir import Attribute, Operation
from xdsl.irdl import IRDLOperation
from xdsl.traits import Pure

from ir.dialects.tosa_ext import TOSA_OPS, VERIFY_READS_MODULE, ConstOp, ConstShapeOp
from ir.speedups import ENABLED

_DENSE = (DenseIntOrFPElementsAttr, DenseResourceAttr)

#: what a ``SignatureMemo`` remembers per key
Value = TypeVar("Value")
#: the attribute class ``interned`` takes and gives back
AttributeT = TypeVar("AttributeT", bound=Attribute)


def signature(op: Operation) -> tuple[tuple, tuple]:
    """(key, objects): what op-local verification reads of ``op`` (class, operand and
    result types, properties; a dense attribute by its class and type only); the key is
    the property names and the ids of those objects."""
    parts: list = [type(op), *[o.type for o in op.operands], None, *[r.type for r in op.results]]
    properties = op.properties
    for attr in properties.values():
        if isinstance(attr, _DENSE):
            parts += [type(attr), attr.type]  # not the (maybe 100 MB) contents
        else:
            parts.append(attr)
    # names by value: equal names are often distinct strings
    return (tuple(properties), *map(id, parts)), tuple(parts)


#: constant contents up to this many bytes are keyed by value (zero points, shifts, shapes:
#: equal in many ops); larger ones (weights, per-channel multipliers) by identity
_CONTENT_KEY_BYTES = 256
_CONSTANTS = (ConstOp, ConstShapeOp)


def rules_signature(op: Operation) -> tuple[tuple | None, tuple, tuple]:
    """(key, objects, guards): what the op rules of ``ir.verify`` read of ``op``: its
    ``signature`` and, per operand, whether it is a constant and that constant's values
    (small ones by their bytes, large ones by the identity of their bytes attribute,
    which ``guards`` holds weakly: the memo keeps no weights alive). The key is None for
    an op with regions or successors, whose rules may read more."""
    if op.regions or op.successors:
        return None, (), ()
    key, objects = signature(op)
    operands: list = []
    held: list = []
    guards: list = []
    for operand in op.operands:
        owner = operand.owner
        if not isinstance(owner, _CONSTANTS):
            operands.append(0)
            continue
        values = owner.values
        if not isinstance(values, DenseIntOrFPElementsAttr):
            operands.append(1)  # a constant whose values rules cannot read (elided)
            continue
        data = values.data
        content = data.data
        held.append(values.type)
        if type(content) is bytes and len(content) <= _CONTENT_KEY_BYTES:
            operands.append((id(values.type), content))
        else:
            operands.append((id(values.type), id(data)))
            guards.append(data)
    return (key, tuple(operands)), (objects, tuple(held)), tuple(guards)


class SignatureMemo(Generic[Value]):
    """A bounded map from signature keys to values, holding each key's objects (so its
    ids stay theirs); cleared when full (a parsed model needs a few dozen entries).
    ``guards`` are objects a key names by id but the memo must not keep alive: held
    weakly, and an entry whose guard died is forgotten (its id may be another's now)."""

    def __init__(self, limit: int = 20_000) -> None:
        self._limit = limit
        self._entries: dict[tuple, tuple[Value, tuple, tuple]] = {}

    def get(self, key: tuple) -> Value | None:
        found = self._entries.get(key) if ENABLED else None
        if found is None:
            return None
        value, _, guards = found
        if any(guard() is None for guard in guards):
            del self._entries[key]
            return None
        return value

    def put(self, key: tuple, value: Value, objects: tuple, guards: tuple = ()) -> None:
        if not ENABLED:
            return
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[key] = (value, objects, tuple(weakref.ref(guard) for guard in guards))


_VERIFIED: SignatureMemo[bool] = SignatureMemo()


def _memoized(verify_):
    def verify_once(self) -> None:
        if self.regions or self.successors:
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


__all__ = ["SignatureMemo", "interned", "memoize_verify", "rules_signature", "signature"]
