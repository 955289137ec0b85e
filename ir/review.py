"""Review dumps that say where each op runs: Vela's placement as comments in the IR text.

A reviewer reading a lowered module wants to know, op by op, whether the NPU runs it and
what it costs. Vela reports that per TOSA operator, keyed by the operator's output tensor
name; our ops carry the same name (``tosa.tensor_name``, see ``ir.tensor_names``), so the
figures can be put back on the text as a comment line above each op::

    // NPU 1437 cycles
    %12 = tosa.conv2d %9, %10, %11, ... {tosa.tensor_name = "aten_convolution_default"} ...

This module only needs the text and a mapping ``tensor name -> (target, cycles)``: no
torch, ExecuTorch or Vela, so tools and tests can annotate any printed module.
``placement_by_name`` builds the mapping from ``runtime.vela``'s ``OpPlacement`` records
without importing them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from xdsl.ir import Operation

#: where one op runs: ("NPU" | "CPU", Vela's cycle estimate or None when it has none)
Placement = tuple[str, int | None]

# The op's tensor name attribute: one string, or an array of them for a multi-result op.
_NAME_ATTR = re.compile(r'tosa\.tensor_name = (\[[^\]]*\]|"(?:[^"\\]|\\.)*")')
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
# A function's signature names its arguments and results: those are not operators.
_SIGNATURE = re.compile(r"^\s*func\.func\b")


def placement_comment(target: str, cycles: int | None) -> str:
    """The comment text for one op: ``NPU 1437 cycles``; an op Vela folds into a
    neighbour (a RESCALE fused into a CONV2D) has no cycles of its own, and says so
    rather than claiming zero."""
    if cycles is None:
        return f"{target} (fused, no cycles of its own)"
    return f"{target} {cycles} cycles"


def placement_by_name(placements: Iterable) -> dict[str, Placement]:
    """``{output tensor name: (target, cycles)}`` from objects with ``output``, ``target``
    and ``cycles`` (``runtime.vela.OpPlacement``), duck-typed so that this module stays
    free of Vela."""
    return {p.output: (p.target, p.cycles) for p in placements if p.output}


def _names_on(line: str) -> list[str]:
    """The tensor names an op line declares, in result order ([] for other lines)."""
    if _SIGNATURE.match(line):
        return []
    found = _NAME_ATTR.search(line)
    if found is None:
        return []
    return _STRING.findall(found.group(1))


def _placement_of(line: str, placement: Mapping[str, Placement]) -> Placement | None:
    """The first of the line's result names Vela placed (a multi-result op is one
    operator to Vela, keyed by one of its outputs)."""
    for name in _names_on(line):
        if name in placement:
            return placement[name]
    return None


def annotate(
    text_or_module: str | Operation,
    placement: Mapping[str, Placement],
    notes: Mapping[str, str] | None = None,
) -> str:
    """``text_or_module`` with a ``// NPU 1437 cycles`` line above every op whose tensor
    name has an entry in ``placement``, indented like the op; ``notes`` (tensor name ->
    text, e.g. ``tosa-ir debug``'s ``err max 3 LSB, 97.2% <= 1 LSB``) go on the same
    comment line, after the placement.

    A module is printed first as a review dump (large constants elided, locations
    shown). Ops without an entry (constants, which Vela does not schedule) are left
    alone, and the text is otherwise unchanged, so a diff against the plain dump shows
    only the comments.
    """
    text = text_or_module
    if isinstance(text_or_module, Operation):
        from ir.printing import print_module

        text = print_module(text_or_module, elide_constants=True, debuginfo=True)
    notes = notes or {}
    out = []
    for line in text.splitlines(keepends=True):
        parts = []
        where = _placement_of(line, placement) if placement else None
        if where is not None:
            parts.append(placement_comment(*where))
        note = next((notes[n] for n in _names_on(line) if n in notes), None) if notes else None
        if note:
            parts.append(note)
        if parts:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}// {'; '.join(parts)}\n")
        out.append(line)
    return "".join(out)


__all__ = ["Placement", "annotate", "placement_by_name", "placement_comment"]
