"""A TOSA module as Model Explorer's graph JSON: one node per TOSA operator.

Model Explorer (``ai-edge-model-explorer``) draws what an adapter hands it: graphs of
nodes, each with a label, a namespace (``a/b`` nests the node in layer ``b`` of layer
``a``), attributes, incoming edges and per-output metadata. This module builds that
structure as plain dicts (the JSON the web app reads) from the IR, so it needs neither
torch nor Model Explorer itself; ``drivers.explorer.main`` wraps it as an adapter.

What a reader sees:

- one node per TOSA operator, constants included (``const``/``const_shape`` nodes:
  their values, elided like a review dump's, are the node's ``values`` attribute and
  show under each user's inputs; Model Explorer, which hides nodes labelled ``const``
  by default, is told not to), plus
  ``GraphInputs``/``GraphOutputs`` for the function's arguments and results (Model
  Explorer's own names for them). ``tosa.yield`` is a terminator, not an operator: the
  values it yields are edges into the ``cond_if``/``while_loop`` node;
- one edge per use of an SSA value; each output carries ``tensor_shape`` (the MLIR type,
  shown as the edge's shape) and ``tensor_name`` (the flatbuffer's name, which is also
  the key overlays use, see ``drivers.explorer.overlays``);
- node attributes: the op's properties and attributes as MLIR prints them, its tensor
  name, FX node, source ``file:line`` and SSA result (``%12``, as in the dump);
- namespaces from the model's module hierarchy: the IR records, per op, the FX node and
  the source line of the model code it came from (``loc("fx_node"("model.py":59:0))``),
  not the ``nn.Module`` path, which ``tosa-ir compile`` writes beside the dumps instead
  (``<partition>.modules.json``, ``drivers.explorer.modules``: ``{FX node: "features/3/conv"}``).
  With that file an op's group is its module (nested by ``/``); without it, or for an op
  the file does not name (the root module's own ``forward``), its source line
  (``example.py:59``, in a ``forward`` one layer call or a few). An op with neither (most
  constants) joins its users' group when they share one;
- a ``cond_if``/``while_loop`` as a group holding the op's node and one nested group per
  region (``then``/``else``, ``cond``/``body``); a region's block arguments are drawn as
  edges from the values the op passes in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import FuncOp
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.irdl import IRDLOperation

from drivers.explorer.modules import ModulesFileError, find_modules_file, read_modules_file
from ir.diagnostics import fx_node_of, source_of
from ir.dialects.tosa_ext import IfOp, WhileOp, YieldOp
from ir.printing import MlirPrinter, mlir_value_names
from ir.tensor_names import (
    REGION_INPUT_NAMES,
    REGION_NAMES,
    TENSOR_NAME,
    function_tensor_names,
    tensor_names,
)

GRAPH_INPUTS = "GraphInputs"
GRAPH_OUTPUTS = "GraphOutputs"
#: constants with more elements than this show as ``dense_resource<sha256_…>``
ELIDE_THRESHOLD = 16
#: the attributes that are already shown under a name of their own
_SHOWN_ELSEWHERE = {TENSOR_NAME, REGION_NAMES, REGION_INPUT_NAMES}
#: region names of the control-flow ops, in region order
_REGION_LABELS = {IfOp: ("then", "else"), WhileOp: ("cond", "body")}


class ModelFileError(ValueError):
    """A file the adapter cannot read: one line, ``FILE: error: ...`` or
    ``FILE:line:col: ...`` for text that does not parse."""


def read_model(path: str | Path) -> ModuleOp:
    """The module in ``path``: a TOSA flatbuffer (``.tosa``) or MLIR text (any stage,
    ours or ``tosa-opt``'s)."""
    import ir
    from tosa_flatbuffer import FlatbufferError, from_flatbuffer

    path = Path(path)
    try:
        if path.suffix == ".tosa":
            return from_flatbuffer(path.read_bytes())
        return ir.parse_module(path.read_text(encoding="utf-8"), name=str(path))
    except OSError as err:
        raise ModelFileError(f"{path}: error: cannot read: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise ModelFileError(f"{path}: error: not UTF-8 text ({err.reason})") from None
    except FlatbufferError as err:
        raise ModelFileError(f"{path}: error: {str(err).strip().splitlines()[0]}") from None
    except ir.IRParseError as err:
        raise ModelFileError(err.error_line()) from None


def file_graphs(path: str | Path, modules_file: str | Path | None = None) -> dict:
    """``{"graphs": [...]}`` for the file at ``path`` (see ``module_graphs``), grouped by
    ``modules_file``, or else by the modules file beside ``path`` when there is one
    (``drivers.explorer.modules.find_modules_file``)."""
    return module_graphs(
        read_model(path), read_modules(modules_file or find_modules_file(Path(path)))
    )


def read_modules(path: str | Path | None) -> dict[str, str]:
    """The ``{FX node: module path}`` of a modules file (``{}`` for None), its errors a
    ``ModelFileError``'s one line."""
    if path is None:
        return {}
    try:
        return read_modules_file(Path(path))
    except ModulesFileError as err:
        raise ModelFileError(str(err)) from None


def module_graphs(module: ModuleOp, modules: Mapping[str, str] | None = None) -> dict:
    """``{"graphs": [graph, ...]}``: one Model Explorer graph per ``func.func``, its id
    the function's name (``main``). ``modules`` (``{FX node: "stem/conv"}``) gives the
    ops' groups; without it they are grouped by source line."""
    modules = modules or {}
    graphs = [
        _Builder(func, modules).graph()
        for func in module.body.block.ops
        if isinstance(func, FuncOp)
    ]
    if not graphs:
        raise ModelFileError("error: the module has no func.func to show")
    return {"graphs": graphs}


def tosa_op_count(module: ModuleOp) -> int:
    """The TOSA operators in ``module`` (regions included, ``tosa.yield`` not): the op
    nodes its graph has."""
    return sum(1 for _ in _operators(module))


def _operators(top: Operation) -> Iterator[Operation]:
    return (op for op in top.walk() if op.name.startswith("tosa.") and not isinstance(op, YieldOp))


def _attribute_text(attribute: Attribute) -> str:
    out = StringIO()
    MlirPrinter(stream=out, elide_threshold=ELIDE_THRESHOLD).print_attribute(attribute)
    return out.getvalue()


def _key_values(pairs) -> list[dict]:
    return [{"key": key, "value": value} for key, value in pairs]


def _operand_tags(op: Operation) -> list[str]:
    """The operand names of the op's definition (``input``, ``weight``, ``input_zp``),
    one per operand; a variadic operand numbers its members (``input_list.0``)."""
    if not isinstance(op, IRDLOperation):
        return [""] * len(op.operands)
    tags: list[str] = []
    for name, _ in type(op).get_irdl_definition().operands:
        value = getattr(op, name)
        if isinstance(value, SSAValue):
            tags.append(name)
        else:
            tags.extend(f"{name}.{i}" for i in range(len(value)))
    return tags if len(tags) == len(op.operands) else [""] * len(op.operands)


@dataclass
class _Builder:
    """One function's graph; node ids are the ops' order in the function (``0``, ``1``
    ...), unique across regions, where SSA names repeat."""

    func: FuncOp
    #: FX node (or tensor name) -> its ``nn.Module`` path, ``stem/conv``
    modules: Mapping[str, str]
    nodes: list[dict] = field(default_factory=list)
    #: where each value comes from: (node id, output id)
    sources: dict[SSAValue, tuple[str, str]] = field(default_factory=dict)
    names: dict[SSAValue, str] = field(default_factory=dict)

    def graph(self) -> dict:
        self.names = mlir_value_names(self.func)
        block = self.func.body.block
        self._inputs(block)
        namespaces = self._namespaces(block)
        self._block(block, "", namespaces)
        # Model Explorer hides nodes labelled "const" unless the graph says otherwise:
        # here they are the module's own operators, counted as such.
        return {"id": self.func.sym_name.data, "nodes": self.nodes, "nodeLabelsToHide": []}

    # ---------------------------------------------------------------- IO

    def _inputs(self, block: Block) -> None:
        arg_names, _ = function_tensor_names(self.func)
        outputs = []
        for index, (arg, name) in enumerate(zip(block.args, arg_names)):
            self.sources[arg] = (GRAPH_INPUTS, str(index))
            outputs.append(self._output(index, arg, name))
        self.nodes.append(
            {
                "id": GRAPH_INPUTS,
                "label": GRAPH_INPUTS,
                "namespace": "",
                "attrs": [],
                "incomingEdges": [],
                "outputsMetadata": outputs,
            }
        )

    def _outputs(self, returned: Operation) -> None:
        _, result_names = function_tensor_names(self.func)
        self.nodes.append(
            {
                "id": GRAPH_OUTPUTS,
                "label": GRAPH_OUTPUTS,
                "namespace": "",
                "attrs": _key_values(
                    (f"output {i}", name) for i, name in enumerate(result_names) if name
                ),
                "incomingEdges": self._edges(returned.operands),
                "inputsMetadata": [
                    {"id": str(i), "attrs": _key_values([("__tensor_tag", name)])}
                    for i, name in enumerate(result_names)
                    if name
                ],
            }
        )

    def _output(self, index: int, value: SSAValue, name: str) -> dict:
        attrs = [("tensor_shape", _attribute_text(value.type))]
        if name:
            attrs.append(("tensor_name", name))
        return {"id": str(index), "attrs": _key_values(attrs)}

    def _edges(self, operands, first_input: int = 0) -> list[dict]:
        edges = []
        for index, operand in enumerate(operands, start=first_input):
            source = self.sources.get(operand)
            if source is None:  # a value from outside the function: not drawn
                continue
            edges.append(
                {
                    "sourceNodeId": source[0],
                    "sourceNodeOutputId": source[1],
                    "targetNodeInputId": str(index),
                }
            )
        return edges

    # ---------------------------------------------------------------- ops

    def _block(self, block: Block, region_namespace: str, namespaces: dict[Operation, str]) -> None:
        for op in block.ops:
            if isinstance(op, YieldOp):
                continue
            if not op.name.startswith("tosa."):
                if op.name == "func.return":
                    self._outputs(op)
                continue
            own = namespaces.get(op, "")
            namespace = "/".join(p for p in (region_namespace, own) if p)
            self._op(op, namespace)

    def _op(self, op: Operation, namespace: str) -> None:
        node_id = str(len(self.nodes) - 1)  # GraphInputs is nodes[0]
        label = op.name.removeprefix("tosa.")
        regions = _REGION_LABELS.get(type(op))
        if regions is not None:
            namespace = "/".join(p for p in (namespace, f"{label}_{node_id}") if p)
        node = {
            "id": node_id,
            "label": label,
            "namespace": namespace,
            "attrs": self._attrs(op),
            "incomingEdges": self._edges(op.operands),
            "inputsMetadata": [
                {"id": str(i), "attrs": _key_values([("__tensor_tag", tag)])}
                for i, tag in enumerate(_operand_tags(op))
                if tag
            ],
            "outputsMetadata": [
                self._output(i, result, name)
                for i, (result, name) in enumerate(zip(op.results, tensor_names(op)))
            ],
        }
        values = op.properties.get("values") if label in ("const", "const_shape") else None
        if values is not None and node["outputsMetadata"]:
            # shown again on each user, under its input (Model Explorer lists an input's
            # source metadata there): a zero point's value where it is used
            node["outputsMetadata"][0]["attrs"].append(
                {"key": "values", "value": _attribute_text(values)}
            )
        self.nodes.append(node)
        if regions is not None:
            self._regions(op, node, namespace, regions)
        for index, result in enumerate(op.results):
            self.sources[result] = (node_id, str(index))

    def _regions(self, op: Operation, node: dict, namespace: str, labels: tuple[str, ...]) -> None:
        """Each region a nested group; its block arguments stand for the op's inputs
        (``input_list``), and what it yields becomes inputs of the op's node."""
        passed = list(op.input_list)  # type: ignore[attr-defined]
        next_input = len(op.operands)
        for region, label in zip(op.regions, labels):
            block = region.blocks.first
            if block is None:
                continue
            for arg, value in zip(block.args, passed):
                if value in self.sources:
                    self.sources[arg] = self.sources[value]
            self._block(block, f"{namespace}/{label}", self._namespaces(block))
            terminator = block.last_op
            if isinstance(terminator, YieldOp):
                node["incomingEdges"] += self._edges(terminator.operands, next_input)
                node["inputsMetadata"] += [
                    {
                        "id": str(next_input + i),
                        "attrs": _key_values([("__tensor_tag", f"{label} yield {i}")]),
                    }
                    for i in range(len(terminator.operands))
                ]
                next_input += len(terminator.operands)

    def _attrs(self, op: Operation) -> list[dict]:
        pairs = []
        names = [n for n in tensor_names(op) if n]
        if names:
            pairs.append(("tensor_name", ", ".join(names)))
        node = fx_node_of(op.location)
        if node is not None:
            pairs.append(("fx_node", node))
        source = source_of(op.location)
        if source is not None:
            pairs.append(("source", f"{source[0]}:{source[1]}"))
        if op.results:
            first = self.names.get(op.results[0], "")
            pairs.append(("result", f"%{first.split('#')[0]}" if first else ""))
        for name, attribute in (*op.properties.items(), *op.attributes.items()):
            if name not in _SHOWN_ELSEWHERE:
                pairs.append((name, _attribute_text(attribute)))
        return _key_values(pairs)

    # ---------------------------------------------------------------- namespaces

    def _module_of(self, op: Operation) -> str | None:
        """The op's ``nn.Module`` path, looked up by its FX node or, in a file without
        locations (ExecuTorch's ``.tosa``), by its first tensor name."""
        if not self.modules:
            return None
        key = fx_node_of(op.location) or next((n for n in tensor_names(op) if n), None)
        return self.modules.get(key) if key else None

    def _own_group(self, op: Operation) -> str | None:
        module = self._module_of(op)
        if module is not None:
            return module
        source = source_of(op.location)
        return None if source is None else f"{Path(source[0]).name}:{source[1]}"

    def _namespaces(self, block: Block) -> dict[Operation, str]:
        """Each op's group: its module (``stem``, ``features/3/conv``) or else its source
        line (``example.py:59``); an op with neither (a constant named after its tensor,
        a RESCALE at the IO) joins its users' group when they share one, and stays at the
        top otherwise (a zero point shared by every layer)."""
        found: dict[Operation, str] = {}
        order = {op: index for index, op in enumerate(block.ops)}
        for op in block.ops:
            group = self._own_group(op)
            if group is not None:
                found[op] = group
        for op in reversed(list(block.ops)):  # users (later in the block) first
            if op in found or not op.results:
                continue
            users = (block.find_ancestor_op_in_block(use.operation) for use in op.results[0].uses)
            placed = sorted((order[u], found[u]) for u in users if u is not None and u in found)
            if placed and all(group == placed[0][1] for _, group in placed):
                found[op] = placed[0][1]
        return found


__all__ = [
    "GRAPH_INPUTS",
    "GRAPH_OUTPUTS",
    "ModelFileError",
    "file_graphs",
    "module_graphs",
    "read_model",
    "read_modules",
    "tosa_op_count",
]
