"""uint8 IO behind data-movement ops: the float islands ExecuTorch 1.5.1 leaves on the CPU.

With ExecuTorch's uint8 IO config, the Arm quantizer refuses to share a qspec across a
cluster that touches a uint8 model input or output ("Shared-qspec bridge cluster touches
uint8 model IO"), so a ``cat`` of two inputs, a ``stack``, ``pixel_shuffle``, a slice or
view of an input, or a ``cat`` at the output stays float between its dequantize and
quantize nodes. The partitioner then rejects it ("Node was not marked as quantized in the
Arm backend") and the op runs on the CPU in float, between the delegates.

Such an island is integer data movement in disguise. For an op that only moves values
(no arithmetic), quantizing after the move equals moving after quantizing:

    Q_out(move(DQ_1(x_1), ..., DQ_n(x_n))) == move(Q_out(DQ_1(x_1)), ..., Q_out(DQ_n(x_n)))

exactly, element for element. ``requantize_uint8_io_islands`` rewrites each island into
that right-hand side, in the signless int8 domain of its output: the output's scale, and
its zero point moved by -128 when the output is uint8. Each island input gets a
``Q_domain -> DQ_domain`` pair after its dequantize; each island edge and output gets one
too; the island's ops are marked quantized as the Arm quantizer marks its own. ExecuTorch's
passes then treat it as any quantized movement op: ``InsertRescalePass`` folds each
``DQ_uint8 -> Q_int8`` pair into a boundary RESCALE with ``input_unsigned`` (scale 1 and
zero point - 128 when the ranges agree, the input's own scale otherwise: a ``cat`` of
inputs with different ranges) and each ``DQ_int8 -> Q_uint8`` into one with
``output_unsigned``. Inside the delegate every tensor is int8.

The rewrite never changes what the graph computes (the quantized model's values, to the
bit) and only touches islands that read or write uint8: an int8 model is left alone, so
every graph ExecuTorch already delegates keeps ExecuTorch's bytes.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import torch
from torch.fx import Graph, GraphModule, Node

from bridge.fx_context import TENSOR_NAME_KEY


def _is_q(node: Node) -> bool:
    """A per-tensor quantize (``quantized_decomposed`` is registered by torchao, which
    ExecuTorch imports: looked up by name, not at import time)."""
    return (
        node.op == "call_function"
        and str(node.target) == "quantized_decomposed.quantize_per_tensor.default"
    )


def _is_dq(node: Node) -> bool:
    return (
        node.op == "call_function"
        and str(node.target) == "quantized_decomposed.dequantize_per_tensor.default"
    )


_ATEN = torch.ops.aten

#: ATen ops that only move, copy or reinterpret values: a quantized tensor through them
#: keeps its scale and zero point. (Padding is not one: its fill value is a real number.)
MOVEMENT_OPS = frozenset(
    {
        _ATEN.cat.default,
        _ATEN.stack.default,
        _ATEN.view.default,
        _ATEN.reshape.default,
        _ATEN._unsafe_view.default,
        _ATEN.flatten.using_ints,
        _ATEN.unflatten.int,
        _ATEN.permute.default,
        _ATEN.transpose.int,
        _ATEN.t.default,
        _ATEN.slice.Tensor,
        _ATEN.narrow.default,
        _ATEN.select.int,
        _ATEN.squeeze.dims,
        _ATEN.squeeze.dim,
        _ATEN.squeeze.default,
        _ATEN.unsqueeze.default,
        _ATEN.expand.default,
        _ATEN.repeat.default,
        _ATEN.flip.default,
        _ATEN.alias.default,
        _ATEN.clone.default,
        _ATEN.pixel_shuffle.default,
        _ATEN.pixel_unshuffle.default,
    }
)


@dataclass(frozen=True)
class QParams:
    """A per-tensor quantization: the arguments 1..5 of a quantize/dequantize node."""

    scale: float
    zero_point: int
    qmin: int
    qmax: int
    dtype: torch.dtype

    @classmethod
    def of(cls, node: Node) -> QParams:
        scale, zero_point, qmin, qmax, dtype = node.args[1:6]
        return cls(float(scale), int(zero_point), int(qmin), int(qmax), dtype)

    def signed(self) -> QParams:
        """The int8 quantization with the same meaning: uint8 values minus 128."""
        if self.dtype != torch.uint8:
            return self
        return QParams(self.scale, self.zero_point - 128, -128, 127, torch.int8)

    def args(self) -> tuple:
        return (self.scale, self.zero_point, self.qmin, self.qmax, self.dtype)


def _is_movement(node: Node) -> bool:
    if node.op != "call_function" or node.target not in MOVEMENT_OPS:
        return False
    val = node.meta.get("val")
    return (
        isinstance(val, torch.Tensor)
        and val.dtype.is_floating_point
        and not _marked_quantized(node)
    )


def _annotation_info():
    """ExecuTorch's mark of a quantized op (imported late: ``bridge.capture``, which
    imports this module, silences ExecuTorch's import first)."""
    from executorch.backends.arm.common.annotation_meta import ArmAnnotationInfo

    return ArmAnnotationInfo


def _marked_quantized(node: Node) -> bool:
    info_class = _annotation_info()
    info = node.meta.get("custom", {}).get(info_class.CUSTOM_META_KEY)
    return bool(info and info_class(info).quantized)


def _tensor_inputs(node: Node) -> list[Node]:
    """The nodes ``node`` reads as tensors (a cat's list included), in order."""
    return [n for n in node.all_input_nodes if isinstance(n.meta.get("val"), torch.Tensor)]


@dataclass
class Island:
    """A connected set of float movement ops, read only through dequantize nodes and
    read only by quantize nodes."""

    nodes: list[Node]
    inputs: list[Node]  # the dequantize nodes feeding it
    outputs: list[Node]  # the quantize nodes reading it

    def touches_uint8(self) -> bool:
        return any(QParams.of(n).dtype == torch.uint8 for n in (*self.inputs, *self.outputs))


def find_islands(graph: Graph) -> list[Island]:
    """Every island of ``graph`` (each op in at most one), in graph order."""
    seen: set[Node] = set()
    islands = []
    for node in graph.nodes:
        if node in seen or not _is_movement(node):
            continue
        island = _grow(node)
        seen.update(island.nodes if island else [node])
        if island is not None:
            islands.append(island)
    return islands


def _grow(seed: Node) -> Island | None:
    """The island around ``seed``, or None if any of its edges is not a Q/DQ."""
    members: set[Node] = set()
    inputs: dict[Node, None] = {}
    outputs: dict[Node, None] = {}
    pending = [seed]
    ok = True
    while pending:
        node = pending.pop()
        if node in members:
            continue
        members.add(node)
        for source in _tensor_inputs(node):
            if _is_movement(source):
                pending.append(source)
            elif _is_dq(source):
                inputs[source] = None
            else:
                ok = False
        for user in node.users:
            if _is_movement(user):
                pending.append(user)
            elif _is_q(user):
                outputs[user] = None
            else:
                ok = False
    if not ok or not inputs or not outputs:
        return None
    order = {n: i for i, n in enumerate(seed.graph.nodes)}
    return Island(sorted(members, key=order.__getitem__), list(inputs), list(outputs))


def _domain(island: Island) -> QParams | None:
    """The island's integer domain: its outputs' quantization as int8; None when the
    outputs disagree (each would need its own copy of the island)."""
    found = {QParams.of(q).signed() for q in island.outputs}
    return found.pop() if len(found) == 1 else None


def _insert_pair(graph: Graph, source: Node, domain: QParams, served: Node, name: str) -> Node:
    """``source -> Q_domain -> DQ_domain``, after ``source``. The quantize becomes a
    boundary RESCALE (ExecuTorch's InsertRescalePass copies its meta onto it): it gets the
    source line of the op it serves and a tensor name saying which IO it is for."""
    quantize = torch.ops.quantized_decomposed.quantize_per_tensor.default
    dequantize = torch.ops.quantized_decomposed.dequantize_per_tensor.default
    with graph.inserting_after(source):
        q = graph.call_function(quantize, (source, *domain.args()))
    with graph.inserting_after(q):
        dq = graph.call_function(dequantize, (q, *domain.args()))
    val = source.meta["val"]
    for node, dtype in ((q, domain.dtype), (dq, val.dtype)):
        node.meta = {k: v for k, v in served.meta.items() if k in _KEPT_META}
        node.meta["val"] = val.to(dtype)
    _set_tensor_name(q, _unique_name(graph, name))
    return dq


#: what a new node takes from the node it serves: where it came from, not what it is
_KEPT_META = ("stack_trace", "nn_module_stack", "source_fn_stack", "from_node")


def _unique_name(graph: Graph, name: str) -> str:
    """``name``, or ``name_<k>``, unused by the graph's nodes and the names we gave."""
    taken = {n.name for n in graph.nodes} | {
        n.meta.get("custom", {}).get(TENSOR_NAME_KEY) for n in graph.nodes
    }
    candidate, k = name, 0
    while candidate in taken:
        k += 1
        candidate = f"{name}_{k}"
    return candidate


def _set_tensor_name(node: Node, name: str) -> None:
    node.meta["custom"] = {**node.meta.get("custom", {}), TENSOR_NAME_KEY: name}


def _io_name(dq: Node) -> str:
    """The graph input a dequantize reads (through its quantize), or the op it reads."""
    source = dq.args[0]
    if _is_q(source):
        source = source.args[0]
    return source.name


def _output_index(q: Node) -> int | None:
    """The graph output a quantize's value leaves by (through its dequantize), if any."""
    for user in (q, *q.users):
        for out in user.users:
            if out.op != "output":
                continue
            flat = out.args[0] if isinstance(out.args[0], (list, tuple)) else [out.args[0]]
            return next(i for i, value in enumerate(flat) if value is user)
    return None


def _rewrite(island: Island, domain: QParams) -> None:
    graph = island.nodes[0].graph
    members = set(island.nodes)
    served = {q: q.args[0] for q in island.outputs}
    for node in island.nodes:
        for source in _tensor_inputs(node):
            if source in members or QParams.of(source) == domain:
                continue  # an island edge (below), or already int8 in the island's domain
            dq = _insert_pair(graph, source, domain, node, f"{_io_name(source)}_signed")
            node.replace_input_with(source, dq)
    for node in island.nodes:
        # An int8 quantize already in the domain reads the op as it is.
        needs_pair = [u for u in node.users if u in members or QParams.of(u) != domain]
        if needs_pair:
            dq = _insert_pair(graph, node, domain, node, f"{node.name}_int8")
            for user in needs_pair:
                user.replace_input_with(node, dq)
        info_class = _annotation_info()
        custom = dict(node.meta.get("custom", {}))
        custom[info_class.CUSTOM_META_KEY] = dict(info_class(quantized=True))
        node.meta["custom"] = custom
    for q in island.outputs:
        index = _output_index(q)
        if index is not None and QParams.of(q).dtype == torch.uint8:
            # the quantizer's own node, made in its code: the source line is the op's
            q.meta.update({k: v for k, v in served[q].meta.items() if k in _KEPT_META})
            _set_tensor_name(q, f"output{index}_unsigned")


def requantize_uint8_io_islands(graph_module: GraphModule) -> list[Island]:
    """Rewrite every island that reads or writes uint8 into int8 data movement; returns
    the islands rewritten. Cond / while submodules are rewritten too."""
    from executorch.exir.graph_module import get_cond_while_submodules

    done = []
    for island in find_islands(graph_module.graph):
        domain = _domain(island)
        if domain is None or not island.touches_uint8():
            continue
        _rewrite(island, domain)
        done.append(island)
    for _, submodule, _ in get_cond_while_submodules(graph_module):
        done.extend(requantize_uint8_io_islands(submodule))
    if done:
        graph_module.graph.lint()
        graph_module.recompile()
    return done


def signed_region_quantization(graph_module: GraphModule) -> list[Node]:
    """Every uint8 quantize/dequantize inside a cond branch or while body/condition, as
    the int8 one with the same values (zero point - 128, range -128..127); returns them.

    The quantizer's submodule driver applies the uint8 IO config to each region's own
    inputs and outputs, but a region's arguments are not graph IO: the boundary is the
    outer graph. ``round(x / s) + zp`` clamped to 0..255, less 128, is ``round(x / s) +
    (zp - 128)`` clamped to -128..127, so the pair dequantizes to the very same reals.
    ExecuTorch 1.5.1 fails on the uint8 ones instead ("tosa::rescale currently only
    supports int32, int16 and int8", "carried_inputs and body_output ... differ in dtype").
    """
    from executorch.exir.graph_module import get_cond_while_submodules

    changed = _sign_control_flow_results(graph_module)
    for _, submodule, _ in get_cond_while_submodules(graph_module):
        for node in submodule.graph.nodes:
            if not (_is_q(node) or _is_dq(node)) or node.args[5] != torch.uint8:
                continue
            node.args = (node.args[0], *QParams.of(node).signed().args(), *node.args[6:])
            val = node.meta.get("val")
            if isinstance(val, torch.Tensor) and val.dtype == torch.uint8:
                node.meta["val"] = val.to(torch.int8)
            changed.append(node)
        changed.extend(signed_region_quantization(submodule))
        submodule.recompile()
    return changed


def _sign_control_flow_results(graph_module: GraphModule) -> list[Node]:
    """A uint8 quantize reading a cond/while result directly gets an int8 pair in front
    (the output's scale, zero point - 128): the region's result is int8, and the uint8
    conversion a unit boundary RESCALE. (The quantizer does so for a cond, not for a
    while_loop, whose result ExecuTorch then makes uint8 inside the body.)"""
    control_flow = (torch.ops.higher_order.cond, torch.ops.higher_order.while_loop)
    added = []
    for q in list(graph_module.graph.nodes):
        if not _is_q(q) or q.args[5] != torch.uint8:
            continue
        source = q.args[0]
        if not (source.target is operator.getitem and source.args[0].target in control_flow):
            continue
        dq = _insert_pair(
            graph_module.graph, source, QParams.of(q).signed(), source, f"{source.name}_int8"
        )
        q.replace_input_with(source, dq)
        added.append(dq)
    if added:
        graph_module.recompile()
    return added


class UnsafeUint8IOError(ValueError):
    """uint8 model IO that ExecuTorch 1.5.1 would lower silently wrong."""


def uint8_io_nodes(graph: Graph) -> list[Node]:
    """The uint8 quantize nodes that read a graph input and the uint8 dequantize nodes
    whose value the graph returns: the model's uint8 IO."""
    found = []
    for node in graph.nodes:
        if (_is_q(node) and node.args[0].op == "placeholder" and node.args[5] == torch.uint8) or (
            _is_dq(node)
            and node.args[5] == torch.uint8
            and any(u.op == "output" for u in node.users)
        ):
            found.append(node)
    return found


def check_float_boundary(graph: Graph, tosa_spec, preserve_io_quantization: bool) -> None:
    """Refuse uint8 IO on a spec whose delegate IO would be float (INT+FP without
    ``preserve_io_quantization``).

    There the boundary quantize/dequantize sit inside the delegate and ExecuTorch lowers
    them on the FP path: ``tosa.cast`` f32 -> int8 saturates 128..255 to 127, and the
    ``output_unsigned`` result is read back through a sign-extending cast. Measured on a
    conv + ReLU, 1x3x8x8: 143 LSB off at worst, 42.6% of the outputs off by more than one
    LSB, and no warning. With ``preserve_io_quantization`` the Q/DQ stay outside the
    delegate, whose IO is then uint8 as on an INT-only spec: exact.
    """
    if not (tosa_spec.support_integer() and tosa_spec.support_float()) or preserve_io_quantization:
        return
    io = uint8_io_nodes(graph)
    if not io:
        return
    names = ", ".join(
        f"input '{n.args[0].name}'" if _is_q(n) else f"output #{_output_index(n)}" for n in io
    )
    raise UnsafeUint8IOError(
        f"uint8 model IO ({names}) on {tosa_spec} without preserve_io_quantization: the "
        "delegate's IO would be float with the uint8 quantize/dequantize inside it, which "
        "ExecuTorch 1.5.1 lowers wrong (its FP-path cast to int8 saturates 128..255). Keep the "
        "IO quantization outside the delegate: compile_spec._set_preserve_io_quantization(True) "
        "on the TosaCompileSpec / EthosUCompileSpec / VgfCompileSpec (bridge.lower: "
        "preserve_io_quantization=True; "
        "tosa-ir compile: --preserve-io-quantization), or use an INT-only spec"
    )


class Uint8IOPartitioning:
    """Mixin for a TOSA partitioner: uint8-IO islands become int8 data movement before
    ExecuTorch's partitioning sees them, so they are delegated with the rest; uint8 IO
    that ExecuTorch would lower wrong is refused (``check_float_boundary``), and the
    uint8 quantization the quantizer puts inside control-flow regions becomes the int8
    one it equals (``signed_region_quantization``).

    ``transform_for_pre_decomposition`` is the partitioner's one hook that may change the
    graph (``partition`` may only tag it; ExecuTorch checks); it sees the ATen program,
    the quantizer's Q/DQ nodes in place."""

    def transform_for_pre_decomposition(self, exported_program):  # ExecuTorch's Partitioner API
        graph_module = exported_program.graph_module
        check_float_boundary(
            graph_module.graph, self.tosa_spec, self._preserve_io_quantization_enabled()
        )
        signed_region_quantization(graph_module)
        exported_program = super().transform_for_pre_decomposition(exported_program)
        requantize_uint8_io_islands(exported_program.graph_module)
        return exported_program


__all__ = [
    "MOVEMENT_OPS",
    "Island",
    "QParams",
    "Uint8IOPartitioning",
    "UnsafeUint8IOError",
    "check_float_boundary",
    "find_islands",
    "requantize_uint8_io_islands",
    "signed_region_quantization",
    "uint8_io_nodes",
]
