"""IR to TOSA flatbuffer: plan the module as records, then emit them.

Planning (``plan``) names every tensor (the IR's ``tosa.tensor_name`` where it has one, a
derived name otherwise), turns properties into schema values and regions into named
TOSA regions; emitting (``emit``) is a plain walk over the records, writing each table
and vector with ``tosa_flatbuffer.emitter.Emitter``, which lays them out as the
``flatbuffers`` Builder does (ExecuTorch's serializer) without its per-byte Python calls;
with ``TOSA_IR_NO_SPEEDUPS=1`` the same walk drives the Builder itself
(``BuilderEmitter``). The same module gives the same bytes: nothing depends on dict order
of anything but the module itself, and constant data is copied once, straight from the
IR's buffers into the file.
"""

from __future__ import annotations

import importlib.metadata
import io
import math
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple, cast

import numpy as np
from tosa import (
    OpLocation,
    SoftwareVersion,
    TosaBasicBlock,
    TosaGraph,
    TosaOperator,
    TosaRegion,
    TosaShape,
    TosaTensor,
    Version,
)
from tosa.DType import DType
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    ModuleOp,
    ShapedType,
    StringAttr,
    TensorType,
    UnknownLoc,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Attribute, Block, Operation, OpResult, SSAValue
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from ir.builders import flat_storage
from ir.dialects.tosa_ext import (
    TOSA_1_1_OPS,
    ConstOp,
    ConstShapeOp,
    ShapeType,
    VariableOp,
    VariableReadOp,
    VariableWriteOp,
    YieldOp,
)
from ir.speedups import ENABLED as SPEEDUPS
from ir.speedups.locations import plain_location_text
from ir.tensor_names import function_tensor_names, region_names, tensor_names
from tosa_flatbuffer.decode import (
    CheckedFlatbuffer,
    FbBlock,
    FbGraph,
    FbOperator,
    FbTensor,
    FlatbufferError,
)
from tosa_flatbuffer.emitter import BuilderEmitter, Emitter, Slot, TableLayout, layout_of
from tosa_flatbuffer.fields import TO_FILE, FieldContext, FieldError
from tosa_flatbuffer.schema import (
    FIELD_KINDS,
    FILE_IDENTIFIER,
    REGION_FIELDS,
    WRITE_VERSIONS,
    ElementCodec,
    Kind,
    attribute_table,
    camel,
    codec_of,
    file_bytes,
    file_op_code,
    spec_name_of,
)

MAIN = "main"
#: tensor data starts 8-aligned, for readers that map it in place
_DATA_ALIGNMENT = 8

# ============================================================================= plan


def main_function(module: ModuleOp) -> FuncOp:
    """The graph's function: the only ``func.func``, or the one named ``main``."""
    funcs = [op for op in module.ops if isinstance(op, FuncOp)]
    if len(funcs) == 1:
        return funcs[0]
    named = [f for f in funcs if f.sym_name.data == MAIN]
    if len(named) == 1:
        return named[0]
    raise FlatbufferError(
        f"module has {len(funcs)} functions and none is the only one or named '{MAIN}'"
    )


class _Names:
    """Unique tensor names inside one block, deterministic."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def claim(self, wanted: str, fallback: str) -> str:
        base = wanted or fallback
        name, k = base, 0
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name


class _TypeFacts(NamedTuple):
    type: Attribute  # held, so that no other object takes its id while the memo lives
    element: Attribute | None  # its element type, if it has one
    codec: ElementCodec | None  # the element type's
    shaped_element: Attribute | None  # its element type if it is a ShapedType
    tensor: tuple[tuple[int, ...], int] | None  # (shape, DType) if a file can hold it


class _Types:
    """What the writer asks of each type, once per type object for one call.

    Keyed by the object's id: the memo holds every object it keys by, so no other object
    can take an id while it lives; equal types are mostly one object
    (``ir.speedups.identity``), so most values of a module hit. (A dict keyed by the
    types themselves would hash each one, which costs about what it saves.)"""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: dict[int, _TypeFacts] = {}

    def of(self, type_: Attribute) -> _TypeFacts:
        facts = self.seen.get(id(type_))
        if facts is None:
            facts = self.seen[id(type_)] = _type_facts(type_)
        return facts


def _type_facts(type_: Attribute) -> _TypeFacts:
    element = getattr(type_, "element_type", None)
    codec = codec_of(element) if element is not None else None
    # xDSL's ShapedType declares no element_type; each of its builtin types has one
    shaped_element = element if isinstance(type_, ShapedType) else None
    tensor = None
    if isinstance(type_, ShapeType):
        tensor = ((type_.rank.data,), DType.SHAPE)
    elif isinstance(type_, TensorType) and codec is not None:
        shape = tuple(type_.get_shape())
        tensor = None if any(d < 0 for d in shape) else (shape, codec.dtype)
    return _TypeFacts(type_, element, codec, shaped_element, tensor)


class _OpClass(NamedTuple):
    """What the planner asks of each op class, once."""

    spec_name: str
    constant: bool  # tosa.const / tosa.const_shape: its result has data
    variable_read: bool
    variable_write: bool


@cache
def _op_class(cls: type[Operation]) -> _OpClass:
    return _OpClass(
        spec_name_of(cls),
        issubclass(cls, (ConstOp, ConstShapeOp)),
        issubclass(cls, VariableReadOp),
        issubclass(cls, VariableWriteOp),
    )


@cache
def _is_1_1_class(cls: type[Operation]) -> bool:
    return issubclass(cls, TOSA_1_1_OPS)


class _Planner:
    def __init__(self, module: ModuleOp, version: tuple, types: _Types | None = None) -> None:
        self.module = module
        self.version = version
        self.types = types or _Types()
        self.regions: dict[str, list[FbBlock]] = {}
        self.region_names = _Names()
        self.variables: dict[str, VariableOp] = {
            op.sym_name.data: op for op in module.ops if isinstance(op, VariableOp)
        }

    def plan(self) -> FbGraph:
        func = main_function(self.module)
        arg_names, result_names = function_tensor_names(func)
        self.region_names.claim(MAIN, MAIN)
        self.regions[MAIN] = []  # main first, nested regions after it
        block = self._block(MAIN, func.body.block, arg_names, result_names, top=True)
        self.regions[MAIN].append(block)
        return FbGraph(self.version, self.regions)

    # -- blocks ----------------------------------------------------------------------

    def _block(self, name: str, block: Block, arg_names, result_names, *, top=False) -> FbBlock:
        names = _Names()
        values: dict[SSAValue, str] = {}
        terminator = block.last_op
        if not isinstance(terminator, (ReturnOp, YieldOp)):
            raise FlatbufferError(f"block '{name}' does not end in return/yield")
        inputs = []
        for i, arg in enumerate(block.args):
            values[arg] = names.claim(
                arg_names[i] if i < len(arg_names) else "", f"{name}_input_{i}"
            )
            inputs.append(values[arg])
        # returned values take the function's result names before ops claim theirs; a
        # block may return one of its inputs, or a value twice, under the value's one name
        for i, value in enumerate(terminator.operands):
            if value in values:
                continue
            wanted = result_names[i] if i < len(result_names) else ""
            values[value] = names.claim(wanted or _own_name(value), f"{name}_output_{i}")
        fb = FbBlock(name, tuple(inputs), tuple(values[v] for v in terminator.operands))
        for arg in block.args:
            fb.tensors[values[arg]] = self._tensor(values[arg], arg.type, None, block.parent_op())
        if top:
            self._variables(fb, names)
        for op in block.ops:
            if op is terminator:
                continue
            self._op(op, fb, names, values)
        return fb

    def _variables(self, fb: FbBlock, names: _Names) -> None:
        for symbol, var in self.variables.items():
            tensor_name = names.claim(symbol, symbol)
            initial = cast(
                DenseIntOrFPElementsAttr | None, var.initial_value
            )  # as a const's values
            data = self._data_of(initial) if initial is not None else None
            fb.tensors[tensor_name] = self._tensor(
                tensor_name, var.tensor_type(), data, var, variable=True, variable_name=symbol
            )

    # -- operators --------------------------------------------------------------------

    def _op(self, op: Operation, fb: FbBlock, names: _Names, values: dict[SSAValue, str]) -> None:
        out_names = tensor_names(op)
        for i, result in enumerate(op.results):
            if result not in values:
                values[result] = names.claim(
                    out_names[i], f"{op.name.removeprefix('tosa.')}_{len(names.taken)}"
                )
        inputs = []
        for i, operand in enumerate(op.operands):
            if operand not in values:
                raise FlatbufferError.at(
                    op, f"operand {i} is defined outside this region; pass it in as a region input"
                )
            inputs.append(values[operand])
        outputs = [values[r] for r in op.results]
        kind = _op_class(type(op))
        data = None
        if kind.constant:
            # the bytes of a dense literal (an elided dense_resource has none to write)
            data = self._data_of(cast(DenseIntOrFPElementsAttr, op.properties["values"]))
        for result, out in zip(op.results, outputs):
            fb.tensors[out] = self._tensor(out, result.type, data, op)
        if kind.variable_read:
            inputs = [self._variable_tensor(op, fb)]
        if kind.variable_write:
            outputs = [self._variable_tensor(op, fb)]
        spec_name = kind.spec_name
        owner = values[op.results[0]] if op.results else op.name.removeprefix("tosa.")
        attributes = self._attributes(op, spec_name, owner)
        fb.operators.append(
            FbOperator(spec_name, attributes, tuple(inputs), tuple(outputs), _location_text(op))
        )

    def _variable_tensor(self, op: Operation, fb: FbBlock) -> str:
        symbol = cast(StringAttr, op.properties["name"]).data
        tensor = next(
            (t for t in fb.tensors.values() if t.variable and t.variable_name == symbol), None
        )
        if tensor is None:
            raise FlatbufferError.at(op, f"no tosa.variable @{symbol} in the graph's block")
        return tensor.name

    def _attributes(self, op: Operation, spec_name: str, owner: str) -> dict:
        try:
            table = attribute_table(spec_name)
        except KeyError:
            return {}
        element = self.types.of(op.operands[0].type).shaped_element if op.operands else None
        region_fields = REGION_FIELDS.get(spec_name, ())
        attributes = {}
        for name in table.fields:
            if name in region_fields:
                attributes[name] = self._region(op, region_fields.index(name), name, owner)
                continue
            kind = FIELD_KINDS[name]
            value = op.properties.get(name)
            if value is None and kind is not Kind.BOOL:
                raise FlatbufferError.at(op, f"missing property '{name}'")
            try:
                attributes[name] = TO_FILE[kind](value, FieldContext(name, element))
            except FieldError as err:
                raise FlatbufferError.at(op, str(err)) from None
        return attributes

    def _region(self, op: Operation, index: int, field_name: str, owner: str) -> str:
        """A region under the name the IR records (ExecuTorch's), else ``<owner>_<field>``."""
        label = field_name.removesuffix("_graph")
        recorded, input_names = region_names(op, index)
        name = self.region_names.claim(recorded or f"{owner}_{label}", label)
        self.regions[name] = []  # reserve the slot: outer regions come before inner ones
        block = op.regions[index].block
        self.regions[name].append(self._block(name, block, input_names, []))
        return name

    def _data_of(self, attr: DenseIntOrFPElementsAttr) -> memoryview:
        t = attr.type
        codec = self.types.of(t).codec
        raw = attr.data.data
        if codec is None:  # index: const_shape values, stored as int64 like the file
            return memoryview(raw)
        count = math.prod(t.get_shape())
        if codec.file_bits not in (4, 6, 48) and codec.dtype != DType.BOOL:
            stored, rest = divmod(len(raw), codec.numpy.itemsize)
            if not rest and stored in (count, 1):  # (a single element: a splat's storage)
                return memoryview(raw)  # the IR's bytes are the file's bytes
        flat = flat_storage(attr)
        if flat.size == 1 and count != 1:
            flat = np.broadcast_to(flat, (count,))
        if codec.file_bits in (4, 6, 48) or codec.dtype == DType.BOOL or flat.size != count:
            return memoryview(file_bytes(flat, codec))
        return memoryview(raw)

    def _tensor(self, name, type_, data, owner: Operation | None, **variable) -> FbTensor:
        writable = self.types.of(type_).tensor
        if writable is not None:
            return FbTensor(name, *writable, data, **variable)
        if isinstance(type_, ShapeType):
            return FbTensor(name, (type_.rank.data,), DType.SHAPE, data)
        if not isinstance(type_, TensorType):
            raise FlatbufferError.at(
                owner, f"tensor '{name}' has type {type_}, not a ranked tensor"
            )
        element, codec = type_.element_type, codec_of(type_.element_type)
        if codec is None:
            raise FlatbufferError.at(
                owner,
                f"tensor '{name}' has element type {element}, which a TOSA 1.0 "
                "flatbuffer cannot hold (run legalize-unsigned-io first for ui8/ui16 IO)",
            )
        shape = tuple(type_.get_shape())
        if any(d < 0 for d in shape):
            raise FlatbufferError.at(owner, f"tensor '{name}' has a dynamic shape {type_}")
        return FbTensor(name, shape, codec.dtype, data, **variable)


def _own_name(value: SSAValue) -> str:
    if isinstance(value, OpResult):  # an op's (a block argument's owner is its block)
        return tensor_names(value.op)[value.index]
    return ""


def _location_text(op: Operation) -> str:
    if isinstance(op.location, UnknownLoc):
        return ""
    plain = plain_location_text(op.location)  # ir/speedups/locations.py
    if plain is not None:
        return plain
    out = io.StringIO()
    Printer(stream=out).print_attribute(op.location)
    return out.getvalue()


# ============================================================================= emit


@cache
def _software_version() -> tuple[int, int, int, str]:
    """The serialization library's version, as ExecuTorch's and MLIR's writers record it."""
    parts = importlib.metadata.version("tosa-tools").split(".")
    numbers = [int(p) if p.isdigit() else 0 for p in [*parts, "0", "0", "0"][:3]]
    return numbers[0], numbers[1], numbers[2], ""


#: builder bytes reserved per tensor and operator beyond their data (names, shapes,
#: attributes, alignment): enough that the builder never doubles a weight-sized buffer
_RECORD_BYTES = 1024

_GRAPH = layout_of(TosaGraph, "TosaGraph")
_VERSION = layout_of(Version, "Version")
_SOFTWARE_VERSION = layout_of(SoftwareVersion, "SoftwareVersion")
_REGION = layout_of(TosaRegion, "TosaRegion")
_BLOCK = layout_of(TosaBasicBlock, "TosaBasicBlock")
_TENSOR = layout_of(TosaTensor, "TosaTensor")
_SHAPE = layout_of(TosaShape, "TosaShape")
_OPERATOR = layout_of(TosaOperator, "TosaOperator")
_LOCATION = layout_of(OpLocation, "OpLocation")


def _slots(layout: TableLayout, *names: str) -> tuple[Slot, ...]:
    return tuple(layout.fields[name] for name in names)


_GRAPH_SLOTS = _slots(_GRAPH, "Version", "Regions", "SoftwareVersion")
_VERSION_SLOTS = _slots(_VERSION, "_Major", "_Minor", "_Patch", "_Draft")
_SOFTWARE_VERSION_SLOTS = _slots(_SOFTWARE_VERSION, "_Major", "_Minor", "_Micro", "_Modifier")
_REGION_SLOTS = _slots(_REGION, "Name", "Blocks")
_BLOCK_SLOTS = _slots(_BLOCK, "Name", "Operators", "Tensors", "Inputs", "Outputs", "Shapes")
_TENSOR_NAME, _TENSOR_SHAPE, _TENSOR_TYPE, _TENSOR_DATA = _slots(
    _TENSOR, "Name", "Shape", "Type", "Data"
)
_TENSOR_VARIABLE = _slots(_TENSOR, "Variable", "VariableName")
_SHAPE_NAME, _SHAPE_RANK, _SHAPE_DATA = _slots(_SHAPE, "Name", "Rank", "Data")
_OPERATOR_SLOTS = _slots(_OPERATOR, "Op", "AttributeType", "Attribute", "Inputs", "Outputs")
_OPERATOR_LOCATION = _OPERATOR.fields["Location"]
_LOCATION_TEXT = _LOCATION.fields["Text"]


@dataclass(frozen=True)
class _OperatorKind:
    """What every operator of one spec name writes alike: its op code, its attribute
    table's union tag and layout, and the table's fields in schema order."""

    code: int | None
    tag: int
    attribute: TableLayout
    fields: tuple[tuple[str, Slot], ...]  # snake_case property name, its slot


@cache
def _operator_kind(spec_name: str) -> _OperatorKind:
    table = attribute_table(spec_name)
    layout = layout_of(table.module, table.cls.__name__)
    fields = tuple((name, layout.fields[camel(name)]) for name in table.fields)
    return _OperatorKind(file_op_code(spec_name), table.tag, layout, fields)


def emit(graph: FbGraph, out: Emitter | BuilderEmitter | None = None) -> bytes:
    """The records as a file, written by ``out``: by default the direct ``Emitter``, or
    the ``flatbuffers`` Builder with the speed-ups off; the same bytes either way."""
    if out is None:
        out = Emitter() if SPEEDUPS else _builder_for(graph)
    regions = [_emit_region(out, name, blocks) for name, blocks in graph.regions.items()]
    regions_vec = out.offsets(regions)
    version = out.table(_VERSION, zip(_VERSION_SLOTS, graph.version))
    software = _emit_software_version(out)
    root = out.table(_GRAPH, zip(_GRAPH_SLOTS, (version, regions_vec, software)))
    return out.finish(root, FILE_IDENTIFIER)


def _builder_for(graph: FbGraph) -> BuilderEmitter:
    """A Builder sized for the whole file, so that it never doubles its buffer."""
    blocks = [blk for b in graph.regions.values() for blk in b]
    data_bytes = sum(
        t.data.nbytes for blk in blocks for t in blk.tensors.values() if t.data is not None
    )
    records = sum(len(blk.tensors) + len(blk.operators) for blk in blocks)
    locations = sum(len(o.location) for blk in blocks for o in blk.operators)
    return BuilderEmitter(data_bytes + _RECORD_BYTES * records + locations + 4096)


def _emit_software_version(out) -> int:
    major, minor, micro, modifier = _software_version()
    text = out.string(modifier)
    return out.table(_SOFTWARE_VERSION, zip(_SOFTWARE_VERSION_SLOTS, (major, minor, micro, text)))


def _emit_region(out, name: str, blocks: list[FbBlock]) -> int:
    blocks_vec = out.offsets([_emit_block(out, b) for b in blocks])
    name_off = out.string(name)
    return out.table(_REGION, zip(_REGION_SLOTS, (name_off, blocks_vec)))


def _emit_block(out, block: FbBlock) -> int:
    tensors = [t for t in block.tensors.values() if t.dtype != DType.SHAPE]
    shapes = [t for t in block.tensors.values() if t.dtype == DType.SHAPE]
    operators = out.offsets([_emit_operator(out, o) for o in block.operators])
    tensor_vec = out.offsets([_emit_tensor(out, t) for t in tensors])
    shape_vec = out.offsets([_emit_shape(out, s) for s in shapes])
    inputs = out.strings(block.inputs)
    outputs = out.strings(block.outputs)
    name = out.string(block.name)
    values = (name, operators, tensor_vec, inputs, outputs, shape_vec)
    return out.table(_BLOCK, zip(_BLOCK_SLOTS, values))


def _emit_tensor(out, t: FbTensor) -> int:
    name = out.string(t.name)
    shape = out.int32s(t.shape)
    fields = [(_TENSOR_NAME, name), (_TENSOR_SHAPE, shape), (_TENSOR_TYPE, t.dtype)]
    if t.data is not None:  # aligned for readers that map it in place
        fields.append((_TENSOR_DATA, out.ubytes(t.data, _DATA_ALIGNMENT)))
    if t.variable:
        variable_name = out.string(t.variable_name)
        fields += zip(_TENSOR_VARIABLE, (True, variable_name))
    return out.table(_TENSOR, fields)


def _emit_shape(out, s: FbTensor) -> int:
    name = out.string(s.name)
    fields = [(_SHAPE_NAME, name), (_SHAPE_RANK, s.shape[0])]
    if s.data is not None:
        fields.append((_SHAPE_DATA, out.ubytes(s.data, _DATA_ALIGNMENT)))
    return out.table(_SHAPE, fields)


def _emit_operator(out, op: FbOperator) -> int:
    kind = _operator_kind(op.op)
    attribute = _emit_attribute(out, kind, op.attributes)
    inputs = out.strings(op.inputs)
    outputs = out.strings(op.outputs)
    fields = list(zip(_OPERATOR_SLOTS, (kind.code, kind.tag, attribute, inputs, outputs)))
    if op.location:
        text = out.string(op.location)
        fields.append((_OPERATOR_LOCATION, out.table(_LOCATION, ((_LOCATION_TEXT, text),))))
    return out.table(_OPERATOR, fields)


def _emit_attribute(out, kind: _OperatorKind, values: dict) -> int:
    fields = []
    for name, slot in kind.fields:  # children (strings, vectors) before the table
        value = values[name]
        if isinstance(value, str):
            value = out.string(value)
        elif isinstance(value, bytes):
            value = out.ubytes(value)
        elif isinstance(value, np.ndarray):
            value = out.array(value)
        fields.append((slot, value))
    return out.table(kind.attribute, fields)


# ============================================================================= API


def to_flatbuffer(module: ModuleOp, version: str | None = None) -> bytes:
    """The module as a TOSA flatbuffer, versioned as ExecuTorch writes: ``version="1.0"``
    gives 1.0.0 (not draft), ``"1.1"`` 1.1.0 draft (ExecuTorch sets draft for a minor
    version above 0). Without a version: 1.1 when the module uses a TOSA 1.1 operator or
    element type (block-scaled ops, fp4/fp6/e8m0), else 1.0.

    Refuses, naming the op, a module that does not verify, still has ``ui8``/``ui16``
    values (those belong to the typed stage; run ``legalize-unsigned-io``), or needs 1.1
    when ``version="1.0"`` is asked for.
    """
    return to_checked_flatbuffer(module, version).data


def to_checked_flatbuffer(module: ModuleOp, version: str | None = None) -> CheckedFlatbuffer:
    """``to_flatbuffer``'s bytes with the records they were written from: what
    ``decode`` would read back from them, so the reference model and Vela can take the
    bytes without decoding and verifying the graph again."""
    types = _Types()
    needs = _check_module(module, types)
    if version is None:
        version = "1.1" if needs is not None else "1.0"
    if version not in WRITE_VERSIONS:
        raise FlatbufferError(
            f"TOSA version {version!r} cannot be written; expected one of {sorted(WRITE_VERSIONS)}"
        )
    if version == "1.0" and needs is not None:
        raise FlatbufferError.at(needs, "needs TOSA 1.1, not in a TOSA 1.0 flatbuffer")
    graph = _Planner(module, WRITE_VERSIONS[version], types).plan()
    return CheckedFlatbuffer(emit(graph), graph)


def first_1_1_op(module: ModuleOp, types: _Types | None = None) -> Operation | None:
    """The first op that is a TOSA 1.1 operator or has a 1.1 element type, or None."""
    types = types or _Types()
    for op in module.walk():
        if _needs_1_1(op, types):
            return op
    return None


def _needs_1_1(op: Operation, types: _Types) -> bool:
    if _is_1_1_class(type(op)):
        return True
    for value in (*op.operands, *op.results):
        codec = types.of(value.type).codec
        if codec is not None and codec.version == "1.1":
            return True
    return False


def _check_module(module: ModuleOp, types: _Types) -> Operation | None:
    """Refuse a module with values no TOSA file can hold, or one that does not verify;
    the first op that needs TOSA 1.1 (``first_1_1_op``), found on the same walk."""
    needs = None
    for op in module.walk():
        for value in (*op.results, *(a for r in op.regions for b in r.blocks for a in b.args)):
            facts = types.of(value.type)
            unwritable = facts.element is not None and facts.codec is None
            if unwritable and not isinstance(value.type, ShapeType):
                raise FlatbufferError.at(
                    op,
                    f"value of type {value.type} cannot be written to a TOSA 1.0 "
                    "flatbuffer (signed/unsigned integers belong to the typed stage: run "
                    "legalize-unsigned-io)",
                )
        if needs is None and _needs_1_1(op, types):
            needs = op
    try:
        module.verify()
    except VerifyException as err:
        raise FlatbufferError(f"module does not verify: {err}") from None
    return needs
