"""Two TOSA flatbuffers, compared as graphs: the first difference, or None.

"Interchangeable with ExecuTorch's" means the same graph, not the same bytes: our files
add each operator's location and align constant data, so equal content can differ in
layout. This compares what a consumer reads — the version, the regions in order, each
block's inputs and outputs, every tensor (name, shape, type, data bytes, variable) and
every operator (op, attributes, inputs, outputs) — and leaves out only the operators'
locations.
"""

from __future__ import annotations

import numpy as np

from tosa_flatbuffer.decode import FbBlock, FbTensor, decode


def first_difference(ours: bytes, theirs: bytes) -> str | None:
    """Where the graph of ``ours`` first differs from that of ``theirs`` (None: the same)."""
    if ours == theirs:
        return None
    a, b = decode(ours), decode(theirs)
    if a.version != b.version:
        return f"version {a.version} != {b.version}"
    if list(a.regions) != list(b.regions):
        return f"regions {list(a.regions)} != {list(b.regions)}"
    for name, blocks in a.regions.items():
        other = b.regions[name]
        if len(blocks) != len(other):
            return f"region '{name}': {len(blocks)} blocks != {len(other)}"
        for block, other_block in zip(blocks, other):
            difference = _block_difference(block, other_block)
            if difference:
                return f"region '{name}' block '{block.name}': {difference}"
    return None


def _block_difference(a: FbBlock, b: FbBlock) -> str | None:
    for what in ("name", "inputs", "outputs"):
        if getattr(a, what) != getattr(b, what):
            return f"{what} {getattr(a, what)} != {getattr(b, what)}"
    if set(a.tensors) != set(b.tensors):
        only_a, only_b = (
            sorted(set(a.tensors) - set(b.tensors)),
            sorted(set(b.tensors) - set(a.tensors)),
        )
        return f"tensors only in ours {only_a[:5]}, only in theirs {only_b[:5]}"
    for name, tensor in a.tensors.items():
        difference = _tensor_difference(tensor, b.tensors[name])
        if difference:
            return f"tensor '{name}': {difference}"
    if len(a.operators) != len(b.operators):
        return f"{len(a.operators)} operators != {len(b.operators)}"
    for k, (x, y) in enumerate(zip(a.operators, b.operators)):
        if (x.op, _plain(x.attributes), x.inputs, x.outputs) != (
            y.op,
            _plain(y.attributes),
            y.inputs,
            y.outputs,
        ):
            return (
                f"operator {k}: {x.op}{x.inputs}->{x.outputs} {x.attributes} != "
                f"{y.op}{y.inputs}->{y.outputs} {y.attributes}"
            )
    return None


def _plain(value):
    """Attribute values made comparable with ``==``: arrays by type, shape and bytes."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    return value


def _tensor_difference(a: FbTensor, b: FbTensor) -> str | None:
    for what in ("shape", "dtype", "variable", "variable_name"):
        if getattr(a, what) != getattr(b, what):
            return f"{what} {getattr(a, what)} != {getattr(b, what)}"
    data_a = bytes(a.data) if a.data is not None else b""
    data_b = bytes(b.data) if b.data is not None else b""
    if data_a != data_b:
        return f"data differs ({len(data_a)} vs {len(data_b)} bytes)"
    return None
