"""Where an op is, in words a reviewer can act on: ``file:line: 'tosa.add' (FX node 'x')``.

Locations are MLIR's: ``loc("fx_node"("model.py":12:0))`` from the FX import, a bare
``loc("file":line:col)`` from hand-written text, or unknown. Every error about an op
(flatbuffer writer, verifiers, passes) starts with this.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from xdsl.dialects.builtin import FileLineColLoc, NameLoc
from xdsl.ir import Attribute, Operation

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


def describe_op(op: Operation | None) -> str:
    if op is None:
        return "<detached>"
    location = op.location
    source = position_of(op)
    node = fx_node_of(location)
    text = f"'{op.name}'"
    if node:
        text += f" (FX node '{node}')"
    else:
        names = [n for n in tensor_names(op) if n] if op.results else []
        if names:
            text += f" (tensor '{names[0]}')"
    return f"{source[0]}:{source[1]}: {text}" if source else text


__all__ = ["describe_op", "fx_node_of", "parsed_position", "position_of", "remember_position", "source_of"]
