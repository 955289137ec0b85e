"""Review dumps that say where each op runs: Vela's placement as comments in the IR text.

A reviewer reading a lowered module wants to know, op by op, whether the NPU runs it and
what it costs. Vela reports that per TOSA operator, keyed by the operator's output tensor
name; our ops carry the same name (``tosa.tensor_name``, see ``ir.tensor_names``), so the
figures can be put back on the text as a comment line above each op::

    // NPU 1437 cycles
    %12 = tosa.conv2d %9, %10, %11, ... {tosa.tensor_name = "aten_convolution_default"} ...

The comments come from the printer's ``op_comment`` hook (``ir.printing``), which sees
each op as it is printed: no regular expressions over the text. This module needs only
the module and a mapping ``tensor name -> (target, cycles)``: no torch, ExecuTorch or
Vela, so tools and tests can annotate any module. ``placement_by_name`` builds the
mapping from ``runtime.vela``'s ``OpPlacement`` records without importing them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from xdsl.ir import Operation

from ir.printing import print_module
from ir.tensor_names import tensor_names

#: where one op runs: ("NPU" | "CPU", Vela's cycle estimate or None when it has none)
Placement = tuple[str, int | None]


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


def annotate(
    module: Operation,
    placement: Mapping[str, Placement],
    notes: Mapping[str, str] | None = None,
) -> str:
    """``module`` as a review dump (large constants elided, locations shown) with a
    ``// NPU 1437 cycles`` line above every op whose tensor name has an entry in
    ``placement``, indented like the op; ``notes`` (tensor name -> text, e.g.
    ``tosa-ir debug``'s ``err max 3 LSB, 97.2% <= 1 LSB``) go on the same comment line,
    after the placement.

    A multi-result op is one operator to Vela, keyed by one of its outputs: the first of
    its names with an entry counts. Ops without an entry (constants, which Vela does not
    schedule) get no line, and the text is otherwise the plain dump, so a diff against it
    shows only the comments.
    """
    notes = notes or {}

    def comment(op: Operation) -> str | None:
        names = [name for name in tensor_names(op) if name]
        parts = []
        where = next((placement[n] for n in names if n in placement), None)
        if where is not None:
            parts.append(placement_comment(*where))
        note = next((notes[n] for n in names if n in notes), None)
        if note:
            parts.append(note)
        return "; ".join(parts) or None

    return print_module(module, elide_constants=True, debuginfo=True, op_comment=comment)


__all__ = ["Placement", "annotate", "placement_by_name", "placement_comment"]
