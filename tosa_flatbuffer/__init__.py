"""TOSA flatbuffers in and out of the IR.

- ``to_flatbuffer(module) -> bytes``: a signless, verified module as a TOSA 1.0 file
  (version 1.0.0, not draft, as ExecuTorch writes it), deterministic;
- ``from_flatbuffer(data) -> ModuleOp``: any TOSA 1.0 file (ExecuTorch's, MLIR's, ours);
- ``check_flatbuffer(data) -> CheckedFlatbuffer``: everything ``from_flatbuffer`` checks,
  for callers about to hand the bytes to C++ (the reference model, Vela);
  ``to_checked_flatbuffer(module)`` is ``to_flatbuffer`` giving the same object, the
  records the writer planned kept with the bytes, so the runtime checks nothing again;
- ``FlatbufferError``: what is wrong and where, for both directions.

The path is untrusted bytes -> ``decode`` (checked records) -> ``reader`` (IR), and
IR -> ``writer.plan`` (records) -> ``writer.emit`` (bytes). Needs no torch.
"""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp

from tosa_flatbuffer.decode import CheckedFlatbuffer, FlatbufferError, decode
from tosa_flatbuffer.reader import module_from_graph
from tosa_flatbuffer.writer import to_checked_flatbuffer, to_flatbuffer


def from_flatbuffer(data: bytes) -> ModuleOp:
    """The IR of a TOSA flatbuffer; ``FlatbufferError`` for anything malformed."""
    return module_from_graph(decode(data))


def check_flatbuffer(data: bytes | CheckedFlatbuffer) -> CheckedFlatbuffer:
    """Raise ``FlatbufferError`` unless ``data`` is a readable, well-formed TOSA graph;
    returns the bytes with their decoded records (IO names, shapes, types) for the
    caller's own checks. An already checked flatbuffer is returned as it is."""
    if isinstance(data, CheckedFlatbuffer):
        return data
    data = bytes(data)
    graph = decode(data)
    module_from_graph(graph)
    return CheckedFlatbuffer(data, graph)


__all__ = [
    "CheckedFlatbuffer",
    "FlatbufferError",
    "check_flatbuffer",
    "decode",
    "from_flatbuffer",
    "to_checked_flatbuffer",
    "to_flatbuffer",
]
