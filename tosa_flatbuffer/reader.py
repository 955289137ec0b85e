"""Checked records to IR: a TOSA flatbuffer as a module in our dialect.

The main region becomes ``func.func @main`` (tensor names as ``tosa.tensor_name``
argument/result attributes, as MLIR's deserializer does), every operator one op with its
output names kept, COND_IF/WHILE_LOOP their regions, variable tensors ``tosa.variable``.
Location text written by us or by MLIR (``loc(...)``) becomes the op's location again.
"""

from __future__ import annotations

from functools import lru_cache
from typing import cast

import numpy as np
from xdsl.dialects.builtin import (
    AnyDenseElement,
    BytesAttr,
    DenseIntOrFPElementsAttr,
    IndexType,
    LocationAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    UnknownLoc,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Attribute, Block, OpResult, Region, SSAValue
from xdsl.utils.exceptions import ParseError, VerifyException

from ir.builders import dense_from_numpy
from ir.dialects.tosa_ext import (
    OPS_BY_SPEC_NAME,
    ConstOp,
    ConstShapeOp,
    ShapeType,
    VariableOp,
    YieldOp,
)
from ir.parsing import MlirParser
from ir.speedups.identity import interned
from ir.speedups.locations import plain_location
from ir.tensor_names import name_dicts, set_region_names, set_tensor_names
from tosa_flatbuffer.decode import FbBlock, FbGraph, FbOperator, FbTensor, FlatbufferError
from tosa_flatbuffer.fields import FROM_FILE, FieldContext, FieldError
from tosa_flatbuffer.schema import (
    CODEC_BY_DTYPE,
    FIELD_KINDS,
    REGION_FIELDS,
    attribute_table,
)
from tosa_flatbuffer.schema import ir_bytes as to_ir_bytes

MAIN = "main"


def ir_type(t: FbTensor) -> Attribute:
    return _ir_type(t.dtype, tuple(t.shape))


@lru_cache(maxsize=4096)
def _ir_type(dtype, shape: tuple[int, ...]) -> Attribute:
    """One type object per (dtype, shape): a graph repeats a few dozen types, and
    verification remembers what it checked by object identity (``tosa_ext.signature``)."""
    if dtype not in CODEC_BY_DTYPE:  # SHAPE
        return ShapeType(shape[0])
    return TensorType(CODEC_BY_DTYPE[dtype].ir_type, list(shape))


def dense_of(t: FbTensor) -> DenseIntOrFPElementsAttr:
    """The tensor's data as an elements attribute (one copy of the bytes)."""
    data = t.data if t.data is not None else memoryview(b"")  # empty: no elements
    if t.dtype not in CODEC_BY_DTYPE:  # SHAPE: int64 like the IR's index storage
        return DenseIntOrFPElementsAttr(
            TensorType(IndexType(), [t.shape[0]]), BytesAttr(bytes(data))
        )
    codec = CODEC_BY_DTYPE[t.dtype]
    tensor = cast(TensorType[AnyDenseElement], ir_type(t))  # of the codec's element type
    return DenseIntOrFPElementsAttr(tensor, BytesAttr(to_ir_bytes(data, t.count, codec)))


class _Reader:
    def __init__(self, graph: FbGraph, ctx) -> None:
        self.graph = graph
        self.ctx = ctx
        self.variables: dict[str, VariableOp] = {}

    def module(self) -> ModuleOp:
        main = self.graph.main
        for t in main.tensors.values():
            if t.variable:
                self.variables[t.name] = self._variable(t)
        block = Block(arg_types=[ir_type(main.tensors[n]) for n in main.inputs])
        self._fill(block, main, "region 'main'", ReturnOp)
        outputs = [main.tensors[n] for n in main.outputs]
        func = FuncOp(
            MAIN,
            (block.arg_types, [ir_type(t) for t in outputs]),
            Region(block),
            arg_attrs=name_dicts(main.inputs),
            res_attrs=name_dicts(main.outputs),
        )
        return ModuleOp([*self.variables.values(), func])

    def _variable(self, t: FbTensor) -> VariableOp:
        props = {
            "sym_name": StringAttr(t.variable_name or t.name),
            "var_shape": dense_from_numpy(np.asarray(t.shape, dtype=np.int64), IndexType()),
            "type": CODEC_BY_DTYPE[t.dtype].ir_type,
        }
        if t.data is not None:
            props["initial_value"] = dense_of(t)
        return VariableOp.create(properties=props)

    # -- blocks -----------------------------------------------------------------------

    def _fill(self, block: Block, fb: FbBlock, where: str, terminator: type) -> None:
        """Ops of ``fb`` into ``block``, ended by ``terminator`` (return or yield)."""
        values: dict[str, SSAValue] = dict(zip(fb.inputs, block.args))
        for op in _topological(fb, where):
            self._operator(block, fb, op, values, where)
        results = [self._value(block, fb, n, values, where) for n in fb.outputs]
        block.add_op(
            ReturnOp(*results) if terminator is ReturnOp else YieldOp.create(operands=results)
        )

    def _const_from_tensor(self, block: Block, t: FbTensor, where: str) -> OpResult:
        if t.data is None and t.count:
            raise FlatbufferError(f"{where}: tensor '{t.name}' is used but nothing produces it")
        cls = ConstOp if t.dtype in CODEC_BY_DTYPE else ConstShapeOp
        op = cls.create(properties={"values": dense_of(t)}, result_types=[ir_type(t)])
        set_tensor_names(op, [t.name])
        block.add_op(op)
        return op.results[0]

    def _operator(self, block: Block, fb: FbBlock, op: FbOperator, values, where: str) -> None:
        where = f"{where} operator '{op.op}' -> {list(op.outputs)}"
        if op.op == "VARIABLE_WRITE":
            return self._variable_write(block, fb, op, values, where)
        if op.op in ("CONST", "CONST_SHAPE"):
            (name,) = op.outputs
            const = self._const_from_tensor(block, fb.tensors[name], where)
            values[name] = const
            const.op.location = _location(op.location, self.ctx)
            return
        operand_names = op.inputs
        props = {}
        if op.op == "VARIABLE_READ":
            props["name"] = StringAttr(self._symbol(fb, op.inputs[0], where))
            operand_names = ()
        operands = [self._value(block, fb, n, values, where) for n in operand_names]
        element = getattr(operands[0].type, "element_type", None) if operands else None
        props.update(self._properties(op, element, where))
        regions = [self._region(op.attributes[f], where) for f in REGION_FIELDS.get(op.op, ())]
        new = OPS_BY_SPEC_NAME[op.op].create(
            operands=operands,
            result_types=[ir_type(fb.tensors[n]) for n in op.outputs],
            properties=props,
            regions=regions,
        )
        set_tensor_names(new, list(op.outputs))
        if regions:  # the file's region names and block inputs, to be written back the same
            fields = [op.attributes[f] for f in REGION_FIELDS[op.op]]
            set_region_names(new, fields, [list(self.graph.regions[f][0].inputs) for f in fields])
        new.location = _location(op.location, self.ctx)
        block.add_op(new)
        values.update(zip(op.outputs, new.results))

    def _variable_write(self, block, fb, op: FbOperator, values, where) -> None:
        cls = OPS_BY_SPEC_NAME["VARIABLE_WRITE"]
        new = cls.create(
            operands=[self._value(block, fb, op.inputs[0], values, where)],
            properties={"name": StringAttr(self._symbol(fb, op.outputs[0], where))},
        )
        new.location = _location(op.location, self.ctx)
        block.add_op(new)

    def _symbol(self, fb: FbBlock, tensor: str, where: str) -> str:
        t = fb.tensors.get(tensor)
        if t is None or not t.variable:
            raise FlatbufferError(f"{where}: '{tensor}' is not a variable tensor")
        return t.variable_name or t.name

    def _value(self, block, fb: FbBlock, name: str, values, where: str) -> SSAValue:
        if name not in values:
            values[name] = self._const_from_tensor(block, fb.tensors[name], where)
        return values[name]

    def _properties(self, op: FbOperator, element, where: str) -> dict:
        try:
            fields = attribute_table(op.op).fields
        except KeyError:
            return {}
        props = {}
        for name in fields:
            kind = FIELD_KINDS[name]
            if name in REGION_FIELDS.get(op.op, ()):
                continue
            value = op.attributes[name]
            if name == "local_bound" and not value:
                continue  # MLIR leaves the default out
            try:
                props[name] = interned(FROM_FILE[kind](value, FieldContext(name, element)))
            except FieldError as err:
                raise FlatbufferError(f"{where}: {err}") from None
        return props

    def _region(self, name: str, where: str) -> Region:
        blocks = self.graph.regions[name]
        if len(blocks) != 1:
            raise FlatbufferError(
                f"{where}: region '{name}' has {len(blocks)} blocks (TOSA regions have one)"
            )
        fb = blocks[0]
        block = Block(arg_types=[ir_type(fb.tensors[n]) for n in fb.inputs])
        self._fill(block, fb, f"region '{name}'", YieldOp)
        return Region(block)


def _topological(fb: FbBlock, where: str) -> list[FbOperator]:
    """Operators in file order, moved after their producers where a file lists a use
    before its definition."""
    producer = {
        name: i
        for i, op in enumerate(fb.operators)
        for name in op.outputs
        if not fb.tensors[name].variable  # a variable is state, not a dependency
    }
    state: dict[int, int] = {}  # 1 visiting, 2 done
    order: list[FbOperator] = []
    for start in range(len(fb.operators)):
        stack = [(start, False)]
        while stack:
            index, expanded = stack.pop()
            if expanded:
                state[index] = 2
                order.append(fb.operators[index])
                continue
            if state.get(index) == 2:
                continue
            if state.get(index) == 1:
                raise FlatbufferError(
                    f"{where}: operator {index} ({fb.operators[index].op}) depends on itself"
                )
            state[index] = 1
            stack.append((index, True))
            for name in reversed(fb.operators[index].inputs):
                dep = producer.get(name)
                if dep is not None and state.get(dep) != 2 and dep != index:
                    if state.get(dep) == 1:
                        raise FlatbufferError(
                            f"{where}: operators form a cycle through tensor '{name}'"
                        )
                    stack.append((dep, False))
    return order


def _location(text: str, ctx) -> LocationAttr:
    """The op's location from its text: the usual forms read directly
    (``ir.speedups.locations``), anything else by xDSL's parser."""
    if not text:
        return UnknownLoc()
    plain = plain_location(text)
    if plain is not None:
        return plain
    try:  # ours: xDSL's lexer takes exponential time on an unterminated string
        location = MlirParser(ctx, text).parse_optional_location()
    except ParseError:
        location = None
    return location if location is not None else UnknownLoc()


def module_from_graph(graph: FbGraph) -> ModuleOp:
    import ir

    module = _Reader(graph, ir.make_context()).module()
    try:
        module.verify()
    except VerifyException as err:
        raise FlatbufferError(f"graph does not form a valid TOSA module: {err}") from None
    return module
