"""Find the op that loses accuracy: each TOSA op's output against the torch models.

``compare(model, example_inputs, ...)`` quantizes and lowers ``model`` as ``bridge.lower``
does, runs each delegated partition's TOSA graph on the TOSA reference model with every
intermediate tensor made a graph output (the ``expose-intermediates`` pass), runs the
quantized (Q/DQ) torch model and the float model on the same inputs with every node's
value recorded, and pairs them up op by op through provenance:

    TOSA op location  ->  TOSA-level FX node  ->  its ``from_node`` history  ->  the node of
    the quantized program (the history's entry whose ``graph_id`` is that program's graph)

An int8/int16 TOSA tensor is compared at the quantize node that quantizes that aten node's
output (the node itself when it is one; else the first quantize reached through
single-user nodes, so a ReLU fused into a conv's RESCALE is compared after the ReLU), in
integers: one unit is one LSB of that tensor's scale. A float tensor is compared at the
aten node's value. Layout follows the data: a graph input is in torch's layout, a
``tosa.transpose`` permutes it, every other op keeps the layout of its first operand of
equal rank, anything else is compared by reshaping when the element counts agree.

Some TOSA tensors stand for no torch value: the i32/i48 accumulators of convolutions and
matmuls, the i32 operands an ADD works on, TABLE's 16-bit intermediate. Their rows carry
the numbers of the nearest op downstream that has a counterpart, say so (``proxy_of``),
and never count as ``first``: a corrupt weight shows in the RESCALE after its conv, the
first op whose output carries it. Where several TOSA tensors in a row stand for one torch
value (a RESCALE then a CLAMP for ``relu6``), the last one is compared and the earlier
ones are its proxies. Data-movement ops (``transpose``, ``reshape``) carry the value of
their input and are compared at it, in their own layout, so a wrong permutation shows
on the transpose itself.

Each compared row also holds the quantized torch model's own error against the float
model at the same point (``float_max_lsb``/``float_mean_lsb``): the quantization error,
told apart from the lowering error (``max_lsb``, TOSA vs the quantized torch model).

Importing this module imports torch and ExecuTorch.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

import ir
from bridge.capture import (
    quantize_and_export,
    quiet,
)  # also registers the quantized_decomposed ops used below
from bridge.fx_import import fx_to_ir
from bridge.partitioner import partition_name, tosa_level_partitions
from ir.defaults import DEFAULT_PIPELINE, DEFAULT_SPEC
from ir.lowering.pipeline import run_pipeline
from ir.verify.target import Target, as_target

#: one row of the table per TOSA op; these never get one (their values are in the text)
_CONSTANT_OPS = ("tosa.const", "tosa.const_shape")
#: ops whose output is their input's value, moved: compared at the input's torch value
_DATA_MOVEMENT = ("tosa.transpose", "tosa.reshape")
#: how far (in single-user nodes) a quantize node is looked for after an aten node
_QUANTIZE_SEARCH_DEPTH = 4

_Q_TARGETS = (
    torch.ops.quantized_decomposed.quantize_per_tensor.default,
    torch.ops.quantized_decomposed.quantize_per_tensor.tensor,
)
_DQ_TARGETS = (
    torch.ops.quantized_decomposed.dequantize_per_tensor.default,
    torch.ops.quantized_decomposed.dequantize_per_tensor.tensor,
    torch.ops.quantized_decomposed.dequantize_per_channel.default,
)


# --------------------------------------------------------------------------- threshold


@dataclass(frozen=True)
class Threshold:
    """When a row counts as wrong.

    Integer tensors: more than ``fraction`` of the elements off by more than ``lsb``
    LSB (the issue's default: > 1 LSB on > 1%). Float tensors: the max absolute error
    above ``relative`` times the reference's largest magnitude. 1e-3 is far above what
    float32 reordering gives (about 1e-6 on the zoo: a conv's sum in another order, erf
    by another polynomial) and far below what any wrong constant does.
    """

    lsb: float = 1.0
    fraction: float = 0.01
    relative: float = 1e-3


DEFAULT_THRESHOLD = Threshold()


# --------------------------------------------------------------------------- the report


@dataclass
class Row:
    """One TOSA op's output against the torch models; see the module docstring.

    Integer rows fill ``max_lsb``/``mean_lsb``/``within_1lsb`` (TOSA vs the quantized
    torch model) and ``float_max_lsb``/``float_mean_lsb`` (the quantized torch model vs
    the float model, in the same LSB). Float rows fill ``max_abs``, ``rel_err`` (max
    absolute error over the reference's max magnitude) and ``snr_db``. A row with
    ``proxy_of`` repeats the numbers of that row (its index in ``Report.rows``).
    """

    index: int
    partition: int
    op: str
    tensor_name: str
    fx_node: str | None
    location: str | None
    compared_with: str
    note: str = ""
    proxy_of: int | None = None
    elements: int = 0
    max_lsb: float | None = None
    mean_lsb: float | None = None
    within_1lsb: float | None = None
    float_max_lsb: float | None = None
    float_mean_lsb: float | None = None
    max_abs: float | None = None
    rel_err: float | None = None
    snr_db: float | None = None
    #: an element is wrong above this many LSB: the threshold's, plus what a RESCALE's
    #: gain makes of its input's error (see ``_inherited_lsb``)
    allowed_lsb: float | None = None
    over: bool = False

    @property
    def compared(self) -> bool:
        return self.max_lsb is not None or self.max_abs is not None

    def error_text(self) -> str:
        """``err max 3 LSB, 97.2% <= 1 LSB`` (the review dump's comment), or the float
        figures, or why there are none."""
        if self.max_lsb is not None:
            text = f"err max {self.max_lsb:g} LSB, {self.within_1lsb:.1%} <= 1 LSB"
        elif self.max_abs is not None:
            text = (
                f"err max {self.max_abs:.3g} abs, rel {self.rel_err:.2g}, SNR {self.snr_db:.1f} dB"
            )
        else:
            return f"not compared: {self.note}" if self.note else "not compared"
        if self.proxy_of is not None:
            text += f" (at row {self.proxy_of})"
        return text


@dataclass
class Report:
    rows: list[Row]
    first: Row | None
    notes: list[str]
    spec: Target
    quantization: str
    uint8_io: bool
    threshold: Threshold
    #: per partition: the module that ran (not exposed) and its name
    modules: list = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def format(self) -> str:
        """The table, then the verdict and the notes."""
        return format_report(self)

    def annotations(self, partition: int = 0) -> dict[str, str]:
        """``{tensor name: 'err max 3 LSB, 97.2% <= 1 LSB'}`` for the review dump."""
        return {
            r.tensor_name: r.error_text()
            for r in self.rows
            if r.partition == partition and r.tensor_name
        }


# --------------------------------------------------------------------------- capture


@dataclass
class Capture:
    """What ``compare`` takes from the expensive part (quantize, export, partition,
    import, stages), kept so that many modules can be compared against one capture:
    the fault-injection tests pass corrupted modules to ``evaluate`` one after another.
    """

    model: torch.nn.Module
    example_inputs: tuple
    spec: Target
    uint8_io: bool
    quantization: str
    quantized_graph_id: int
    quantized_module: torch.fx.GraphModule
    float_module: torch.fx.GraphModule
    partitions: list  # bridge.capture.TosaLevelPartition
    modules: list  # final-stage module per partition
    names: list[str]


def capture(
    model: torch.nn.Module,
    example_inputs: tuple,
    *,
    spec: str | Target = DEFAULT_SPEC,
    uint8_io: bool = False,
    quantization: str = "8a8w",
    pipeline: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Capture:
    """Quantize, export, partition and lower ``model`` as ``bridge.lower`` does, plus
    the float program and the quantized one (taken before partitioning rewrites it)."""
    spec = as_target(spec)
    step = on_step or (lambda label: None)
    example_inputs = tuple(example_inputs)
    step("quantize and export")
    with quiet():
        exported = quantize_and_export(
            model, example_inputs, spec, uint8_io, quantization=quantization
        )
        graph_id = id(exported.graph_module.graph)
        quantized_module = copy.deepcopy(exported.module())
        float_module = torch.export.export(model.eval(), example_inputs).module()
        step("partition (ExecuTorch's Arm passes)")
        partitions = tosa_level_partitions(
            exported, None, spec, uint8_io, quantization=quantization
        )
    step("import and stages")
    modules = []
    for p in partitions:
        module = fx_to_ir(p.graph_module, p.exported_program, spec=spec)
        run_pipeline(module, pipeline or DEFAULT_PIPELINE, spec=spec)
        modules.append(module)
    names = [partition_name(p, i) for i, p in enumerate(partitions)]
    return Capture(
        model,
        example_inputs,
        spec,
        uint8_io,
        quantization,
        graph_id,
        quantized_module,
        float_module,
        partitions,
        modules,
        names,
    )


def compare(
    model: torch.nn.Module,
    example_inputs: tuple,
    *,
    spec: str | Target = DEFAULT_SPEC,
    uint8_io: bool = False,
    quantization: str = "8a8w",
    module=None,
    inputs: tuple | None = None,
    threshold: Threshold | None = None,
) -> Report:
    """Per-op comparison of ``model``'s TOSA graph with its quantized and float torch
    models; see the module docstring. ``module`` replaces the first partition's
    final-stage module (any stage of the same partition, e.g. a dump parsed back);
    ``inputs`` (one tuple like ``example_inputs``) replaces the seeded random inputs."""
    captured = capture(
        model, example_inputs, spec=spec, uint8_io=uint8_io, quantization=quantization
    )
    return evaluate(captured, module=module, inputs=inputs, threshold=threshold)


# --------------------------------------------------------------------------- evaluation


def seeded_inputs(example_inputs: tuple, seed: int = 1) -> tuple:
    """New inputs in the calibrated range: the examples plus seeded noise (as
    ``tosa-ir compile`` checks them)."""
    from drivers.common import _perturbed

    return _perturbed(tuple(example_inputs), seed, torch)


def evaluate(
    captured: Capture,
    *,
    module=None,
    inputs: tuple | None = None,
    threshold: Threshold | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Report:
    """Run and compare a capture (``module`` in place of partition 0's final stage)."""
    step = on_step or (lambda label: None)
    threshold = threshold or DEFAULT_THRESHOLD
    inputs = tuple(inputs) if inputs is not None else seeded_inputs(captured.example_inputs)
    step("torch models (every node recorded)")
    quantized_values = _record(captured.quantized_module, inputs)
    float_values = _record(captured.float_module, inputs)
    torch_side = _TorchSide(captured, quantized_values, float_values)

    notes: list[str] = []
    modules = list(captured.modules)
    if module is not None:
        modules[0] = module
    if len(modules) > 1:
        notes.append(
            f"{len(modules)} partitions: each is run on the reference model with its inputs "
            "taken from the quantized torch model; ops left on the CPU are not compared"
        )
    rows: list[Row] = []
    for index, (partition, mod) in enumerate(zip(captured.partitions, modules)):
        step(f"{captured.names[index]}: reference model")
        rows.extend(_partition_rows(index, partition, mod, torch_side, threshold, len(rows), notes))
    first = next((r for r in rows if r.over and r.proxy_of is None), None)
    return Report(
        rows,
        first,
        notes,
        captured.spec,
        captured.quantization,
        captured.uint8_io,
        threshold,
        modules,
        list(captured.names),
    )


class _Recorder(torch.fx.Interpreter):
    """Every node's value, by node name."""

    def __init__(self, module: torch.fx.GraphModule) -> None:
        super().__init__(module)
        self.values: dict[str, object] = {}

    def run_node(self, node):
        value = super().run_node(node)
        if isinstance(value, torch.Tensor):
            self.values[node.name] = value.detach()
        return value


def _record(module: torch.fx.GraphModule, inputs: tuple) -> dict[str, torch.Tensor]:
    recorder = _Recorder(module)
    with torch.no_grad(), quiet():
        recorder.run(*inputs)
    return recorder.values


@dataclass(frozen=True)
class _Point:
    """A torch value a TOSA tensor is compared with: a node of the quantized program."""

    node: torch.fx.Node
    description: str


class _TorchSide:
    """The two torch models' values and the quantized program's nodes by name."""

    def __init__(self, captured: Capture, quantized: dict, float_values: dict) -> None:
        self.graph_id = captured.quantized_graph_id
        self.quantized = quantized
        self.float_values = float_values
        self.nodes = {n.name: n for n in captured.quantized_module.graph.nodes}
        self.float_nodes = {n.name: n for n in captured.float_module.graph.nodes}
        self.inputs = [n for n in captured.quantized_module.graph.nodes if n.op == "placeholder"]

    def node_of(self, fx_node) -> torch.fx.Node | None:
        """The quantized program's node an FX node of the TOSA-level graph came from:
        the first entry of its ``from_node`` history (newest first, breadth first) that
        belongs to the quantized program's graph."""
        pending = list(reversed(fx_node.meta.get("from_node") or ()))
        while pending:
            source = pending.pop(0)
            if getattr(source, "graph_id", None) == self.graph_id and source.name in self.nodes:
                return self.nodes[source.name]
            pending.extend(reversed(getattr(source, "from_node", None) or ()))
        return None

    def integer_point(self, node: torch.fx.Node) -> _Point | None:
        """The quantize node that quantizes ``node``'s output (``node`` itself if it is
        one), through at most a few single-user nodes."""
        if node.target in _Q_TARGETS:
            return _Point(node, node.name)
        path = []
        current = node
        for _ in range(_QUANTIZE_SEARCH_DEPTH):
            quantizes = [u for u in current.users if u.target in _Q_TARGETS]
            if quantizes:
                via = f" (after {', '.join(path)})" if path else ""
                return _Point(quantizes[0], f"{quantizes[0].name}{via}")
            if len(current.users) != 1:
                return None
            current = next(iter(current.users))
            if current.op != "call_function" or current.target in _DQ_TARGETS:
                return None
            path.append(current.name)
        return None

    def float_point(self, node: torch.fx.Node) -> _Point | None:
        if node.target in _Q_TARGETS or node.target in _DQ_TARGETS:
            node = node.args[0] if isinstance(node.args[0], torch.fx.Node) else node
        return _Point(node, node.name) if node.name in self.quantized else None

    def float_reference(self, point: _Point) -> torch.Tensor | None:
        """The float model's value where ``point``'s quantize node reads: the node of
        the float program with the same name and shape (export names an aten node
        after its op in both programs)."""
        source = point.node.args[0] if point.node.target in _Q_TARGETS else point.node
        if not isinstance(source, torch.fx.Node):
            return None
        if source.op == "placeholder":
            index = self.inputs.index(source) if source in self.inputs else -1
            floats = [
                n
                for n in self.float_nodes.values()
                if n.op == "placeholder" and n.name in self.float_values
            ]
            if 0 <= index < len(floats):
                return self.float_values[floats[index].name]
            return None
        value = self.float_values.get(source.name)
        mine = self.quantized.get(source.name)
        if value is None or mine is None or tuple(value.shape) != tuple(mine.shape):
            return None
        return value


# --------------------------------------------------------------------------- one partition


def _partition_rows(
    index: int,
    partition,
    module,
    torch_side: _TorchSide,
    threshold: Threshold,
    start: int,
    notes: list[str],
) -> list[Row]:
    from ir.lowering.expose import ExposeIntermediates, exposable_values, main_func
    from ir.tensor_names import function_tensor_names
    from runtime import graph_io, run_reference
    from tosa_flatbuffer import to_checked_flatbuffer

    exposed = module.clone()
    func = main_func(exposed)
    if func is None:
        raise ValueError("the module has no main function")
    returned = list(func.body.block.last_op.operands)
    extra = exposable_values(func)
    ExposeIntermediates().apply(ir.make_context(), exposed)
    flatbuffer = to_checked_flatbuffer(exposed)  # checked once: graph_io and the run reuse it
    io = graph_io(flatbuffer)

    fx_nodes = _fx_nodes(partition.graph_module)
    arg_names, _ = function_tensor_names(func)
    points: dict = {}  # SSA value -> (_Point, layout)
    feed = []
    for arg, name, tensor in zip(func.body.block.args, arg_names, io.inputs):
        point = _input_point(arg, name, fx_nodes, torch_side, len(feed))
        if point is None:
            raise ValueError(f"graph input {len(feed)} {name!r}: no torch value feeds it")
        value = torch_side.quantized[point.node.name]
        feed.append(value.numpy().astype(tensor.dtype).reshape(tensor.shape))
        points[arg] = (point, tuple(range(len(tensor.shape))))
    outputs = run_reference(flatbuffer, feed)
    arrays = dict(zip([*returned, *extra], outputs))

    ops = [
        op
        for op in func.body.block.ops
        if op.name not in _CONSTANT_OPS and op is not func.body.block.last_op
    ]
    layouts = {arg: tuple(range(len(arg.type.get_shape()))) for arg in func.body.block.args}
    rows: list[Row] = []
    row_of_value: dict = {}
    for op in ops:
        _propagate_layout(op, layouts)
        result = op.results[0] if op.results else None
        row = _describe(op, index, start + len(rows))
        rows.append(row)
        if result is None:
            row.note = "no result"
            continue
        row_of_value[result] = row
        found = _point_of(op, result, fx_nodes, torch_side, points)
        if found is not None:
            points[result] = (found, layouts.get(result))
    _owners(ops, points, row_of_value)
    for op in ops:
        result = op.results[0] if op.results else None
        row = row_of_value.get(result)
        if row is None or result not in points:
            continue
        point, layout = points[result]
        row.compared_with = point.description
        if result not in arrays:
            row.note = "value not carried by the reference model's binding"
            continue
        _fill(
            row,
            arrays[result],
            point,
            layout,
            torch_side,
            threshold,
            _inherited_lsb(op, row_of_value),
        )
    _proxies(ops, rows, row_of_value, points)
    if any(op.regions for op in ops):
        notes.append(
            "ops inside cond_if/while_loop regions are not compared (only the control-flow op's "
            "results)"
        )
    return rows


def _fx_nodes(graph_module) -> dict:
    """Every node of the TOSA-level graph and its cond/while branches, by name."""
    found = {}
    for gm in [
        graph_module,
        *(m for m in graph_module.modules() if isinstance(m, torch.fx.GraphModule)),
    ]:
        for node in gm.graph.nodes:
            found.setdefault(node.name, node)
    return found


def _describe(op, partition: int, index: int) -> Row:
    from ir.diagnostics import format_place, fx_node_of, source_of
    from ir.tensor_names import tensor_names

    source = source_of(op.location)
    names = tensor_names(op) if op.results else []
    return Row(
        index=index,
        partition=partition,
        op=op.name,
        tensor_name=names[0] if names else "",
        fx_node=fx_node_of(op.location),
        location=format_place(source) if source else None,
        compared_with="",
    )


def _input_point(
    arg, name: str, fx_nodes: dict, torch_side: _TorchSide, position: int
) -> _Point | None:
    """The torch value a graph input stands for: its placeholder's provenance, or the
    model's input at the same position (quantized when the program quantizes it)."""
    node = fx_nodes.get(name)
    source = torch_side.node_of(node) if node is not None else None
    if source is None and position < len(torch_side.inputs):
        source = torch_side.inputs[position]
    if source is None:
        return None
    if _is_integer(arg.type) and source.target not in _Q_TARGETS:
        return torch_side.integer_point(source)
    return _Point(source, source.name)


def _is_integer(type_) -> bool:
    from xdsl.dialects.builtin import IntegerType

    return isinstance(getattr(type_, "element_type", None), IntegerType)


def _width(type_) -> int | None:
    from xdsl.dialects.builtin import IntegerType

    element = getattr(type_, "element_type", None)
    return element.width.data if isinstance(element, IntegerType) else None


def _propagate_layout(op, layouts: dict) -> None:
    """``layouts[v]``: the permutation ``p`` with ``tosa value == torch value.permute(p)``.

    A transpose composes its perms with its input's; any other op keeps the layout of
    its first operand of the same rank (a conv's NHWC input gives an NHWC output); a
    result of another rank (a reshape) is taken as torch's own layout.
    """
    from ir.dialects.tosa_ext import TransposeOp

    for result in op.results:
        shape = getattr(result.type, "get_shape", lambda: None)()
        if shape is None:
            continue
        rank = len(shape)
        if isinstance(op, TransposeOp) and op.operands[0] in layouts:
            inner = layouts[op.operands[0]]
            perms = [int(p) for p in op.perms.get_values()]
            layouts[result] = tuple(inner[p] for p in perms)
            continue
        same_rank = [layouts[v] for v in op.operands if v in layouts and len(layouts[v]) == rank]
        layouts[result] = same_rank[0] if same_rank else tuple(range(rank))


def _point_of(op, result, fx_nodes: dict, torch_side: _TorchSide, points: dict) -> _Point | None:
    """The torch value ``result`` stands for, or None (no counterpart: a proxy row)."""
    if op.name in _DATA_MOVEMENT and op.operands and op.operands[0] in points:
        return points[op.operands[0]][0]
    width = _width(result.type)
    if width is not None and width not in (8, 16):
        return None  # accumulators, an ADD's i32 operands, booleans
    if op.regions:
        return None
    node = fx_nodes.get(_row_fx_name(op))
    source = torch_side.node_of(node) if node is not None else None
    if source is None:
        return None
    return torch_side.integer_point(source) if width is not None else torch_side.float_point(source)


def _row_fx_name(op) -> str | None:
    from ir.diagnostics import fx_node_of

    return fx_node_of(op.location)


def _owners(ops, points: dict, row_of_value: dict) -> None:
    """Of the TOSA values that stand for one torch value, only the last in graph order is
    compared; the others (a RESCALE before the CLAMP of the same relu6, the SUB/EXP of a
    decomposed softmax) hand their point on and become its proxies. Data-movement ops
    are exempt: they carry a value already compared, in a layout of their own."""
    last: dict = {}
    for op in ops:
        if not op.results or op.name in _DATA_MOVEMENT or op.results[0] not in points:
            continue
        last[points[op.results[0]][0].node] = op.results[0]
    for op in ops:
        if not op.results or op.name in _DATA_MOVEMENT or op.results[0] not in points:
            continue
        result = op.results[0]
        if last[points[result][0].node] is not result:
            del points[result]


def _proxies(ops, rows: list[Row], row_of_value: dict, points: dict) -> None:
    """A row without a comparison of its own repeats the nearest compared row
    downstream (its first user, then that one's, ...) and says so."""
    for op in ops:
        result = op.results[0] if op.results else None
        row = row_of_value.get(result)
        if row is None or row.compared:
            continue
        target = _downstream_compared(result, row_of_value)
        if target is None:
            row.note = row.note or "no torch counterpart and no compared op after it"
            continue
        width = _width(result.type)
        what = f"i{width} value" if width not in (None, 8, 16) else "value"
        row.note = (
            row.note
            or f"{what} has no torch counterpart: the numbers are row {target.index}'s "
            f"({target.op})"
        )
        row.proxy_of = target.index
        row.compared_with = target.compared_with
        for name in (
            "elements",
            "allowed_lsb",
            "max_lsb",
            "mean_lsb",
            "within_1lsb",
            "float_max_lsb",
            "float_mean_lsb",
            "max_abs",
            "rel_err",
            "snr_db",
            "over",
        ):
            setattr(row, name, getattr(target, name))


def _downstream_compared(value, row_of_value: dict, depth: int = 8) -> Row | None:
    for _ in range(depth):
        users = sorted((u.operation for u in value.uses), key=lambda o: id(o))
        users = [u for u in users if u.results]
        if not users:
            return None
        value = users[0].results[0]
        row = row_of_value.get(value)
        if row is not None and row.compared and row.proxy_of is None:
            return row
    return None


def _inherited_lsb(op, row_of_value: dict) -> float:
    """The error a RESCALE is allowed to pass on, in its output's LSB: its input's max
    error (when that row is within the threshold) times its gain (multiplier * 2^-shift,
    the largest channel's). A 1-LSB rounding difference upstream becomes 2 LSB after a
    rescale by 2 (an int8 -> uint8 output with half the scale) without this op being
    wrong; a wrong multiplier or shift still stands out by far more."""
    from ir.dialects.tosa_ext import RescaleOp
    from ir.verify.core import constant_ints

    if not isinstance(op, RescaleOp):
        return 0.0
    upstream = row_of_value.get(op.operands[0])
    if upstream is None or upstream.max_lsb is None or upstream.over:
        return 0.0
    multipliers, shifts = constant_ints(op.operands[1]), constant_ints(op.operands[2])
    if multipliers is None or shifts is None or not multipliers.size:
        return 0.0
    gain = float(np.max(multipliers.astype(np.float64) * np.power(2.0, -shifts.astype(np.float64))))
    return upstream.max_lsb * gain if gain > 1 else 0.0


def _aligned(
    reference: np.ndarray, shape: tuple[int, ...], layout
) -> tuple[np.ndarray | None, str]:
    """``reference`` (torch layout) in the TOSA tensor's layout, and how it got there."""
    if (
        layout is not None
        and len(layout) == reference.ndim
        and tuple(layout) != tuple(range(reference.ndim))
    ):
        permuted = np.transpose(reference, layout)
        if permuted.shape == tuple(shape):
            return permuted, ""
    if reference.shape == tuple(shape):
        return reference, ""
    if reference.size == int(np.prod(shape)):
        return reference.reshape(shape), f"reshaped {tuple(reference.shape)} -> {tuple(shape)}"
    return None, f"shapes differ: torch {tuple(reference.shape)}, TOSA {tuple(shape)}"


def _fill(
    row: Row,
    got: np.ndarray,
    point: _Point,
    layout,
    torch_side: _TorchSide,
    threshold: Threshold,
    inherited: float = 0.0,
) -> None:
    want_t = torch_side.quantized.get(point.node.name)
    if want_t is None:
        row.note = f"{point.node.name}: no value recorded"
        return
    want, how = _aligned(want_t.numpy(), got.shape, layout)
    if want is None:
        row.note = how
        return
    if how:
        row.note = how
    row.elements = int(got.size)
    if np.issubdtype(got.dtype, np.integer):
        _fill_integer(row, got, want, point, layout, torch_side, threshold, inherited)
    else:
        _fill_float(row, got, want, threshold)


def _fill_integer(
    row: Row,
    got,
    want,
    point: _Point,
    layout,
    torch_side: _TorchSide,
    threshold: Threshold,
    inherited: float,
) -> None:
    diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
    row.max_lsb = float(diff.max()) if diff.size else 0.0
    row.mean_lsb = float(diff.mean()) if diff.size else 0.0
    row.within_1lsb = float((diff <= 1).mean()) if diff.size else 1.0
    allowed = threshold.lsb + inherited
    row.allowed_lsb = allowed
    row.over = bool(((diff > allowed).mean() if diff.size else 0.0) > threshold.fraction)
    if point.node.target not in _Q_TARGETS:
        return
    reference = torch_side.float_reference(point)
    if reference is None:
        return
    scale, zero_point = float(point.node.args[1]), float(point.node.args[2])
    ideal, _ = _aligned(
        reference.numpy().astype(np.float64) / scale + zero_point, got.shape, layout
    )
    if ideal is None:
        return
    quant = np.abs(want.astype(np.float64) - ideal)
    row.float_max_lsb = float(quant.max()) if quant.size else 0.0
    row.float_mean_lsb = float(quant.mean()) if quant.size else 0.0


def _fill_float(row: Row, got, want, threshold: Threshold) -> None:
    got64, want64 = got.astype(np.float64), want.astype(np.float64)
    err = np.abs(got64 - want64)
    scale = float(np.abs(want64).max()) if want64.size else 0.0
    row.max_abs = float(err.max()) if err.size else 0.0
    row.rel_err = row.max_abs / scale if scale > 0 else (0.0 if row.max_abs == 0 else float("inf"))
    signal, noise = float((want64**2).sum()), float((err**2).sum())
    row.snr_db = (
        float("inf")
        if noise == 0
        else (10 * np.log10(signal / noise) if signal > 0 else float("-inf"))
    )
    row.within_1lsb = None
    row.over = bool(row.rel_err > threshold.relative)


# --------------------------------------------------------------------------- text


def format_report(report: Report) -> str:
    header = (
        f"{'#':>3} {'op':<22} {'tensor':<30} {'error (TOSA vs quantized torch)':<46} "
        f"{'quant. error (max/mean)':<24} source"
    )
    lines = [header]
    for row in report.rows:
        quant = ""
        if row.float_max_lsb is not None:
            quant = f"{row.float_max_lsb:.2f} / {row.float_mean_lsb:.2f} LSB"
        mark = "!" if row.over and row.proxy_of is None else " "
        error = row.error_text()
        lines.append(
            f"{row.index:>3}{mark}{row.op.removeprefix('tosa.'):<22} {row.tensor_name[:30]:<30} "
            f"{error[:46]:<46} {quant:<24} {row.location or '-'}"
        )
    lines.append("")
    if report.first is None:
        lines.append(f"first: none (no op over the threshold: {_threshold_text(report.threshold)})")
    else:
        r = report.first
        lines.append(
            f"first: row {r.index} {r.op} {r.tensor_name!r} (FX node {r.fx_node!r}, "
            f"{r.location or 'no source'}): "
            f"{r.error_text()}, compared with {r.compared_with}{'; ' + r.note if r.note else ''}"
        )
    lines.extend(f"note: {n}" for n in report.notes)
    return "\n".join(lines) + "\n"


def _threshold_text(threshold: Threshold) -> str:
    return (
        f"> {threshold.lsb:g} LSB on > {threshold.fraction:.0%} of the elements; "
        f"float: relative error > {threshold.relative:g}"
    )


__all__ = [
    "Capture",
    "Report",
    "Row",
    "Threshold",
    "capture",
    "compare",
    "evaluate",
    "seeded_inputs",
]
