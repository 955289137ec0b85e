"""Property-based (hypothesis): generated modules round-trip, broken ones fail cleanly.

A generated module is one function applying random operators from the op table
(``tests/support/op_cases.py``) to its arguments, plus random constants (shape, element type,
bytes) added to an argument of their type. For every such module:

- print -> parse -> print gives the same text (with and without locations);
- IR -> flatbuffer -> IR gives the same graph, and writing it again the same bytes;
- a careless edit of its text (``tests/support/mutations.py``) gives a module or one positioned
  ``IRParseError``/``VerificationError``; corrupted flatbuffer bytes a module or a
  ``FlatbufferError``, never another exception.

Runs are derandomized (the same examples every run) and keep no example database.
"""

from __future__ import annotations

import random

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from xdsl.dialects.builtin import Float16Type, Float32Type, IntegerType, ModuleOp, TensorType
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region

import ir
from ir.builders import const, const_shape
from ir.dialects import tosa_ext as tosa
from tests.support.ir_compare import assert_same_graph
from tests.support.mutations import flatbuffer_outcome, mutate, mutate_bytes, outcome
from tests.support.op_cases import CASES, case_op, parse_type
from tosa_flatbuffer import from_flatbuffer, to_flatbuffer

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: element types of generated constants: numpy dtype, IR type, the op that adds two
_ELEMENTS = {
    "i8": (np.int8, IntegerType(8), None),
    "i16": (np.int16, IntegerType(16), None),
    "i32": (np.int32, IntegerType(32), tosa.AddOp),
    "f16": (np.float16, Float16Type(), None),
    "f32": (np.float32, Float32Type(), tosa.AddOp),
    "i1": (np.bool_, IntegerType(1), tosa.LogicalAndOp),
}
_SHAPES = st.lists(st.integers(1, 5), min_size=0, max_size=4).map(tuple)


def _finite(dtype):
    if np.issubdtype(dtype, np.floating):
        return st.floats(
            -1e4, 1e4, width=np.finfo(dtype).bits, allow_nan=False, allow_infinity=False
        )
    return None


@st.composite
def modules(draw) -> ModuleOp:
    block = Block()
    results = []
    for name in draw(st.lists(st.sampled_from(sorted(CASES)), min_size=1, max_size=4)):
        operand_specs, result_texts, attr_text = CASES[name]
        operands = []
        for spec in operand_specs:
            if isinstance(spec, str):
                operands.append(block.insert_arg(parse_type(spec), len(block.args)))
                continue
            shape_op = const_shape(spec)
            block.add_op(shape_op)
            operands.append(shape_op.output)
        op_cls = tosa.OPS_BY_SPEC_NAME[name]
        op = case_op(op_cls, operands, result_texts, attr_text)
        block.add_op(op)
        results.extend(op.results)
    for _ in range(draw(st.integers(0, 3))):
        dtype, element, add = _ELEMENTS[draw(st.sampled_from(sorted(_ELEMENTS)))]
        array = draw(arrays(dtype, draw(_SHAPES), elements=_finite(dtype)))
        constant = const(array, element)
        block.add_op(constant)
        value = constant.output
        if add is not None:
            arg = block.insert_arg(TensorType(element, array.shape), len(block.args))
            summed = add.create(operands=[value, arg], result_types=[value.type])
            block.add_op(summed)
            value = summed.output
        results.append(value)
    block.add_op(ReturnOp(*results))
    return ModuleOp([FuncOp("main", (block.arg_types, [r.type for r in results]), Region(block))])


@SETTINGS
@given(modules())
def test_print_parse_print_is_identical(module):
    module.verify()
    for debuginfo in (False, True):
        text = ir.print_module(module, debuginfo=debuginfo)
        assert ir.print_module(ir.parse_module(text, name="gen.mlir"), debuginfo=debuginfo) == text


@SETTINGS
@given(modules())
def test_ir_flatbuffer_ir_is_identical(module):
    data = to_flatbuffer(module)
    back = from_flatbuffer(data)
    assert_same_graph(back, module, context="read back")
    assert to_flatbuffer(back) == data


@SETTINGS
@given(modules(), st.integers(0, 2**32 - 1))
def test_mutated_text_gives_a_module_or_one_positioned_error(module, seed):
    _, text = mutate(ir.print_module(module, debuginfo=seed % 2 == 0), random.Random(seed))
    found = outcome(text, "gen.mlir")
    assert found.kind in ("ok", "error"), (found, text)


@SETTINGS
@given(modules(), st.integers(0, 2**32 - 1))
def test_mutated_flatbuffer_gives_a_module_or_a_flatbuffer_error(module, seed):
    found = flatbuffer_outcome(mutate_bytes(to_flatbuffer(module), random.Random(seed)))
    assert found.kind in ("ok", "error"), found
