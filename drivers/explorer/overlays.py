"""Per-op figures as Model Explorer node data: Vela's placement and cycles, the op's error.

Model Explorer colours nodes from a node data file: ``{graph id: {"results": {key:
{"value": v}}, ...}}``, where a key is a node id or one of the node's output tensor
names. Ours are keyed by tensor name (``tosa.tensor_name``, the name Vela and
``tosa-ir debug`` report an op by), so one file fits the ``.tosa`` and every stage dump
of a partition, whose ops keep their names, not only the module it was made from.

Files, next to what ``tosa-ir compile`` / ``tosa-ir debug`` write for partition
``tag0``:

- ``tag0.placement.json``: ``NPU`` or ``CPU`` per op Vela placed;
- ``tag0.cycles.json``: Vela's cycle estimate per op (an op Vela fuses into a neighbour
  has none of its own and gets no value rather than a zero);
- ``tag0.error.json`` (``tosa-ir debug``): each compared op's max error against the
  quantized torch model, in LSB (integer tensors) or as a relative error (float); rows
  that only repeat another op's figures (``(at row N)`` proxies) get none.

Like ``ir.review``, the inputs are duck-typed (Vela's ``OpPlacement``, the debug
report's rows), so nothing here imports Vela or torch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import FuncOp

from ir.files import write_atomically
from ir.review import Placement, placement_by_name

KINDS = ("cycles", "placement", "error")
_PLACEMENT_COLOURS = {"NPU": "#a6dba0", "CPU": "#f4a582"}
_CYCLES_GRADIENT = [{"stop": 0, "bgColor": "#fff7bc"}, {"stop": 1, "bgColor": "#d7301f"}]
# in LSB: exact, within the 1 LSB the comparison allows, over it
_LSB_THRESHOLDS = [
    {"value": 0, "bgColor": "#d9f0d3"},
    {"value": 1, "bgColor": "#fee08b"},
    {"value": 1e30, "bgColor": "#d73027"},
]
_RELATIVE_GRADIENT = [{"stop": 0, "bgColor": "#d9f0d3"}, {"stop": 1, "bgColor": "#d73027"}]


def overlay_path(folder: Path, partition: str, kind: str) -> Path:
    """``folder/<partition>.<kind>.json``."""
    return Path(folder) / f"{partition}.{kind}.json"


def graph_ids(module: ModuleOp) -> list[str]:
    """The graphs ``drivers.explorer.graph`` makes of ``module``: its functions."""
    return [op.sym_name.data for op in module.body.block.ops if isinstance(op, FuncOp)]


def _node_data(ids: Iterable[str], name: str, results: dict, **colouring) -> str:
    graph = {"name": name, "results": results, **colouring}
    return json.dumps(dict.fromkeys(ids, graph), indent=1, sort_keys=True) + "\n"


def placement_files(
    module: ModuleOp, placement: Mapping[str, Placement], label: str
) -> dict[str, str]:
    """``{"placement": json, "cycles": json}`` for ``placement`` (``tensor name ->
    (target, cycles)``, ``ir.review.placement_by_name``)."""
    ids = graph_ids(module)
    targets = {
        name: {"value": target, "bgColor": _PLACEMENT_COLOURS.get(target, "#dddddd")}
        for name, (target, _) in sorted(placement.items())
    }
    cycles = {
        name: {"value": count}
        for name, (_, count) in sorted(placement.items())
        if count is not None
    }
    return {
        "placement": _node_data(ids, f"{label}: Vela placement", targets),
        "cycles": _node_data(ids, f"{label}: Vela cycles", cycles, gradient=_CYCLES_GRADIENT),
    }


def error_values(rows: Iterable, partition: int = 0) -> tuple[dict[str, float], str]:
    """``({tensor name: error}, unit)`` from ``drivers.debug.Row``s of ``partition``:
    max LSB where the rows are integer, else the relative error; proxies left out."""
    own = [
        r
        for r in rows
        if r.partition == partition and r.tensor_name and r.proxy_of is None and r.compared
    ]
    lsb = {r.tensor_name: r.max_lsb for r in own if r.max_lsb is not None}
    if lsb:
        return lsb, "LSB"
    return {r.tensor_name: r.rel_err for r in own if r.rel_err is not None}, "relative"


def error_file(module: ModuleOp, errors: Mapping[str, float], unit: str, label: str) -> str:
    results = {name: {"value": value} for name, value in sorted(errors.items())}
    colouring = (
        {"thresholds": _LSB_THRESHOLDS} if unit == "LSB" else {"gradient": _RELATIVE_GRADIENT}
    )
    return _node_data(
        graph_ids(module), f"{label}: error vs quantized torch ({unit})", results, **colouring
    )


def write_compile_overlays(folder: Path, partition: str, module: ModuleOp, vela) -> list[Path]:
    """``tosa-ir compile``'s overlays of one partition: ``<partition>.placement.json``
    and ``<partition>.cycles.json`` in ``folder``, from ``vela`` (a
    ``runtime.VelaResult``; None when Vela refused the graph: nothing written)."""
    if vela is None:
        return []
    placement = placement_by_name(vela.summary.placement)
    written = []
    for kind, text in placement_files(module, placement, partition).items():
        path = overlay_path(folder, partition, kind)
        write_atomically(path, text)
        written.append(path)
    return written


def write_debug_overlays(folder: Path, report) -> list[Path]:
    """``tosa-ir debug``'s overlays: ``<partition>.error.json`` per partition of
    ``report`` (a ``drivers.debug.Report``: its rows, modules and names)."""
    written = []
    for index, (partition, module) in enumerate(zip(report.names, report.modules)):
        errors, unit = error_values(report.rows, index)
        path = overlay_path(folder, partition, "error")
        write_atomically(path, error_file(module, errors, unit, partition))
        written.append(path)
    return written


def partition_candidates(model: Path) -> list[tuple[Path, str]]:
    """Where the side files of ``model``'s partition may be, as ``(folder, partition)``,
    nearest first: beside it under its own name (``out/tag0.tosa``,
    ``out/tag0.review.mlir``: ``(out, "tag0")``), then one folder up under the folder's
    name (the stage dumps ``out/tag0/NN-<stage>.mlir``: ``(out, "tag0")`` too)."""
    model = Path(model)
    return [(model.parent, model.name.split(".")[0]), (model.parent.parent, model.parent.name)]


def find_overlays(model: Path) -> dict[str, Path]:
    """The overlay files that go with ``model``, by kind: ``out/tag0.<kind>.json`` for
    ``out/tag0.tosa``, ``out/tag0.review.mlir``, ``out/debug/tag0.debug.mlir`` (in its
    own folder) and the stage dumps ``out/tag0/NN-<stage>.mlir`` (one folder up)."""
    found: dict[str, Path] = {}
    for kind in KINDS:
        for folder, partition in partition_candidates(model):
            path = overlay_path(folder, partition, kind)
            if path.is_file():
                found[kind] = path
                break
    return found


__all__ = [
    "KINDS",
    "error_file",
    "error_values",
    "find_overlays",
    "graph_ids",
    "overlay_path",
    "partition_candidates",
    "placement_files",
    "write_compile_overlays",
    "write_debug_overlays",
]
