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
from collections.abc import Callable
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
from ir.speedups.walk import walk_list
from ir.tensor_names import function_tensor_names, region_names, tensor_names
from tosa_flatbuffer.decode import (
    CheckedFlatbuffer,
    FbBlock,
    FbGraph,
    FbOperator,
    FbTensor,
    FlatbufferError,
)
from tosa_flatbuffer.emitter import (
    BuilderEmitter,
    Emitter,
    FixedTable,
    Slot,
    TableLayout,
    layout_of,
)
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

    def claim(self, base: str) -> str:
        """``base``, or ``base_<k>`` with the first ``k`` not taken yet."""
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
    unwritable: bool  # an element type no TOSA file holds (and not a !tosa.shape)
    needs_1_1: bool  # an element type TOSA 1.1 brought
    count: int  # elements of a static shape (0 where there is none)
    raw_is_file: bool  # a dense value's IR bytes are the file's bytes (whole bytes, not bool)
    itemsize: int  # bytes of one element in the IR's storage (0: no codec)


#: the facts of every type object seen, by id (each entry holds its type, so that no
#: other object takes the id while it lives); cleared when it reaches the limit
_TYPE_FACTS: dict[int, _TypeFacts] = {}
_TYPE_FACTS_LIMIT = 20_000


class _Types:
    """What the writer asks of each type, once per type object.

    Keyed by the object's id: the memo holds every object it keys by, so no other object
    can take an id while it lives; equal types are mostly one object
    (``ir.speedups.identity``), so most values of a module hit, and so do the next
    module's. (A dict keyed by the types themselves would hash each one, which costs
    about what it saves.) The facts are a function of the type alone, which is
    immutable, so the memo is shared by every call (``_TYPE_FACTS``)."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        if len(_TYPE_FACTS) >= _TYPE_FACTS_LIMIT:
            _TYPE_FACTS.clear()
        self.seen: dict[int, _TypeFacts] = _TYPE_FACTS

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
    tensor, count = None, 0
    if isinstance(type_, ShapeType):
        tensor = ((type_.rank.data,), DType.SHAPE)
    elif isinstance(type_, TensorType):
        shape = tuple(type_.get_shape())
        if all(d >= 0 for d in shape):
            count = math.prod(shape)
            if codec is not None:
                tensor = (shape, codec.dtype)
    unwritable = element is not None and codec is None and not isinstance(type_, ShapeType)
    needs_1_1 = codec is not None and codec.version == "1.1"
    raw_is_file = (
        codec is not None and codec.file_bits not in (4, 6, 48) and codec.dtype != DType.BOOL
    )
    itemsize = codec.numpy.itemsize if codec is not None else 0
    return _TypeFacts(
        type_,
        element,
        codec,
        shaped_element,
        tensor,
        unwritable,
        needs_1_1,
        count,
        raw_is_file,
        itemsize,
    )


class _Field(NamedTuple):
    """One field of an operator's attribute table, as the planner fills it."""

    name: str  # snake_case: the IR property and the record's key
    region: int  # the op's region the field names (-1: a property)
    convert: Callable | None  # ``fields.TO_FILE`` of the field's kind (None for a region)
    optional: bool  # a bool: a missing property is False


@cache
def _fields_of(spec_name: str) -> tuple[_Field, ...]:
    """The attribute table's fields of operator ``spec_name``, in schema order (none
    for an operator without a table)."""
    try:
        table = attribute_table(spec_name)
    except KeyError:
        return ()
    region_fields = REGION_FIELDS.get(spec_name, ())
    fields = []
    for name in table.fields:
        if name in region_fields:
            fields.append(_Field(name, region_fields.index(name), None, False))
            continue
        kind = FIELD_KINDS[name]
        fields.append(_Field(name, -1, TO_FILE[kind], kind is Kind.BOOL))
    return tuple(fields)


class _OpClass(NamedTuple):
    """What the planner asks of each op class, once."""

    spec_name: str
    short_name: str  # the op's name without ``tosa.``
    constant: bool  # tosa.const / tosa.const_shape: its result has data
    variable_read: bool
    variable_write: bool
    fields: tuple[_Field, ...]  # its attribute table's


@cache
def _op_class(cls: type[Operation]) -> _OpClass:
    spec_name = spec_name_of(cls)
    return _OpClass(
        spec_name,
        cls.name.removeprefix("tosa."),
        issubclass(cls, (ConstOp, ConstShapeOp)),
        issubclass(cls, VariableReadOp),
        issubclass(cls, VariableWriteOp),
        _fields_of(spec_name),
    )


@cache
def _is_1_1_class(cls: type[Operation]) -> bool:
    return issubclass(cls, TOSA_1_1_OPS)


class _Planner:
    """The records of one module. SSA values are keyed by their ids (the module holds
    them for the whole call): xDSL's ``SSAValue.__hash__`` is a Python call per lookup."""

    def __init__(self, module: ModuleOp, version: tuple, types: _Types | None = None) -> None:
        self.module = module
        self.version = version
        self.types = types or _Types()
        self.regions: dict[str, list[FbBlock]] = {}
        self.region_names = _Names()
        #: (field, id of the property, id of the element type) -> its schema value
        self.converted: dict[tuple[str, int, int], object] = {}
        self.variables: dict[str, VariableOp] = {
            op.sym_name.data: op for op in module.ops if isinstance(op, VariableOp)
        }

    def plan(self) -> FbGraph:
        func = main_function(self.module)
        arg_names, result_names = function_tensor_names(func)
        self.region_names.claim(MAIN)
        self.regions[MAIN] = []  # main first, nested regions after it
        block = self._block(MAIN, func.body.block, arg_names, result_names, top=True)
        self.regions[MAIN].append(block)
        return FbGraph(self.version, self.regions)

    # -- blocks ----------------------------------------------------------------------

    def _block(self, name: str, block: Block, arg_names, result_names, *, top=False) -> FbBlock:
        names = _Names()
        values: dict[int, str] = {}  # id of an SSA value -> its tensor's name
        terminator = block.last_op
        if not isinstance(terminator, (ReturnOp, YieldOp)):
            raise FlatbufferError(f"block '{name}' does not end in return/yield")
        inputs = []
        for i, arg in enumerate(block.args):
            wanted = arg_names[i] if i < len(arg_names) else ""
            values[id(arg)] = tensor_name = names.claim(wanted or f"{name}_input_{i}")
            inputs.append(tensor_name)
        # returned values take the function's result names before ops claim theirs; a
        # block may return one of its inputs, or a value twice, under the value's one name
        returned = terminator.operands
        for i, value in enumerate(returned):
            if id(value) in values:
                continue
            wanted = result_names[i] if i < len(result_names) else ""
            values[id(value)] = names.claim(wanted or _own_name(value) or f"{name}_output_{i}")
        fb = FbBlock(name, tuple(inputs), tuple(values[id(v)] for v in returned))
        if block.args:
            parent = block.parent_op()
            for arg, tensor_name in zip(block.args, inputs):
                fb.tensors[tensor_name] = self._tensor(tensor_name, arg.type, None, parent)
        if top:
            self._variables(fb, names)
        for op in block.ops:
            if op is not terminator:
                self._op(op, fb, names, values)
        return fb

    def _variables(self, fb: FbBlock, names: _Names) -> None:
        for symbol, var in self.variables.items():
            tensor_name = names.claim(symbol)
            initial = cast(
                DenseIntOrFPElementsAttr | None, var.initial_value
            )  # as a const's values
            data = self._data_of(initial) if initial is not None else None
            fb.tensors[tensor_name] = self._tensor(
                tensor_name, var.tensor_type(), data, var, variable=True, variable_name=symbol
            )

    # -- operators --------------------------------------------------------------------

    def _op(self, op: Operation, fb: FbBlock, names: _Names, values: dict[int, str]) -> None:
        results = op.results
        outputs = []
        if results:
            out_names = tensor_names(op)
            for i, result in enumerate(results):
                out = values.get(id(result))
                if out is None:
                    wanted = out_names[i] or f"{op.name.removeprefix('tosa.')}_{len(names.taken)}"
                    out = values[id(result)] = names.claim(wanted)
                outputs.append(out)
        inputs = [values.get(id(operand)) for operand in op.operands]
        if None in inputs:
            raise FlatbufferError.at(
                op,
                f"operand {inputs.index(None)} is defined outside this region; pass it in as "
                "a region input",
            )
        kind = _op_class(type(op))
        data = None
        if kind.constant:
            # the bytes of a dense literal (an elided dense_resource has none to write)
            data = self._data_of(cast(DenseIntOrFPElementsAttr, op.properties["values"]))
        tensors, types = fb.tensors, self.types
        for result, out in zip(results, outputs):
            writable = types.of(result.type).tensor
            if writable is None:
                tensors[out] = self._tensor(out, result.type, data, op)  # (raises)
            else:
                tensors[out] = FbTensor(out, *writable, data)
        owner = outputs[0] if results else kind.short_name  # names the op's regions
        if kind.variable_read:
            inputs = [self._variable_tensor(op, fb)]
        if kind.variable_write:
            outputs = [self._variable_tensor(op, fb)]
        attributes = self._attributes(op, kind.fields, owner) if kind.fields else {}
        fb.operators.append(
            FbOperator(
                kind.spec_name,
                attributes,
                tuple(inputs),  # pyright: ignore[reportArgumentType] (no None: checked above)
                tuple(outputs),
                _location_text(op),
            )
        )

    def _variable_tensor(self, op: Operation, fb: FbBlock) -> str:
        symbol = cast(StringAttr, op.properties["name"]).data
        tensor = next(
            (t for t in fb.tensors.values() if t.variable and t.variable_name == symbol), None
        )
        if tensor is None:
            raise FlatbufferError.at(op, f"no tosa.variable @{symbol} in the graph's block")
        return tensor.name

    def _attributes(self, op: Operation, fields: tuple[_Field, ...], owner: str) -> dict:
        """The op's attribute table's values. Each (field, property object, first input's
        element type) is converted once per call: attributes are immutable and equal ones
        are mostly one object (``ir.speedups.identity``), so most ops repeat an earlier
        op's (the module holds every object keyed by id for the call). A list's array is
        copied per op, so that no two records share a mutable value."""
        element = self.types.of(op.operands[0].type).shaped_element if op.operands else None
        properties = op.properties
        converted = self.converted
        attributes = {}
        for field in fields:
            name = field.name
            if field.region >= 0:
                attributes[name] = self._region(op, field.region, name, owner)
                continue
            value = properties.get(name)
            key = (name, id(value), id(element))
            known = converted.get(key)
            if known is not None:
                attributes[name] = known.copy() if isinstance(known, np.ndarray) else known
                continue
            if value is None and not field.optional:
                raise FlatbufferError.at(op, f"missing property '{name}'")
            try:
                result = field.convert(value, FieldContext(name, element))  # pyright: ignore[reportOptionalCall]
            except FieldError as err:
                raise FlatbufferError.at(op, str(err)) from None
            converted[key] = result.copy() if isinstance(result, np.ndarray) else result
            attributes[name] = result
        return attributes

    def _region(self, op: Operation, index: int, field_name: str, owner: str) -> str:
        """A region under the name the IR records (ExecuTorch's), else ``<owner>_<field>``."""
        label = field_name.removesuffix("_graph")
        recorded, input_names = region_names(op, index)
        name = self.region_names.claim(recorded or f"{owner}_{label}")
        self.regions[name] = []  # reserve the slot: outer regions come before inner ones
        block = op.regions[index].block
        self.regions[name].append(self._block(name, block, input_names, []))
        return name

    def _data_of(self, attr: DenseIntOrFPElementsAttr) -> memoryview:
        facts = self.types.of(attr.type)
        codec = facts.codec
        raw = attr.data.data
        if codec is None:  # index: const_shape values, stored as int64 like the file
            return memoryview(raw)
        count = facts.count
        if facts.raw_is_file:
            stored, rest = divmod(len(raw), facts.itemsize)
            if not rest and stored in (count, 1):  # (a single element: a splat's storage)
                return memoryview(raw)  # the IR's bytes are the file's bytes
        flat = flat_storage(attr)
        if flat.size == 1 and count != 1:
            flat = np.broadcast_to(flat, (count,))
        if not facts.raw_is_file or flat.size != count:
            return memoryview(file_bytes(flat, codec))
        return memoryview(raw)

    def _tensor(self, name, type_, data, owner: Operation | None, **variable) -> FbTensor:
        writable = self.types.of(type_).tensor
        if writable is not None:
            return FbTensor(name, *writable, data, **variable)
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
        raise FlatbufferError.at(owner, f"tensor '{name}' has a dynamic shape {type_}")


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


_LOCATION_TABLE = FixedTable(_LOCATION, (_LOCATION_TEXT,))


def _tensor_table(typed: bool, data: bool, variable: bool) -> FixedTable:
    """The TosaTensor fields a tensor writes: name and shape, its type unless it is the
    default (UNKNOWN), its data if it has any, the variable's flag and name if it is one."""
    slots = [_TENSOR_NAME, _TENSOR_SHAPE]
    slots += [_TENSOR_TYPE] if typed else []
    slots += [_TENSOR_DATA] if data else []
    slots += _TENSOR_VARIABLE if variable else ()
    return FixedTable(_TENSOR, slots)


#: (type not UNKNOWN, has data, is a variable) -> the table
_TENSOR_TABLES = {
    (typed, data, variable): _tensor_table(typed, data, variable)
    for typed in (False, True)
    for data in (False, True)
    for variable in (False, True)
}


@dataclass(frozen=True)
class _OperatorKind:
    """What every operator of one spec name writes alike: its op code and attribute
    table's union tag (``head``: those not at their defaults), the attribute table's
    layout and fields in schema order, and its TosaOperator table without and with a
    location."""

    head: tuple[int, ...]
    attribute: TableLayout
    fields: tuple[tuple[str, Slot], ...]  # snake_case property name, its slot
    table: FixedTable
    located: FixedTable


@cache
def _operator_kind(spec_name: str) -> _OperatorKind:
    table = attribute_table(spec_name)
    layout = layout_of(table.module, table.cls.__name__)
    fields = tuple((name, layout.fields[camel(name)]) for name in table.fields)
    op_slot, tag_slot, *children = _OPERATOR_SLOTS
    head = [(op_slot, file_op_code(spec_name)), (tag_slot, table.tag)]
    head = [(slot, value) for slot, value in head if value != slot.default]
    slots = [slot for slot, _ in head] + children
    return _OperatorKind(
        tuple(value for _, value in head),  # pyright: ignore[reportArgumentType]
        layout,
        fields,
        FixedTable(_OPERATOR, slots),
        FixedTable(_OPERATOR, [*slots, _OPERATOR_LOCATION]),
    )


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
    values = [out.string(t.name), out.int32s(t.shape)]
    typed = t.dtype != _TENSOR_TYPE.default
    if typed:
        values.append(t.dtype)
    if t.data is not None:  # aligned for readers that map it in place
        values.append(out.ubytes(t.data, _DATA_ALIGNMENT))
    if t.variable:
        values += (True, out.string(t.variable_name))
    return out.fixed(_TENSOR_TABLES[typed, t.data is not None, t.variable], values)


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
    if not op.location:
        return out.fixed(kind.table, [*kind.head, attribute, inputs, outputs])
    location = out.fixed(_LOCATION_TABLE, [out.string(op.location)])
    return out.fixed(kind.located, [*kind.head, attribute, inputs, outputs, location])


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


def to_flatbuffer(module: ModuleOp, version: str | None = None, *, verify: bool = True) -> bytes:
    """The module as a TOSA flatbuffer, versioned as ExecuTorch writes: ``version="1.0"``
    gives 1.0.0 (not draft), ``"1.1"`` 1.1.0 draft (ExecuTorch sets draft for a minor
    version above 0). Without a version: 1.1 when the module uses a TOSA 1.1 operator or
    element type (block-scaled ops, fp4/fp6/e8m0), else 1.0.

    Refuses, naming the op, a module that does not verify, still has ``ui8``/``ui16``
    values (those belong to the typed stage; run ``legalize-unsigned-io``), or needs 1.1
    when ``version="1.0"`` is asked for. ``verify=False`` is for a module the caller has
    just verified in full (``run_pipeline``'s output): xDSL's ``module.verify()`` is then
    not run again; every value's type is still checked for a file's storage.
    """
    return to_checked_flatbuffer(module, version, verify=verify).data


def to_checked_flatbuffer(
    module: ModuleOp, version: str | None = None, *, verify: bool = True
) -> CheckedFlatbuffer:
    """``to_flatbuffer``'s bytes with the records they were written from: what
    ``decode`` would read back from them, so the reference model and Vela can take the
    bytes without decoding and verifying the graph again. ``verify`` as ``to_flatbuffer``'s."""
    types = _Types()
    needs = _check_module(module, types, verify=verify)
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
    for op in walk_list(module):
        if _needs_1_1(op, types):
            return op
    return None


def _needs_1_1(op: Operation, types: _Types) -> bool:
    if _is_1_1_class(type(op)):
        return True
    seen = types.seen
    for value in op.operands:
        facts = seen.get(id(value.type)) or types.of(value.type)
        if facts.needs_1_1:
            return True
    for value in op.results:
        facts = seen.get(id(value.type)) or types.of(value.type)
        if facts.needs_1_1:
            return True
    return False


def _check_module(module: ModuleOp, types: _Types, *, verify: bool = True) -> Operation | None:
    """Refuse a module with values no TOSA file can hold, or (``verify``) one that does
    not verify; the first op that needs TOSA 1.1 (``first_1_1_op``).

    The walk looks at every op's results and region arguments, which are all the values
    there are: an op needs 1.1 only if a 1.1 operator or a value of a 1.1 type exists,
    so ``first_1_1_op`` walks again only then (a module without either, nearly every
    one, is walked once)."""
    seen = types.seen
    any_1_1 = False
    for op in walk_list(module):
        for value in op.results:
            facts = seen.get(id(value.type)) or types.of(value.type)
            if facts.unwritable:
                raise _unwritable(op, value)
            any_1_1 = any_1_1 or facts.needs_1_1
        for region in op.regions:
            for block in region.blocks:
                for value in block.args:
                    facts = seen.get(id(value.type)) or types.of(value.type)
                    if facts.unwritable:
                        raise _unwritable(op, value)
                    any_1_1 = any_1_1 or facts.needs_1_1
        any_1_1 = any_1_1 or _is_1_1_class(type(op))
    if verify:
        try:
            module.verify()
        except VerifyException as err:
            raise FlatbufferError(f"module does not verify: {err}") from None
    return first_1_1_op(module, types) if any_1_1 else None


def _unwritable(op: Operation, value: SSAValue) -> FlatbufferError:
    return FlatbufferError.at(
        op,
        f"value of type {value.type} cannot be written to a TOSA 1.0 "
        "flatbuffer (signed/unsigned integers belong to the typed stage: run "
        "legalize-unsigned-io)",
    )
