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

import torch
from torch.fx import GraphModule, Node
from xdsl.dialects.builtin import LocationAttr, ModuleOp, TensorType
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Attribute, Block, Region, SSAValue

from bridge.fx_context import (
    FxImportError,
    RuleContext,
    display_target,
    node_name,
    target_name,
    value_type,
)
from bridge.fx_rules import RULES
from bridge.fx_types import UnsupportedTypeError, numpy_of
from bridge.provenance import node_location
from ir.builders import const_of, dense_from_numpy
from ir.diagnostics import failing_ops, format_place, fx_node_of, source_of
from ir.dialects.tosa_ext import YieldOp
from ir.speedups.op_create import append_op
from ir.tensor_names import name_dicts, set_tensor_names
from ir.verify.target import Target, as_target

FUNCTION_NAME = "main"

#: node meta key of a constant placeholder's tensor, pinned when its graph was transformed
#: (``bridge.capture``): later passes may reuse the placeholder's name for other data
CONSTANT_DATA_META = "tosa_ir_constant_data"

# --------------------------------------------------------------------------- importers


class _ModuleImporter:
    """State shared by a graph and its nested regions: where constants come from."""

    def __init__(self, exported_program, target: Target | None, unique_constants: bool = False):
        self.ep = exported_program
        self.target = target
        self.unique_constants = unique_constants
        # the signature rebuilds this list on every read
        self.user_inputs = (
            None if exported_program is None else set(exported_program.graph_signature.user_inputs)
        )

    def is_user_input(self, node: Node) -> bool:
        if self.user_inputs is None:
            return True
        return node.name in self.user_inputs

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
                raise FxImportError.at(
                    node, f"{kind} '{target}' has no data in the exported program"
                )
            if not isinstance(data, torch.Tensor):
                raise FxImportError.at(
                    node, f"{kind} '{target}' is a {type(data).__name__}, not a tensor"
                )
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
        #: (type, bytes) -> the block's constant of them (``RuleContext.operand_constant``)
        self.operand_constants: dict[tuple[Attribute, bytes], SSAValue] = {}
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

    def import_submodule(self, submodule: GraphModule, region_name: str) -> tuple[Block, list[str]]:
        """A control-flow submodule's graph as a block, with its inputs' tensor names."""
        inner = _GraphImporter(self.module, submodule, region_name)
        block = inner.import_region_block()
        return block, list(inner.arg_names)

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
                message = (
                    str(err)
                    if isinstance(err, UnsupportedTypeError)
                    else f"{type(err).__name__}: {err}"
                )
                raise FxImportError.at(node, message) from err

    def _placeholder(self, node: Node) -> None:
        if not self.is_region and not node.users:
            return  # ExecuTorch drops unused top-level placeholders; regions keep their signature
        is_argument = (
            node.meta.get("is_input", False) if self.is_region else self.module.is_user_input(node)
        )
        name = self.tensor_name(node)
        location = node_location(node_name(node), node.meta)
        if is_argument:
            self.values[node] = self.block.insert_arg(value_type(node.meta), len(self.block.args))
            self.values[node].location = location
            self.arg_names.append(name)
            return
        self.values[node] = self._constant(node, name, location)

    def _constant(self, node: Node, name: str, location: LocationAttr) -> SSAValue:
        tensor = self.module.constant_data(node)
        declared = value_type(node.meta)
        if not isinstance(declared, TensorType):
            raise FxImportError.at(node, f"constant placeholder of type {declared}")
        data = numpy_of(tensor, declared.element_type)
        if list(data.shape) != list(declared.get_shape()):
            raise FxImportError.at(
                node,
                f"constant data has shape {list(data.shape)}, graph says "
                f"{list(declared.get_shape())}",
            )
        op = const_of(dense_from_numpy(data, declared.element_type), location)
        set_tensor_names(op, [name])
        append_op(self.block, op)
        return op.results[0]

    def _call_function(self, node: Node) -> None:

        key = target_name(node)
        rule = RULES.get(key)
        if rule is None:
            raise FxImportError.at(node, f"no import rule for FX target '{display_target(node)}'")
        ctx = RuleContext(
            node, self, self._main_name(node), node_location(node_name(node), node.meta)
        )
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


def fx_to_ir(
    program,
    exported_program=None,
    *,
    spec: str | Target | None = None,
    verify: bool = True,
    unique_constants: bool = False,
) -> ModuleOp:
    """Import a TOSA-level graph into a verified module in the typed stage.

    ``program`` is the ``GraphModule`` ArmPassManager returned (with ``exported_program``
    to resolve parameters, buffers and lifted constants), or an ``ExportedProgram``
    whose graph is already TOSA-level. Without an exported program every placeholder is
    a function argument. ``spec`` (a ``Target`` or a string such as ``"TOSA-1.0+INT+u55"``)
    matters only where ExecuTorch's own lowering depends on it (ARITHMETIC_RIGHT_SHIFT
    rounds for U55).

    ``verify``: False for a caller that verifies the module next (``bridge.compile``'s
    pipeline verifies its input in full): the structural verification here (xDSL's, op
    by op, a failure named by its FX node) is then skipped rather than done twice.

    ``unique_constants``: an operand constant (a zero point, a RESCALE's multipliers and
    shifts) once per value in its block (``RuleContext.operand_constant``), for a caller
    that canonicalizes next, whose merge would make that of ExecuTorch's constant per use.
    Off by default: the typed stage then holds ExecuTorch's constants, and the signless
    stage's flatbuffer is ExecuTorch's, op for op.
    """
    from torch.export import ExportedProgram

    if isinstance(program, ExportedProgram):
        exported_program, gm = program, program.graph_module
    else:
        gm = program
    if not isinstance(gm, GraphModule):
        raise TypeError(
            f"fx_to_ir expects a GraphModule or ExportedProgram, got {type(program).__name__}"
        )
    target = None if spec is None else as_target(spec)
    importer = _GraphImporter(_ModuleImporter(exported_program, target, unique_constants), gm, None)
    module = ModuleOp([importer.import_function()])
    if verify:
        _verify_imported(module)
    return module


def _verify_imported(module: ModuleOp) -> None:
    """Structural verification, op by op, so a failure names the FX node it came from."""
    for op, err in failing_ops(module):
        source = source_of(op.location)
        raise FxImportError(
            f"imported op does not verify: {str(err).splitlines()[0]}",
            node=fx_node_of(op.location) or "",
            target=op.name,
            source=format_place(source) if source else "",
        ) from None
