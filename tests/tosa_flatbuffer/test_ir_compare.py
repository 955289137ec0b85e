"""The structural comparator of tests/support/ir_compare.py on a real ExecuTorch graph.

ExampleCNN is quantized (uint8 IO) and lowered once by ExecuTorch's own flow; its
flatbuffer, read by ``tosa-opt --tosa-deserialize``, is parsed into two independent
modules. Equal graphs must compare equal however their constants are placed and whatever
discardable attributes they carry; each mutation must be reported, naming the op.
"""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects.builtin import (
    DenseArrayBase,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    StringAttr,
    TensorType,
    i64,
)
from xdsl.dialects.func import FuncOp
from xdsl.ir import Operation
from xdsl.rewriter import InsertPoint, Rewriter

import ir
from ir.builders import const, numpy_from_dense
from ir.mlir_tools import deserialize_with_tosa_opt
from tests.support.ir_compare import CONST_OPS, assert_same_graph, graph_differences, op_histogram


@pytest.fixture(scope="session")
def example_text(tmp_path_factory) -> str:
    """tosa-opt's MLIR of ExampleCNN's single INT (uint8 IO) partition."""
    from drivers.example import ExampleCNN, example_inputs
    from tests.support import zoo

    case = zoo.ZooCase("example_cnn", ExampleCNN, example_inputs, ("int-uint8-io",))
    (flatbuffer,) = zoo.executorch_tosa_flatbuffers(case, "int-uint8-io")
    folder = tmp_path_factory.mktemp("ir_compare")
    (folder / "partition0.tosa").write_bytes(flatbuffer)
    return deserialize_with_tosa_opt(folder / "partition0.tosa", folder / "partition0.mlir")


@pytest.fixture
def theirs(example_text) -> ModuleOp:
    return ir.parse_module(example_text, name="theirs.mlir")


@pytest.fixture
def ours(example_text) -> ModuleOp:
    return ir.parse_module(example_text, name="ours.mlir")


# --------------------------------------------------------------------------- helpers


def _func(module: ModuleOp) -> FuncOp:
    return next(op for op in module.ops if isinstance(op, FuncOp))


def _non_const(module: ModuleOp) -> list[Operation]:
    """The comparator's sequence: non-constant ops in walk order, return left out."""
    func = _func(module)
    return [
        op
        for op in func.walk()
        if op is not func and op.name not in CONST_OPS and op.name != "func.return"
    ]


def _first(module: ModuleOp, name: str, where=lambda op: True) -> tuple[int, Operation]:
    for index, op in enumerate(_non_const(module)):
        if op.name == name and where(op):
            return index, op
    raise LookupError(f"no {name} in the module")


def _consts_before_first_user(module: ModuleOp) -> int:
    """Move each constant of a block right before the first op of that block that uses
    it (directly or inside its regions); return how many moved."""
    moved = 0
    for block in [b for op in module.walk() for r in op.regions for b in r.blocks]:
        placed: set[Operation] = set()
        for op in list(block.ops):
            if op.name in CONST_OPS:
                continue
            for inner in op.walk():
                for operand in inner.operands:
                    owner = operand.owner
                    if (
                        isinstance(owner, Operation)
                        and owner.name in CONST_OPS
                        and owner.parent is block
                        and owner not in placed
                    ):
                        owner.detach()
                        block.insert_op_before(owner, op)
                        placed.add(owner)
                        moved += 1
    return moved


def _bool(value: bool) -> IntegerAttr:
    return IntegerAttr(int(value), IntegerType(1))


# --------------------------------------------------------------------------- equal


def test_the_example_has_the_ops_the_mutations_need(theirs):
    counts = op_histogram(theirs)
    assert counts["tosa.conv2d"] >= 1 and counts["tosa.add"] == 1
    assert counts["tosa.rescale"] >= 4 and counts["tosa.const"] > 20
    assert counts["func.func"] == 1 and counts["func.return"] == 1


def test_two_parses_are_the_same_graph(ours, theirs):
    assert graph_differences(ours, theirs) is None
    assert_same_graph(ours, theirs, context="two parses")


def test_constants_moved_before_their_first_user_are_the_same_graph(ours, theirs):
    before = ir.print_module(ours)
    assert _consts_before_first_user(ours) > 20
    ours.verify()
    assert ir.print_module(ours) != before  # the constants did move
    # Every constant is now used by the first non-constant op after it.
    ops = list(_func(ours).body.block.ops)
    for position, op in enumerate(ops):
        if op.name in CONST_OPS:
            user = next(o for o in ops[position:] if o.name not in CONST_OPS)
            assert op.results[0] in user.operands
    assert_same_graph(ours, theirs)


def test_discardable_attributes_and_defaults_do_not_count(ours, theirs):
    for index, op in enumerate(_func(ours).walk()):
        op.attributes["tosa.tensor_name"] = StringAttr(f"tensor_{index}")
    func = _func(ours)
    func.arg_attrs = None
    func.res_attrs = None
    # A defaulted property spelled out on one side only is the same property.
    _, pool = _first(ours, "tosa.avg_pool2d")
    if "nan_mode" in type(pool).get_irdl_definition().properties:
        default = type(pool).get_irdl_definition().properties["nan_mode"].default_value
        pool.properties["nan_mode"] = default
    assert_same_graph(ours, theirs)


def test_a_shared_constant_may_be_duplicated_per_user(ours, theirs):
    """Constants are compared by value: one zero point per user equals a shared one."""
    duplicated = 0
    for op in list(_func(ours).walk()):
        if op.name != "tosa.const":
            continue
        uses = list(op.results[0].uses)
        if len(uses) < 2:
            continue
        for use in uses[1:]:
            copy = op.clone()
            Rewriter.insert_op(copy, InsertPoint.before(use.operation))
            use.operation.operands[use.index] = copy.results[0]
            duplicated += 1
    assert_same_graph(ours, theirs)
    if duplicated == 0:
        pytest.skip("no shared constant in this graph")


# --------------------------------------------------------------------------- mutations


def test_a_changed_constant_value_is_reported(ours, theirs):
    index, conv = _first(ours, "tosa.conv2d")
    weight = conv.operands[1].owner
    values = numpy_from_dense(weight.properties["values"]).copy()
    values.reshape(-1)[5] ^= 1
    replacement = const(values, weight.results[0].type.element_type)
    Rewriter.insert_op(replacement, InsertPoint.before(weight))
    conv.operands[1] = replacement.results[0]
    with pytest.raises(AssertionError) as failure:
        assert_same_graph(ours, theirs, context="weights")
    message = str(failure.value)
    assert message.startswith("weights: graphs differ: function @main: ")
    assert f"op #{index} differs" in message and "tosa.conv2d" in message
    assert "operand 1: constant values differ in 1 of 216 elements" in message
    assert "first at (0, 0, 1, 2)" in message


def test_changed_constant_type_is_reported(ours, theirs):
    _, rescale = _first(ours, "tosa.rescale")
    zp = rescale.operands[3].owner
    values = numpy_from_dense(zp.properties["values"]).astype(np.int32)
    replacement = const(values, IntegerType(32))
    Rewriter.insert_op(replacement, InsertPoint.before(zp))
    rescale.operands[3] = replacement.results[0]
    with pytest.raises(
        AssertionError, match=r"op #0 differs.*tosa.rescale.*\n.*operand 3: constant type"
    ):
        assert_same_graph(ours, theirs)


def test_swapped_operands_are_reported(ours, theirs):
    index, add = _first(ours, "tosa.add")
    assert add.operands[0] is not add.operands[1]
    add.operands[0], add.operands[1] = add.operands[1], add.operands[0]
    with pytest.raises(
        AssertionError, match=rf"op #{index} differs.*tosa\.add.*\n\s*operand 0: ours"
    ):
        assert_same_graph(ours, theirs)


def test_a_changed_conv_pad_is_reported(ours, theirs):
    index, conv = _first(ours, "tosa.conv2d")
    conv.properties["pad"] = DenseArrayBase.from_list(i64, [0, 0, 0, 0])
    with pytest.raises(AssertionError) as failure:
        assert_same_graph(ours, theirs)
    message = str(failure.value)
    assert f"op #{index} differs" in message and "property 'pad'" in message
    assert "0, 0, 0, 0" in message and "1, 1, 1, 1" in message


def test_a_changed_result_type_is_reported(ours, theirs):
    index, conv = _first(ours, "tosa.conv2d")
    old = conv.results[0].type
    new = TensorType(IntegerType(48), old.get_shape())
    Rewriter.replace_value_with_new_type(conv.results[0], new)
    with pytest.raises(
        AssertionError, match=rf"op #{index} differs.*\n\s*result types: .*i48.* vs theirs .*i32"
    ):
        assert_same_graph(ours, theirs)


def test_a_changed_rescale_flag_is_reported(ours, theirs):
    index, rescale = _first(ours, "tosa.rescale", lambda op: op.input_unsigned.value.data)
    rescale.properties["input_unsigned"] = _bool(False)
    with pytest.raises(
        AssertionError, match=rf"op #{index} differs.*\n\s*property 'input_unsigned'"
    ):
        assert_same_graph(ours, theirs)


def test_an_extra_op_is_reported(ours, theirs):
    index, add = _first(ours, "tosa.add")
    Rewriter.insert_op(add.clone(), InsertPoint.after(add))
    with pytest.raises(AssertionError, match=rf"op #{index + 1} differs.*ours .*tosa\.add"):
        assert_same_graph(ours, theirs)


def test_an_extra_trailing_op_is_reported_with_the_histogram(ours, theirs):
    func = _func(ours)
    last = [op for op in func.body.block.ops if op.name not in CONST_OPS][-2]
    Rewriter.insert_op(last.clone(), InsertPoint.before(func.body.block.last_op))
    with pytest.raises(AssertionError, match=rf"only in ours \({last.name} \d+ vs \d+\)"):
        assert_same_graph(ours, theirs)


def test_a_changed_return_operand_is_reported(ours, theirs):
    ret = _func(ours).body.block.last_op
    result_type = ret.operands[0].type
    zeros = const(np.zeros(result_type.get_shape(), np.int8), result_type.element_type)
    Rewriter.insert_op(zeros, InsertPoint.before(ret))
    ret.operands[0] = zeros.results[0]
    with pytest.raises(
        AssertionError,
        match=r"return operand 0: ours %\d+ \(tosa.const .* vs theirs %\d+ \(result 0 of op #\d+ tosa.rescale\)",
    ):
        assert_same_graph(ours, theirs)


def test_a_changed_signature_is_reported(ours, theirs):
    func = _func(ours)
    arg = func.body.block.args[0]
    new = TensorType(IntegerType(8), [2, *arg.type.get_shape()[1:]])
    Rewriter.replace_value_with_new_type(arg, new)
    func.update_function_type()
    with pytest.raises(AssertionError, match=r"function @main: argument types: ours .*2x3x32x32"):
        assert_same_graph(ours, theirs)


# --------------------------------------------------------------------------- regions

REGION_TEXT = """
module {
  func.func @main(%arg0: tensor<1x4xf32>, %arg1: tensor<1xi1>) -> tensor<1x4xf32> {
    %0 = "tosa.const"() <{values = dense<[[1.0, 2.0, 3.0, 4.0]]> : tensor<1x4xf32>}> : () -> tensor<1x4xf32>
    %1 = tosa.clamp %arg0 {max_val = 6.0 : f32, min_val = 0.0 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32>
    %2 = tosa.cond_if %arg1 (%arg2 = %1) : tensor<1xi1> (tensor<1x4xf32>) -> tensor<1x4xf32> {
    ^bb0(%arg2: tensor<1x4xf32>):
      %3 = tosa.add %arg2, %0 : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
      tosa.yield %3 : tensor<1x4xf32>
    } else {
    ^bb0(%arg2: tensor<1x4xf32>):
      %3 = tosa.sub %arg2, %0 : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
      tosa.yield %3 : tensor<1x4xf32>
    }
    return %2 : tensor<1x4xf32>
  }
}
"""

# The same graph as ours could print it: names on arguments and ops, a default property
# spelled out, and each branch with its own copy of the constant.
REGION_TEXT_OURS = """
module {
  func.func @main(%arg0: tensor<1x4xf32> {tosa.tensor_name = "x"}, %arg1: tensor<1xi1>) -> tensor<1x4xf32> {
    %1 = tosa.clamp %arg0 {max_val = 6.0 : f32, min_val = 0.0 : f32, nan_mode = PROPAGATE, tosa.tensor_name = "clamp"} : (tensor<1x4xf32>) -> tensor<1x4xf32>
    %2 = tosa.cond_if %arg1 (%arg2 = %1) : tensor<1xi1> (tensor<1x4xf32>) -> tensor<1x4xf32> {
    ^bb0(%arg2: tensor<1x4xf32>):
      %0 = "tosa.const"() <{values = dense<[[1.0, 2.0, 3.0, 4.0]]> : tensor<1x4xf32>}> : () -> tensor<1x4xf32>
      %3 = tosa.add %arg2, %0 {tosa.tensor_name = "add"} : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
      tosa.yield %3 : tensor<1x4xf32>
    } else {
    ^bb0(%arg2: tensor<1x4xf32>):
      %0 = "tosa.const"() <{values = dense<[[1.0, 2.0, 3.0, 4.0]]> : tensor<1x4xf32>}> : () -> tensor<1x4xf32>
      %3 = tosa.sub %arg2, %0 : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
      tosa.yield %3 : tensor<1x4xf32>
    }
    return %2 : tensor<1x4xf32>
  }
}
"""


def test_region_graphs_compare_through_constants_names_and_defaults():
    theirs = ir.parse_module(REGION_TEXT)
    ours = ir.parse_module(REGION_TEXT_OURS)
    assert [op.name for op in _non_const(ours)] == [
        "tosa.clamp",
        "tosa.cond_if",
        "tosa.add",
        "tosa.yield",
        "tosa.sub",
        "tosa.yield",
    ]
    assert_same_graph(ours, theirs)
    assert_same_graph(theirs, ours)


def test_a_non_default_nan_mode_is_reported():
    theirs = ir.parse_module(REGION_TEXT)
    ours = ir.parse_module(REGION_TEXT_OURS.replace("nan_mode = PROPAGATE", "nan_mode = IGNORE"))
    with pytest.raises(
        AssertionError, match=r"op #0 differs.*tosa.clamp.*\n\s*property 'nan_mode': ours .*IGNORE"
    ):
        assert_same_graph(ours, theirs)


def test_an_outer_value_instead_of_the_region_argument_is_reported():
    theirs = ir.parse_module(REGION_TEXT)
    ours = ir.parse_module(REGION_TEXT_OURS.replace("tosa.sub %arg2", "tosa.sub %1"))
    with pytest.raises(AssertionError) as failure:
        assert_same_graph(ours, theirs)
    message = str(failure.value)
    assert "op #4 differs" in message and "tosa.sub" in message
    assert "operand 0: ours %0 (result 0 of op #0 tosa.clamp)" in message
    assert "theirs %arg2 (region 1 argument 0 of op #1, depth 1)" in message


def test_a_changed_constant_inside_a_region_is_reported():
    theirs = ir.parse_module(REGION_TEXT)
    text = REGION_TEXT_OURS.replace("[[1.0, 2.0, 3.0, 4.0]]", "[[1.0, 2.0, -3.0, 4.0]]", 1)
    ours = ir.parse_module(text)
    with pytest.raises(
        AssertionError, match=r"op #2 differs.*tosa.add.*\n.*operand 1: .*first at \(0, 2\)"
    ):
        assert_same_graph(ours, theirs)


def test_swapped_branches_are_reported():
    theirs = ir.parse_module(REGION_TEXT)
    ours = ir.parse_module(
        REGION_TEXT.replace("tosa.add", "tosa.TMP")
        .replace("tosa.sub", "tosa.add")
        .replace("tosa.TMP", "tosa.sub")
    )
    with pytest.raises(
        AssertionError, match=r"op #2 differs.*\n\s*op name: ours tosa.sub vs theirs tosa.add"
    ):
        assert_same_graph(ours, theirs)
