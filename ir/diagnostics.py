"""Where an op is, in words a reviewer can act on: ``file:line: 'tosa.add' (FX node 'x')``.

Locations are MLIR's: ``loc("fx_node"("model.py":12:0))`` from the FX import, a bare
``loc("file":line:col)`` from hand-written text, or unknown. Every error about an op
(flatbuffer writer, verifiers, passes) starts with this.
"""

from __future__ import annotations

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


def fx_node_of(location: Attribute | None) -> str | None:
    return location.desc.data if isinstance(location, NameLoc) else None


def describe_op(op: Operation | None) -> str:
    if op is None:
        return "<detached>"
    location = op.location
    source = source_of(location)
    node = fx_node_of(location)
    text = f"'{op.name}'"
    if node:
        text += f" (FX node '{node}')"
    else:
        names = [n for n in tensor_names(op) if n] if op.results else []
        if names:
            text += f" (tensor '{names[0]}')"
    return f"{source[0]}:{source[1]}: {text}" if source else text


__all__ = ["describe_op", "fx_node_of", "source_of"]
