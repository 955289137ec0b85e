"""Where an op is, in words a reviewer can act on: ``file:line: 'tosa.add' (FX node 'x')``.

Locations are MLIR's: ``loc("fx_node"("model.py":12:0))`` from the FX import, a bare
``loc("file":line:col)`` from hand-written text, or unknown. Every error about an op
(flatbuffer writer, verifiers, passes) starts with this; ``format_place``, ``op_subject``
and ``error_line`` are the one spelling of its parts, and ``failing_ops`` the one way to
find which op a failed whole-module verify is about (xDSL's exceptions do not say).
"""

from __future__ import annotations

from collections.abc import Iterator
from weakref import WeakKeyDictionary

from xdsl.dialects.builtin import FileLineColLoc, NameLoc
from xdsl.ir import Attribute, Operation
from xdsl.utils.exceptions import VerifyException

from ir.tensor_names import tensor_names


def source_of(location: Attribute | None) -> tuple[str, int] | None:
    """``(file, line)`` of a location, looking through one name."""
    if isinstance(location, NameLoc):
        location = location.location
    if isinstance(location, FileLineColLoc):
        return location.filename.data, location.line.data
    return None


#: where the text parser read each op: ``(file, line, column)``. Beside the module, not
#: in it: ops that carry their own location (``func.*``, a name-only ``loc("x")``) print
#: back unchanged, and errors on them can still point at their line.
_PARSED_AT: WeakKeyDictionary[Operation, tuple[str, int, int]] = WeakKeyDictionary()


def remember_position(op: Operation, file: str, line: int, column: int) -> None:
    _PARSED_AT[op] = (file, line, column)


def parsed_position(op: Operation) -> tuple[str, int, int] | None:
    """``(file, line, column)`` where the text parser read ``op``, if it did."""
    return _PARSED_AT.get(op)


def position_of(op: Operation) -> tuple[str, int] | None:
    """``(file, line)`` of an op: from its location (the FX node's source line, or the
    text's), else where the text parser read it."""
    source = source_of(op.location)
    if source is not None:
        return source
    parsed = _PARSED_AT.get(op)
    return parsed[:2] if parsed is not None else None


def fx_node_of(location: Attribute | None) -> str | None:
    return location.desc.data if isinstance(location, NameLoc) else None


def format_place(place: tuple[str, int] | tuple[str, int, int]) -> str:
    """``file:line`` (or ``file:line:col``): how every error and report names a place."""
    return ":".join(str(part) for part in place)


def error_line(place: str, message: str) -> str:
    """The compiler-style line editors jump to: ``model.py:12: error: ...``."""
    return f"{place}: error: {message}"


def op_subject(op_name: str, fx_node: str | None = None, tensor: str | None = None) -> str:
    """``'tosa.add' (FX node 'x')``, else ``'tosa.add' (tensor 't')``, else ``'tosa.add'``."""
    text = f"'{op_name}'"
    if fx_node:
        return f"{text} (FX node '{fx_node}')"
    if tensor:
        return f"{text} (tensor '{tensor}')"
    return text


def first_tensor_name(op: Operation) -> str | None:
    names = [n for n in tensor_names(op) if n] if op.results else []
    return names[0] if names else None


def describe_op(op: Operation | None) -> str:
    if op is None:
        return "<detached>"
    source = position_of(op)
    text = op_subject(op.name, fx_node_of(op.location), first_tensor_name(op))
    return f"{format_place(source)}: {text}" if source else text


def op_place(op: Operation | None) -> str | None:
    """``file:line`` of an op (``position_of``), or None; what errors about it start with."""
    source = position_of(op) if op is not None else None
    return format_place(source) if source else None


def failing_ops(
    top: Operation, errors: type[BaseException] | tuple[type[BaseException], ...] = VerifyException
) -> Iterator[tuple[Operation, BaseException]]:
    """Every op under ``top`` (itself included) that fails its own checks, not its nested
    ops', with the error, in walk order."""
    for op in top.walk():
        try:
            op.verify(verify_nested_ops=False)
        except errors as err:
            yield op, err


__all__ = [
    "describe_op",
    "error_line",
    "failing_ops",
    "first_tensor_name",
    "format_place",
    "fx_node_of",
    "op_place",
    "op_subject",
    "parsed_position",
    "position_of",
    "remember_position",
    "source_of",
]
