"""What an FX import rule sees (``RuleContext``) and the error it raises (``FxImportError``).

Apart from ``bridge.fx_import`` so that the rules (``bridge.fx_rules``) and the importer
that dispatches to them both depend on this module, not on each other: the importer
knows the rule table, a rule knows only its context.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import numpy as np
from torch.fx import GraphModule, Node
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, IntegerType, LocationAttr
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue

from bridge.fx_types import value_type  # one object per distinct type, for the rules too
from bridge.provenance import describe_source
from ir.builders import const_of, const_shape, dense_from_bytes, dense_from_numpy, storage_dtype
from ir.speedups.op_create import append_op
from ir.speedups.shared_attrs import shared
from ir.tensor_names import set_tensor_names
from ir.verify.core import element_type, is_signed_or_unsigned


class GraphImporting(Protocol):
    """The part of the importer (``bridge.fx_import``'s graph importer) a rule reaches
    through its context: the graph being built and how to import a nested one."""

    module: Any  # its ``target``: the ir.verify.Target imported for (or None); its
    # ``unique_constants``: whether ``RuleContext.operand_constant`` uniques them
    gm: GraphModule
    region_name: str | None
    block: Block
    values: dict[Node, SSAValue | tuple[SSAValue, ...]]
    operand_constants: dict[tuple[Attribute, bytes], SSAValue]

    def tensor_name(self, node: Node) -> str: ...

    def import_submodule(
        self, submodule: GraphModule, region_name: str
    ) -> tuple[Block, list[str]]: ...


#: key in a node's ``meta["custom"]`` (the part of the meta torch keeps through export and
#: decomposition, and ExecuTorch's passes copy to the ops they make from the node): the
#: tensor name and location name for an op we asked for, e.g. ``bridge.uint8_io``'s
#: boundary quantize ``a_signed`` whose RESCALE ExecuTorch would call ``tosa_rescale_default``
TENSOR_NAME_KEY = "tosa_ir_tensor_name"


def node_name(node: Node) -> str:
    """The name a node's tensor and location get: ours when we named it, FX's otherwise."""
    return node.meta.get("custom", {}).get(TENSOR_NAME_KEY) or node.name


class FxImportError(Exception):
    """An FX graph the importer cannot turn into IR, with where it happened.

    ``node`` and ``target`` name the FX node, ``source`` is the user's ``file:line`` when
    the node's meta knows it."""

    def __init__(self, message: str, *, node: str = "", target: str = "", source: str = ""):
        self.message, self.node, self.target, self.source = message, node, target, source
        where = f"{source}: " if source else ""
        what = f"FX node '{node}'" + (f" ({target})" if target else "") + ": " if node else ""
        super().__init__(f"{where}error: {what}{message}")

    @property
    def place(self) -> str | None:
        """The user's ``file:line`` the error starts with, when the node's meta knows it."""
        return self.source or None

    @classmethod
    def at(cls, node: Node, message: str) -> FxImportError:
        return cls(
            message, node=node.name, target=display_target(node), source=describe_source(node.meta)
        )


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
    graph: GraphImporting
    name: str
    location: LocationAttr

    @property
    def target(self):
        """The ``ir.verify.Target`` the graph is imported for, or None."""
        return self.graph.module.target

    def value(self, arg: Any) -> SSAValue:
        """The single SSA value of an FX operand node."""
        if not isinstance(arg, Node):
            raise FxImportError.at(self.node, f"expected a tensor operand, got {arg!r}")
        found = self.graph.values.get(arg)
        if found is None:
            raise FxImportError.at(
                self.node, f"operand '{arg.name}' has no value (dropped or not yet defined)"
            )
        if isinstance(found, tuple):
            raise FxImportError.at(
                self.node, f"operand '{arg.name}' has {len(found)} results; use getitem"
            )
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
            if (
                user.target is operator.getitem
                and isinstance(user.args[1], int)
                and user.args[1] < count
            ):
                names[user.args[1]] = self.graph.tensor_name(user)
        return names

    def emit(self, op: Operation, names: Sequence[str] | None = None) -> Operation:
        """Append ``op`` at the end of the graph's block, with this node's location and
        tensor name(s)."""
        op.location = self.location
        if names is None:
            names = [self.name] if len(op.results) == 1 else self.result_names(len(op.results))
        set_tensor_names(op, names)
        append_op(self.graph.block, op)
        return op

    def const(self, array: np.ndarray, element: Attribute, name: str) -> SSAValue:
        return self.emit(const_of(dense_from_numpy(array, element), self.location), [name]).results[
            0
        ]

    def const_bytes(
        self,
        data: bytes,
        element: Attribute,
        shape: tuple[int, ...],
        name: str,
        *,
        shareable: bool = True,
    ) -> SSAValue:
        """An operand constant (``operand_constant``) of ``shape`` over ``data``, the
        element type's little-endian storage (``ir.builders.dense_from_bytes``)."""
        values = dense_from_bytes(data, element, shape)
        return self.operand_constant(values, name, shareable=shareable)

    def scalar_const(
        self, value: float, element: Attribute, name: str, *, shareable: bool = True
    ) -> SSAValue:
        """A ``tensor<1xT>`` operand constant (``operand_constant``). Integers are stored
        as their raw bits in T, so an unsigned zero point 200 in ``i8`` reads back as -56,
        as ExecuTorch writes it."""
        if isinstance(element, IntegerType):  # integer storage: one attribute per number
            number = int(value)
            values = shared(("scalar", number), lambda: _scalar_values(number, element), element)
        else:
            values = _scalar_values(value, element)
        return self.operand_constant(values, name, shareable=shareable)

    def operand_constant(
        self, values: DenseIntOrFPElementsAttr, name: str, *, shareable: bool = True
    ) -> SSAValue:
        """A constant only the op a rule builds reads (a zero point, a RESCALE's
        multipliers and shifts, a padding value). One per use, as ExecuTorch writes them;
        with ``fx_to_ir(unique_constants=True)`` one ``tosa.const`` per distinct value in
        the graph's block, named and located by the first node that asked for it, as
        MLIR's ``OperationFolder`` uniques constants per region.

        Uniqued, the module is the one ``canonicalize``'s ``MergeIdenticalConstants``
        would make of a constant per use, so its stage and the flatbuffer do not change:
        that pattern keeps the first constant of each (type, bytes) in a block and
        re-points the later ones' readers to it, and an operand constant feeds no
        ``return`` (which would keep it apart). Of the passes that may run before it
        (``bridge.compile.merges_constants_first``), ``legalize-unsigned-io`` reads
        constants by their uses and names, but only those of a RESCALE with an unsigned
        flag (its zero points, renamed, replaced, erased when unread) and unsigned ones
        (retyped): those stay one per use (``shareable=False``, and any constant of a
        signed or unsigned type), so it sees what it saw. What uniquing saves is making,
        verifying and then merging the copies: a quantized graph asks for the same zero
        points and scales at nearly every op."""
        uniqued = (
            self.graph.module.unique_constants
            and shareable
            and not is_signed_or_unsigned(element_type(values.type))
        )
        key = (values.type, values.data.data)
        found = self.graph.operand_constants.get(key) if uniqued else None
        if found is None:
            found = self.emit(const_of(values, self.location), [name]).results[0]
            if uniqued:
                self.graph.operand_constants[key] = found
        return found

    def shape_operand(self, arg: Any, name: str) -> SSAValue:
        """A ``!tosa.shape`` operand: a CONST_SHAPE node, or a literal list made one."""
        if isinstance(arg, Node):
            return self.value(arg)
        if isinstance(arg, list | tuple) and all(isinstance(v, int) for v in arg):
            return self.emit(const_shape(list(arg)), [name]).results[0]
        raise FxImportError.at(
            self.node, f"expected a shape (CONST_SHAPE node or int list), got {arg!r}"
        )

    def import_region(self, submodule_node: Any, arg_types: Sequence[Attribute]) -> ImportedRegion:
        """A control-flow submodule as a region whose block takes ``arg_types``, with the
        names ExecuTorch gives it and its inputs in the flatbuffer."""
        if not isinstance(submodule_node, Node) or submodule_node.op != "get_attr":
            raise FxImportError.at(
                self.node, f"expected a get_attr of a submodule, got {submodule_node!r}"
            )
        submodule = getattr(self.graph.gm, str(submodule_node.target), None)
        if not isinstance(submodule, GraphModule):
            raise FxImportError.at(self.node, f"'{submodule_node.target}' is not a GraphModule")
        region_name = qualify_region_name(self.graph.region_name, str(submodule_node.target))
        block, input_names = self.graph.import_submodule(submodule, region_name)
        if tuple(block.arg_types) != tuple(arg_types):
            got = ", ".join(str(t) for t in block.arg_types)
            want = ", ".join(str(t) for t in arg_types)
            raise FxImportError.at(
                self.node, f"region '{region_name}' takes ({got}) but is given ({want})"
            )
        return ImportedRegion(Region(block), region_name, input_names)


def _scalar_values(value: float, element: Attribute) -> DenseIntOrFPElementsAttr:
    """The ``tensor<1xT>`` elements of ``RuleContext.scalar_const``."""
    dtype = storage_dtype(element)
    if np.issubdtype(dtype, np.integer):
        array = np.array([int(value)], dtype=np.int64).astype(dtype)
    else:
        array = np.array([value], dtype=dtype)
    return dense_from_numpy(array, element)


class ImportedRegion(NamedTuple):
    region: Region
    name: str  # ExecuTorch's region (and block) name
    input_names: list[str]  # its block inputs' tensor names
