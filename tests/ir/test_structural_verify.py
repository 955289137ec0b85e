"""The structural verifier rejects malformed ops, naming the op and the broken rule.

One case per op family: each mutates a well-formed case (tests/support/op_cases.py) in exactly
one way, so the same case without the mutation verifies (checked too).
"""

import pytest
from xdsl.utils.exceptions import VerifyException

from ir.dialects import tosa_ext as tosa
from tests.support.op_cases import CASES, build_case_module

# family -> (operator, operand/result/attr override, expected rule, expected words)
BROKEN = {
    "elementwise-binary": (
        "ADD",
        {"operands": ["tensor<2x3xi32>", "tensor<2x3xi8>"]},
        "element-type",
        "input2",
    ),
    "broadcast": (
        "SUB",
        {"operands": ["tensor<2x3xf32>", "tensor<4x3xf32>"]},
        "broadcast",
        "dimension 0",
    ),
    "elementwise-unary": ("ABS", {"results": ["tensor<3x2xf32>"]}, "shape", "result shape"),
    "tensor (conv rank)": (
        "CONV2D",
        {
            "operands": [
                "tensor<8x8x4xf32>",
                "tensor<2x1x1x4xf32>",
                "tensor<2xf32>",
                "tensor<1xf32>",
                "tensor<1xf32>",
            ]
        },
        "rank",
        "input must have rank 4",
    ),
    "tensor (zero point type)": (
        "AVG_POOL2D",
        {"operands": ["tensor<1x8x8x4xf32>", "tensor<1xf16>", "tensor<1xf32>"]},
        "element-type",
        "input_zp",
    ),
    # (multiplier type vs scale32 is ir.verify's rescale-scale32 rule, reported with the others)
    "type-conversion": (
        "RESCALE",
        {
            "operands": [
                "tensor<2x3xi32>",
                "tensor<2xi32>",
                "tensor<1xi8>",
                "tensor<1xi32>",
                "tensor<1xi8>",
            ]
        },
        "shape",
        "multiplier and shift lengths differ",
    ),
    "reduction": ("REDUCE_SUM", {"attrs": "{axis = 2 : i32}"}, "axis", "out of range"),
    "data-layout": (
        "TRANSPOSE",
        {"attrs": "{perms = array<i32: 1, 1>}"},
        "perms",
        "not a permutation",
    ),
    "data-layout (shape operand)": (
        "RESHAPE",
        {"operands": ["tensor<2x3xf32>", [6]]},
        "shape",
        "shape operand rank",
    ),
    "activation": (
        "CLAMP",
        {"attrs": "{max_val = 6.0 : f32, min_val = 0.0 : f32}"},
        "attribute-type",
        "min_val/max_val",
    ),
    "comparison (fixed type)": (
        "SELECT",
        {"operands": ["tensor<2x3xi8>", "tensor<2x3xf32>", "tensor<2x3xf32>"]},
        "element-type",
        "input1 must have element type i1",
    ),
    "elementwise-binary (mul shift)": (
        "MUL",
        {"operands": ["tensor<2x3xi8>", "tensor<2x3xi8>", "tensor<1xi32>"]},
        "element-type",
        "shift must have element type i8",
    ),
    "data-node": ("CONST", {"results": ["tensor<2x3xi32>"]}, "element-type", "values type"),
    "shape": ("CONST_SHAPE", {"results": ["!tosa.shape<3>"]}, "shape", "!tosa.shape<3>"),
    "comparison": (
        "GREATER",
        {"operands": ["tensor<2x3xi32>", "tensor<2x3xf32>"]},
        "element-type",
        "input2 element type f32",
    ),
    "scatter-gather": (
        "GATHER",
        {"operands": ["tensor<5x3xf32>", "tensor<1x2xi32>"]},
        "rank",
        "values must have rank 3",
    ),
    "image": (
        "RESIZE",
        {"operands": ["tensor<8x8x4xf32>", [2, 1, 2, 1], [0, 0], [1, 1]]},
        "rank",
        "input must have rank 4",
    ),
    "custom": (
        "CUSTOM",
        {"attrs": '{domain_name = "d", operator_name = "o"}'},
        "structure",
        "implementation_attrs",
    ),
    "operand count": (
        "TABLE",
        {"operands": ["tensor<2x3xi8>"]},
        "structure",
        "Expected 2 operands",
    ),
}


def _mutated(spec_name: str, change: dict):
    operands, results, attrs = CASES[spec_name]
    saved = CASES[spec_name]
    CASES[spec_name] = (
        change.get("operands", operands),
        change.get("results", results),
        change.get("attrs", attrs),
    )
    try:
        return build_case_module(spec_name)
    finally:
        CASES[spec_name] = saved


@pytest.mark.parametrize("family", sorted(BROKEN))
def test_structural_verifier_rejects(family):
    spec_name, change, rule, words = BROKEN[family]
    build_case_module(spec_name).verify()  # the unmutated case is fine
    module = _mutated(spec_name, change)
    with pytest.raises(VerifyException) as info:
        module.verify()
    message = str(info.value)
    op_name = tosa.OPS_BY_SPEC_NAME[spec_name].name
    assert f"'{op_name}' op [{rule}]" in message
    assert words in message


def test_control_flow_region_must_yield_result_types():
    module = build_case_module("COND_IF")
    if_op = next(op for op in module.walk() if isinstance(op, tosa.IfOp))
    yield_op = if_op.else_graph.blocks.first.last_op
    yield_op.operands = [
        if_op.else_graph.blocks.first.args[0],
        if_op.else_graph.blocks.first.args[1],
    ]
    with pytest.raises(
        VerifyException, match=r"'tosa.cond_if' op \[region\] else region must yield"
    ):
        module.verify()


def test_parse_errors_name_file_line_and_column():
    import ir

    with pytest.raises(ir.IRParseError, match=r"model\.mlir:3:1"):
        ir.parse_module("func.func @f() {\n  %0 = tosa.abs : \n}", name="model.mlir")


def test_unknown_enum_value_is_a_clear_parse_error():
    import ir

    text = """func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {
  %0 = tosa.maximum %a, %a {nan_mode = SOMETIMES} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}"""
    with pytest.raises(ir.IRParseError, match="'SOMETIMES' is not a valid nan_mode"):
        ir.parse_module(text, name="m.mlir")


def test_variable_read_must_use_the_declared_type():
    from xdsl.dialects.builtin import TensorType, i8

    from ir.dialects import tosa_ext as t

    module = build_case_module("VARIABLE_READ")
    module.verify()
    read = next(op for op in module.walk() if isinstance(op, t.VariableReadOp))
    read.results[0]._type = TensorType(i8, [3, 2])
    with pytest.raises(VerifyException, match=r"'tosa.variable_read' op \[variable-type\] @state"):
        module.verify()
