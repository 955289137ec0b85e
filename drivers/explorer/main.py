"""The Model Explorer adapter: ``.mlir`` (any stage, ours or ``tosa-opt``'s) and ``.tosa``.

Model Explorer loads a custom extension by importing ``<package>.main`` and registering
every ``Adapter`` subclass in it; ``tosa-ir view`` passes ``extensions=["drivers.explorer"]``
and names this adapter (``ADAPTER_ID``) for the file, so it wins over Model Explorer's own
MLIR adapter, which cannot read TOSA 1.0 text. The graph comes from
``drivers.explorer.graph`` as JSON-shaped dicts; Model Explorer wants its
``graph_builder`` dataclasses, built here field by field.

A model's modules file (``drivers.explorer.modules``) is found beside it; ``tosa-ir view
--modules FILE`` names one instead, which reaches the adapter through ``use_modules_file``
(Model Explorer hands ``convert`` only the model's path and the web app's settings).
"""

from __future__ import annotations

import os
from pathlib import Path

from model_explorer import Adapter, AdapterMetadata, ModelExplorerGraphs
from model_explorer import graph_builder as gb

from drivers.explorer.graph import file_graphs

ADAPTER_ID = "tosa_ir"
#: absolute model path -> the modules file given for it (``tosa-ir view --modules``)
_MODULES_FILES: dict[str, Path] = {}


def use_modules_file(model: str | Path, modules_file: str | Path) -> None:
    """Group ``model``'s graph by ``modules_file`` rather than the file found beside it."""
    _MODULES_FILES[os.path.abspath(model)] = Path(modules_file)


def _key_values(items: list[dict]) -> list[gb.KeyValue]:
    return [gb.KeyValue(key=i["key"], value=i["value"]) for i in items]


def _metadata(items: list[dict]) -> list[gb.MetadataItem]:
    return [gb.MetadataItem(id=i["id"], attrs=_key_values(i["attrs"])) for i in items]


def _node(node: dict) -> gb.GraphNode:
    return gb.GraphNode(
        id=node["id"],
        label=node["label"],
        namespace=node["namespace"],
        attrs=_key_values(node.get("attrs", [])),
        incomingEdges=[gb.IncomingEdge(**edge) for edge in node.get("incomingEdges", [])],
        outputsMetadata=_metadata(node.get("outputsMetadata", [])),
        inputsMetadata=_metadata(node.get("inputsMetadata", [])),
    )


def as_graphs(graphs: dict) -> ModelExplorerGraphs:
    """``drivers.explorer.graph``'s dicts as Model Explorer's dataclasses."""
    return {
        "graphs": [
            gb.Graph(
                id=g["id"],
                nodes=[_node(n) for n in g["nodes"]],
                nodeLabelsToHide=g.get("nodeLabelsToHide"),
            )
            for g in graphs["graphs"]
        ]
    }


class TosaIrAdapter(Adapter):
    """TOSA modules from this project's IR: one node per operator."""

    metadata = AdapterMetadata(
        id=ADAPTER_ID,
        name="TOSA IR adapter",
        description="TOSA 1.0 modules (.mlir of any stage, .tosa flatbuffers) through the "
        "tosa-ir parser: one node per TOSA operator, FX node and source line per op.",
        fileExts=["mlir", "tosa"],
    )

    def convert(self, model_path: str, settings: dict) -> ModelExplorerGraphs:
        # A ModelFileError's one line is what Model Explorer shows in its error box.
        modules_file = _MODULES_FILES.get(os.path.abspath(model_path))
        return as_graphs(file_graphs(model_path, modules_file))
