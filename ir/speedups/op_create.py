"""Ops created by a constructor made once per op class, not by xDSL's generic one.

Replaces: ``Operation.create`` for ops without regions or successors (about 20 us an op
of an FX import, most of its ops being constants). xDSL's generic path goes through
the operand and successor property setters (each builds the old and the new use lists
through ``zip`` and generator expressions), copies the property and attribute
mappings, and then ``IRDLOperation.__post_init__`` walks the op's IRDL definition for
the properties and attributes that have a default value and were not given, on every
op.

``op_factory(cls)`` reads that definition once: which properties and attributes have a
default (the same test, in the same order) and whether the class may take this path at
all (no region or successor definitions, no ``__init__`` / ``__post_init__`` of its own
beyond xDSL's). Its constructor then sets what ``Operation.__init__`` sets, in the same
order, to the same values: the operands as ``SSAValues`` with one ``Use`` each, added to
each operand's use list in operand order; one ``OpResult`` per result type; fresh
``properties`` and ``attributes`` dicts (the defaults appended after the given ones, as
``__post_init__`` appends them); the location, or xDSL's unknown location; no
successors; no regions. Exact, then: an op equal field by field, with the same uses, as
``cls.create`` makes (``tests/ir/test_speedups.py`` compares the two on every op class;
the FX import it compares both ways builds its ops here).

``append_op(block, op)`` replaces ``Block.add_op`` for an op without regions that is in
no block yet (every op an FX import makes): xDSL's checks are that the op is in no block
and that it does not contain the block (it cannot: it has no regions), then it links the
op after the block's last one. ``append_op`` tests the same two facts and links the same
fields in the same order; any other op goes to ``add_op``.

Off with ``TOSA_IR_NO_SPEEDUPS=1``: the factory calls ``cls.create`` and ``append_op``
calls ``Block.add_op``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from xdsl.ir import Attribute, Block, Operation, OpResult, SSAValue, SSAValues, Use
from xdsl.ir.core import _unknown_loc  # pyright: ignore[reportPrivateUsage]
from xdsl.irdl import IRDLOperation, OptionalDef

from ir.speedups import ENABLED

OpT = TypeVar("OpT", bound=IRDLOperation)
OpT_co = TypeVar("OpT_co", bound=IRDLOperation, covariant=True)

_NO_ATTRIBUTES: Mapping[str, Attribute] = {}
_NO_VALUES: SSAValues = SSAValues()


class OpFactory(Protocol[OpT_co]):
    def __call__(
        self,
        operands: Sequence[SSAValue],
        result_types: Sequence[Attribute],
        properties: Mapping[str, Attribute],
        location: Attribute | None = None,
        attributes: Mapping[str, Attribute] = _NO_ATTRIBUTES,
    ) -> OpT_co: ...


_FACTORIES: dict[type, Callable] = {}


def op_factory(cls: type[OpT]) -> OpFactory[OpT]:
    """A constructor of ``cls``: ``make(operands, result_types, properties, location,
    attributes)`` gives what ``cls.create(...)`` with those arguments gives."""
    found = _FACTORIES.get(cls)
    if found is None:
        found = _FACTORIES[cls] = _make_factory(cls)
    return found  # pyright: ignore[reportReturnType]  (built for this class)


def _xdsl_create(cls: type[OpT]) -> OpFactory[OpT]:
    def create(operands, result_types, properties, location=None, attributes=_NO_ATTRIBUTES):
        return cls.create(
            operands=operands,
            result_types=result_types,
            properties=properties,
            attributes=attributes,
            location=location,
        )

    return create


def _own_construction(cls: type) -> bool:
    """Whether a class between ``cls`` and ``IRDLOperation`` defines how it is built."""
    for klass in cls.__mro__:
        if klass is IRDLOperation:
            return False
        if "__init__" in vars(klass) or "__post_init__" in vars(klass):
            return True
    return True  # not an IRDL op at all


def _make_factory(cls: type[OpT]) -> OpFactory[OpT]:
    definition = cls.get_irdl_definition()
    if (
        not ENABLED
        or definition.regions
        or definition.successors
        or _own_construction(cls)
        or IRDLOperation.__post_init__ is not _IRDL_POST_INIT
        or Operation.__init__ is not _OPERATION_INIT
    ):
        return _xdsl_create(cls)
    # IRDLOperation.__post_init__'s test, once: given-or-default, in definition order
    default_properties = tuple(
        (name, d.default_value)
        for name, d in definition.properties.items()
        if not isinstance(d, OptionalDef) and d.default_value is not None
    )
    default_attributes = tuple(
        (name, d.default_value)
        for name, d in definition.attributes.items()
        if not isinstance(d, OptionalDef) and d.default_value is not None
    )
    new = cls.__new__

    def make(operands, result_types, properties, location=None, attributes=_NO_ATTRIBUTES):
        op = new(cls)
        if operands:
            values = SSAValues(operands)
            uses = tuple([Use(op, index) for index in range(len(values))])
            for value, use in zip(values, uses):
                value.add_use(use)
        else:
            values, uses = _NO_VALUES, ()
        op._operands = values  # pyright: ignore[reportPrivateUsage]
        op._operand_uses = uses  # pyright: ignore[reportPrivateUsage]
        if len(result_types) == 1:
            op.results = SSAValues((OpResult(result_types[0], op, 0),))
        else:
            op.results = SSAValues([OpResult(t, op, i) for i, t in enumerate(result_types)])
        props = dict(properties)
        for name, default in default_properties:
            if name not in props:
                props[name] = default
        op.properties = props
        attrs = dict(attributes)
        for name, default in default_attributes:
            if name not in attrs:
                attrs[name] = default
        op.attributes = attrs
        op.location = _unknown_loc() if location is None else location
        op._successors = ()  # pyright: ignore[reportPrivateUsage]
        op._successor_uses = ()  # pyright: ignore[reportPrivateUsage]
        op.regions = ()
        return op

    return make


def append_op(block: Block, op: Operation) -> None:
    """``block.add_op(op)``."""
    if not ENABLED or op.parent is not None or op.regions:
        block.add_op(op)  # xDSL's checks (an op in a block, an op around the block)
        return
    op.parent = block
    last = block._last_op  # pyright: ignore[reportPrivateUsage]
    if last is None:
        block._first_op = op  # pyright: ignore[reportPrivateUsage]
        block._last_op = op  # pyright: ignore[reportPrivateUsage]
        return
    following = last._next_op  # pyright: ignore[reportPrivateUsage]
    if following is not None:
        following._prev_op = op  # pyright: ignore[reportPrivateUsage]
    op._prev_op = last  # pyright: ignore[reportPrivateUsage]
    op._next_op = following  # pyright: ignore[reportPrivateUsage]
    last._next_op = op  # pyright: ignore[reportPrivateUsage]
    if following is None:
        block._last_op = op  # pyright: ignore[reportPrivateUsage]


_IRDL_POST_INIT = IRDLOperation.__post_init__
_OPERATION_INIT = Operation.__init__


__all__ = ["OpFactory", "append_op", "op_factory"]
