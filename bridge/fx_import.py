"""Import a TOSA-level FX graph (after ExecuTorch's ArmPassManager) into the IR.

One dispatch over FX node kinds (placeholder, call_function, get_attr, output); values
keyed by node; every ``call_function`` handled by a small rule looked up by its target
name in ``bridge.fx_rules.RULES``. Rules get a frozen ``RuleContext`` (the node, its
tensor name, its location, helpers to read operands and emit ops) and return the node's
value(s). Any failure is wrapped once, as an ``FxImportError`` naming the node, its
target and the user's source line; no partial module escapes.

The result is the *typed* stage: ``torch.uint8`` IO is ``ui8``, the boundary RESCALEs
carry ``input_unsigned`` / ``output_unsigned``, everything else is signless.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.fx import GraphModule, Node
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.utils.exceptions import VerifyException

from bridge.fx_types import UnsupportedTypeError, numpy_of
from bridge.fx_types import value_type as _value_type
from bridge.provenance import describe_source, node_location
from ir.builders import const, const_shape, storage_dtype
from ir.diagnostics import fx_node_of, source_of
from ir.dialects.tosa_ext import YieldOp
from ir.speedups.identity import interned
from ir.tensor_names import name_dicts, set_tensor_names

FUNCTION_NAME = "main"

#: node meta key of a constant placeholder's tensor, pinned when its graph was transformed
#: (``bridge.capture``): later passes may reuse the placeholder's name for other data
CONSTANT_DATA_META = "tosa_ir_constant_data"

#: key in a node's ``meta["custom"]`` (the part of the meta torch keeps through export and
#: decomposition, and ExecuTorch's passes copy to the ops they make from the node): the
#: tensor name and location name for an op we asked for, e.g. ``bridge.uint8_io``'s
#: boundary quantize ``a_signed`` whose RESCALE ExecuTorch would call ``tosa_rescale_default``
TENSOR_NAME_KEY = "tosa_ir_tensor_name"


def node_name(node: Node) -> str:
    """The name a node's tensor and location get: ours when we named it, FX's otherwise."""
    return node.meta.get("custom", {}).get(TENSOR_NAME_KEY) or node.name


def value_type(meta: dict) -> Attribute:
    """``fx_types.value_type``, one object per distinct type (``ir.speedups.identity.interned``):
    verifying the module then checks each op signature once."""
    return interned(_value_type(meta))


class FxImportError(Exception):
    """An FX graph the importer cannot turn into IR, with where it happened.

    ``node`` and ``target`` name the FX node, ``source`` is the user's ``file:line`` when
    the node's meta knows it."""

    def __init__(self, message: str, *, node: str = "", target: str = "", source: str = ""):
        self.message, self.node, self.target, self.source = message, node, target, source
        where = f"{source}: " if source else ""
        what = f"FX node '{node}'" + (f" ({target})" if target else "") + ": " if node else ""
        super().__init__(f"{where}error: {what}{message}")

    @classmethod
    def at(cls, node: Node, message: str) -> FxImportError:
        return cls(message, node=node.name, target=display_target(node), source=describe_source(node.meta))


def target_name(node: Node) -> str:
    """The key rules are registered under: ExecuTorch's ``node.target.__name__``
    (``tosa.CONV2D.default``, ``cond``, ``dim_order_ops._to_dim_order_copy.default``)."""
    if node.op != "call_function":
        return node.op
    if node.target is operator.getitem:
        return "getitem"
    return str(getattr(node.target, "__name__", node.target))


def display_target(node: Node) -> str:
    """The target as a reader knows it: ``aten.sin.default`` where torch's ``__name__``
    says only ``sin.default``."""
    name = target_name(node)
    namespace = getattr(node.target, "namespace", None)
    if namespace and not name.startswith(f"{namespace}."):
        return f"{namespace}.{name}"
    return name


def qualify_region_name(parent: str | None, child: str) -> str:
    """ExecuTorch's globally unique name of a nested control-flow region."""
    return child if parent is None else f"{parent}__{child}"


# --------------------------------------------------------------------------- rule context


@dataclass(frozen=True)
class RuleContext:
    """What a rule sees: the node being imported and the graph it lives in."""

    node: Node
    graph: _GraphImporter
    name: str
    location: Attribute

    @property
    def tosa_spec(self) -> str | None:
        return self.graph.module.tosa_spec

    def value(self, arg: Any) -> SSAValue:
        """The single SSA value of an FX operand node."""
        if not isinstance(arg, Node):
            raise FxImportError.at(self.node, f"expected a tensor operand, got {arg!r}")
        found = self.graph.values.get(arg)
        if found is None:
            raise FxImportError.at(self.node, f"operand '{arg.name}' has no value (dropped or not yet defined)")
        if isinstance(found, tuple):
            raise FxImportError.at(self.node, f"operand '{arg.name}' has {len(found)} results; use getitem")
        return found

    def values(self, arg: Any) -> tuple[SSAValue, ...]:
        found = self.graph.values.get(arg) if isinstance(arg, Node) else None
        if not isinstance(found, tuple):
            raise FxImportError.at(self.node, f"operand {arg!r} is not a multi-result value")
        return found

    def result_type(self) -> Attribute:
        return value_type(self.node.meta)

    def result_types(self) -> list[Attribute]:
        """Types of a multi-result node, from its fake tensors."""
        vals = self.node.meta.get("val")
        if not isinstance(vals, list | tuple):
            return [self.result_type()]
        return [value_type({"val": v}) for v in vals]

    def result_names(self, count: int) -> list[str]:
        """Names of a multi-result node's values: its getitem users' names (what
        ExecuTorch names those tensors), ``""`` for results nobody reads."""
        names = [""] * count
        for user in self.node.users:
            if user.target is operator.getitem and isinstance(user.args[1], int) and user.args[1] < count:
                names[user.args[1]] = self.graph.tensor_name(user)
        return names

    def emit(self, op: Operation, names: Sequence[str] | None = None) -> Operation:
        """Append ``op`` at the end of the graph's block, with this node's location and
        tensor name(s)."""
        op.location = self.location
        if names is None:
            names = [self.name] if len(op.results) == 1 else self.result_names(len(op.results))
        set_tensor_names(op, names)
        self.graph.block.add_op(op)
        return op

    def const(self, array: np.ndarray, element: Attribute, name: str) -> SSAValue:
        return self.emit(const(array, element), [name]).results[0]

    def scalar_const(self, value: float, element: Attribute, name: str) -> SSAValue:
        """A ``tensor<1xT>`` constant. Integers are stored as their raw bits in T, so an
        unsigned zero point 200 in ``i8`` reads back as -56, as ExecuTorch writes it."""
        dtype = storage_dtype(element)
        if np.issubdtype(dtype, np.integer):
            array = np.array([int(value)], dtype=np.int64).astype(dtype)
        else:
            array = np.array([value], dtype=dtype)
        return self.const(array, element, name)

    def shape_operand(self, arg: Any, name: str) -> SSAValue:
        """A ``!tosa.shape`` operand: a CONST_SHAPE node, or a literal list made one."""
        if isinstance(arg, Node):
            return self.value(arg)
        if isinstance(arg, list | tuple) and all(isinstance(v, int) for v in arg):
            return self.emit(const_shape(list(arg)), [name]).results[0]
        raise FxImportError.at(self.node, f"expected a shape (CONST_SHAPE node or int list), got {arg!r}")

    def import_region(self, submodule_node: Any, arg_types: Sequence[Attribute]) -> ImportedRegion:
        """A control-flow submodule as a region whose block takes ``arg_types``, with the
        names ExecuTorch gives it and its inputs in the flatbuffer."""
        if not isinstance(submodule_node, Node) or submodule_node.op != "get_attr":
            raise FxImportError.at(self.node, f"expected a get_attr of a submodule, got {submodule_node!r}")
        submodule = getattr(self.graph.gm, str(submodule_node.target), None)
        if not isinstance(submodule, GraphModule):
            raise FxImportError.at(self.node, f"'{submodule_node.target}' is not a GraphModule")
        region_name = qualify_region_name(self.graph.region_name, str(submodule_node.target))
        inner = _GraphImporter(self.graph.module, submodule, region_name)
        block = inner.import_region_block()
        if tuple(block.arg_types) != tuple(arg_types):
            got = ", ".join(str(t) for t in block.arg_types)
            want = ", ".join(str(t) for t in arg_types)
            raise FxImportError.at(
                self.node, f"region '{region_name}' takes ({got}) but is given ({want})"
            )
        return ImportedRegion(Region(block), region_name, list(inner.arg_names))


class ImportedRegion(NamedTuple):
    region: Region
    name: str  # ExecuTorch's region (and block) name
    input_names: list[str]  # its block inputs' tensor names


# --------------------------------------------------------------------------- importers


class _ModuleImporter:
    """State shared by a graph and its nested regions: where constants come from."""

    def __init__(self, exported_program, tosa_spec: str | None):
        self.ep = exported_program
        self.tosa_spec = tosa_spec

    def is_user_input(self, node: Node) -> bool:
        if self.ep is None:
            return True
        return node.name in self.ep.graph_signature.user_inputs

    def constant_data(self, node: Node) -> torch.Tensor:
        """The tensor behind a parameter / buffer / lifted-constant placeholder: the one
        pinned on the node when it was made (see ``CONSTANT_DATA_META``), else the
        exported program's."""
        pinned = node.meta.get(CONSTANT_DATA_META)
        if isinstance(pinned, torch.Tensor):
            return pinned
        if self.ep is None:
            raise FxImportError.at(node, "placeholder needs data but no exported program was given")
        data = ModuleConstants(self.ep).find(node)
        if data is None:
            raise FxImportError.at(
                node,
                "placeholder is neither a user input nor a parameter, buffer or lifted constant "
                "of the exported program: its data cannot be found",
            )
        return data


class ModuleConstants:
    """Parameters, buffers and lifted constants of an exported program, by placeholder."""

    def __init__(self, exported_program):
        self.ep = exported_program
        signature = exported_program.graph_signature
        self.kinds = (
            ("parameter", signature.inputs_to_parameters),
            ("buffer", signature.inputs_to_buffers),
            ("lifted constant", signature.inputs_to_lifted_tensor_constants),
        )

    def find(self, node: Node) -> torch.Tensor | None:
        """The placeholder's tensor; None if the signature does not name it; an error if
        it names data the program does not hold."""
        for kind, placeholder_to_target in self.kinds:
            target = placeholder_to_target.get(node.name)
            if target is None:
                continue
            data = self.ep.state_dict.get(target)
            if data is None:
                data = self.ep.constants.get(target)
            if data is None:
                raise FxImportError.at(node, f"{kind} '{target}' has no data in the exported program")
            if not isinstance(data, torch.Tensor):
                raise FxImportError.at(node, f"{kind} '{target}' is a {type(data).__name__}, not a tensor")
            return data
        return None


class _GraphImporter:
    """One FX graph: the top-level function body or a control-flow region."""

    def __init__(self, module: _ModuleImporter, gm: GraphModule, region_name: str | None):
        self.module = module
        self.gm = gm
        self.region_name = region_name
        self.suffix = "" if region_name is None else f"_{region_name}"
        self.block = Block()
        self.values: dict[Node, SSAValue | tuple[SSAValue, ...]] = {}
        self.arg_names: list[str] = []
        self.outputs: list[SSAValue] = []
        self.output_names: list[str] = []

    @property
    def is_region(self) -> bool:
        return self.region_name is not None

    def tensor_name(self, node: Node) -> str:
        return node_name(node) + self.suffix

    # -- entry points ----------------------------------------------------------------

    def import_function(self) -> FuncOp:
        self._import_nodes()
        self.block.add_op(ReturnOp(*self.outputs))
        func = FuncOp(
            FUNCTION_NAME,
            (self.block.arg_types, [v.type for v in self.outputs]),
            Region(self.block),
            arg_attrs=name_dicts(self.arg_names),
            res_attrs=name_dicts(self.output_names),
        )
        return func

    def import_region_block(self) -> Block:
        self._import_nodes()
        self.block.add_op(YieldOp.create(operands=self.outputs))
        return self.block

    # -- node kinds ------------------------------------------------------------------

    def _import_nodes(self) -> None:
        for node in self.gm.graph.nodes:
            handler = _NODE_KINDS.get(node.op)
            if handler is None:
                raise FxImportError.at(node, f"unsupported FX node kind '{node.op}'")
            try:
                handler(self, node)
            except FxImportError:
                raise
            except Exception as err:  # wrapped once, with the node it happened at
                message = str(err) if isinstance(err, UnsupportedTypeError) else f"{type(err).__name__}: {err}"
                raise FxImportError.at(node, message) from err

    def _placeholder(self, node: Node) -> None:
        if not self.is_region and not node.users:
            return  # ExecuTorch drops unused top-level placeholders; regions keep their signature
        is_argument = node.meta.get("is_input", False) if self.is_region else self.module.is_user_input(node)
        name = self.tensor_name(node)
        location = node_location(node_name(node), node.meta)
        if is_argument:
            self.values[node] = self.block.insert_arg(value_type(node.meta), len(self.block.args))
            self.values[node].location = location
            self.arg_names.append(name)
            return
        self.values[node] = self._constant(node, name, location)

    def _constant(self, node: Node, name: str, location: Attribute) -> SSAValue:
        tensor = self.module.constant_data(node)
        declared = value_type(node.meta)
        if not isinstance(declared, TensorType):
            raise FxImportError.at(node, f"constant placeholder of type {declared}")
        if list(tensor.shape) != list(declared.get_shape()):
            raise FxImportError.at(
                node, f"constant data has shape {list(tensor.shape)}, graph says {list(declared.get_shape())}"
            )
        op = const(numpy_of(tensor), declared.element_type)
        op.location = location
        set_tensor_names(op, [name])
        self.block.add_op(op)
        return op.results[0]

    def _call_function(self, node: Node) -> None:
        from bridge.fx_rules import RULES

        key = target_name(node)
        rule = RULES.get(key)
        if rule is None:
            raise FxImportError.at(node, f"no import rule for FX target '{display_target(node)}'")
        ctx = RuleContext(node, self, self._main_name(node), node_location(node_name(node), node.meta))
        result = rule(ctx, *node.args, **node.kwargs)
        self.values[node] = tuple(result) if isinstance(result, list | tuple) else result

    def _main_name(self, node: Node) -> str:
        """ExecuTorch names a node whose users are all getitems after its first getitem."""
        users = list(node.users)
        if users and all(u.target is operator.getitem for u in users):
            return self.tensor_name(users[0])
        return self.tensor_name(node)

    def _get_attr(self, node: Node) -> None:
        attr = getattr(self.gm, str(node.target), None)
        if isinstance(attr, GraphModule):
            return  # a control-flow branch, imported by the cond/while rule that uses it
        raise FxImportError.at(node, f"get_attr '{node.target}' does not name a submodule")

    def _output(self, node: Node) -> None:
        outputs = node.args[0]
        if isinstance(outputs, Node):
            outputs = [outputs]
        for out in outputs:
            if not isinstance(out, Node) or out not in self.values:
                raise FxImportError.at(node, f"graph output {out!r} has no value")
            value = self.values[out]
            if isinstance(value, tuple):
                raise FxImportError.at(node, f"graph output '{out.name}' is a multi-result value")
            self.outputs.append(value)
            self.output_names.append(self.tensor_name(out))


_NODE_KINDS = {
    "placeholder": _GraphImporter._placeholder,
    "call_function": _GraphImporter._call_function,
    "get_attr": _GraphImporter._get_attr,
    "output": _GraphImporter._output,
}


# --------------------------------------------------------------------------- entry point


def fx_to_ir(program, exported_program=None, *, tosa_spec: str | None = None) -> ModuleOp:
    """Import a TOSA-level graph into a verified module in the typed stage.

    ``program`` is the ``GraphModule`` ArmPassManager returned (with ``exported_program``
    to resolve parameters, buffers and lifted constants), or an ``ExportedProgram``
    whose graph is already TOSA-level. Without an exported program every placeholder is
    a function argument. ``tosa_spec`` (e.g. ``"TOSA-1.0+INT+u55"``) matters only where
    ExecuTorch's own lowering depends on it (ARITHMETIC_RIGHT_SHIFT rounds for U55).
    """
    from torch.export import ExportedProgram

    if isinstance(program, ExportedProgram):
        exported_program, gm = program, program.graph_module
    else:
        gm = program
    if not isinstance(gm, GraphModule):
        raise TypeError(f"fx_to_ir expects a GraphModule or ExportedProgram, got {type(program).__name__}")
    importer = _GraphImporter(_ModuleImporter(exported_program, tosa_spec), gm, None)
    module = ModuleOp([importer.import_function()])
    _verify_imported(module)
    return module


def _verify_imported(module: ModuleOp) -> None:
    """Structural verification, op by op, so a failure names the FX node it came from."""
    for op in module.walk():
        try:
            op.verify(verify_nested_ops=False)
        except VerifyException as err:
            source = source_of(op.location)
            raise FxImportError(
                f"imported op does not verify: {str(err).splitlines()[0]}",
                node=fx_node_of(op.location) or "",
                target=op.name,
                source=f"{source[0]}:{source[1]}" if source else "",
            ) from None
