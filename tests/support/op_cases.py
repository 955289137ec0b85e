"""One well-formed instance of every TOSA 1.0 operator and of the TOSA 1.1 operators the
dialect has (block-scaled MXFP), as data.

Each case: operand types (a list of ints is a ``tosa.const_shape`` operand with those
values), result types, and the attribute dictionary in MLIR syntax. ``build_case_module``
turns a case into a module with real op objects; tests print, parse and compare it.
Control flow and variables need regions/symbols and are built by hand below.
"""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp, TensorType, i1
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region
from xdsl.parser import Parser

import ir
from ir.builders import const_shape
from ir.dialects import tosa_ext as tosa
from ir.dialects.syntax import parse_attr_dict

F = "tensor<2x3xf32>"
I32 = "tensor<2x3xi32>"
I8 = "tensor<2x3xi8>"
B = "tensor<2x3xi1>"
NHWC = "tensor<1x8x8x4xf32>"
ZF = "tensor<1xf32>"
ACC = "acc_type = f32"

CASES: dict[str, tuple[list, list[str], str]] = {
    "ARGMAX": ([F], ["tensor<3xi32>"], "{axis = 0 : i32}"),
    "AVG_POOL2D": (
        [NHWC, ZF, ZF],
        ["tensor<1x4x4x4xf32>"],
        f"{{{ACC}, kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>}}",
    ),
    "CONV2D": (
        [NHWC, "tensor<2x1x1x4xf32>", "tensor<2xf32>", ZF, ZF],
        ["tensor<1x8x8x2xf32>"],
        f"{{{ACC}, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>}}",
    ),
    "CONV3D": (
        ["tensor<1x4x8x8x4xf32>", "tensor<2x1x1x1x4xf32>", "tensor<2xf32>", ZF, ZF],
        ["tensor<1x4x8x8x2xf32>"],
        f"{{{ACC}, dilation = array<i64: 1, 1, 1>, pad = array<i64: 0, 0, 0, 0, 0, 0>, stride = array<i64: 1, 1, 1>}}",
    ),
    "DEPTHWISE_CONV2D": (
        [NHWC, "tensor<1x1x4x1xf32>", "tensor<4xf32>", ZF, ZF],
        [NHWC],
        f"{{{ACC}, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>}}",
    ),
    "FFT2D": (["tensor<1x8x8xf32>"] * 2, ["tensor<1x8x8xf32>"] * 2, "{inverse = false}"),
    "MATMUL": (["tensor<1x2x3xf32>", "tensor<1x3x2xf32>", ZF, ZF], ["tensor<1x2x2xf32>"], ""),
    "MAX_POOL2D": (
        [NHWC],
        ["tensor<1x4x4x4xf32>"],
        "{kernel = array<i64: 2, 2>, nan_mode = IGNORE, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>}",
    ),
    "RFFT2D": (["tensor<1x8x8xf32>"], ["tensor<1x8x5xf32>"] * 2, "{local_bound = true}"),
    "TRANSPOSE_CONV2D": (
        [NHWC, "tensor<2x1x1x4xf32>", "tensor<2xf32>", ZF, ZF],
        ["tensor<1x8x8x2xf32>"],
        f"{{{ACC}, out_pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>}}",
    ),
    "CLAMP": ([I8], [I8], "{max_val = 6 : i8, min_val = -3 : i8}"),
    "ERF": ([F], [F], ""),
    "SIGMOID": ([F], [F], ""),
    "TANH": ([F], [F], ""),
    "ADD": ([I32, "tensor<1x3xi32>"], [I32], ""),
    "ARITHMETIC_RIGHT_SHIFT": ([I32, I32], [I32], "{round = true}"),
    "BITWISE_AND": ([I32, I32], [I32], ""),
    "BITWISE_OR": ([I32, I32], [I32], ""),
    "BITWISE_XOR": ([I32, I32], [I32], ""),
    "INTDIV": ([I32, I32], [I32], ""),
    "LOGICAL_AND": ([B, B], [B], ""),
    "LOGICAL_LEFT_SHIFT": ([I32, I32], [I32], ""),
    "LOGICAL_RIGHT_SHIFT": ([I32, I32], [I32], ""),
    "LOGICAL_OR": ([B, B], [B], ""),
    "LOGICAL_XOR": ([B, B], [B], ""),
    "MAXIMUM": ([F, F], [F], "{nan_mode = IGNORE}"),
    "MINIMUM": ([F, F], [F], ""),
    "MUL": ([I8, I8, "tensor<1xi8>"], [I32], ""),
    "POW": ([F, F], [F], ""),
    "SUB": ([F, F], [F], ""),
    "TABLE": ([I8, "tensor<256xi8>"], [I8], ""),
    "ABS": ([F], [F], ""),
    "BITWISE_NOT": ([I32], [I32], ""),
    "CEIL": ([F], [F], ""),
    "CLZ": ([I32], [I32], ""),
    "COS": ([F], [F], ""),
    "EXP": ([F], [F], ""),
    "FLOOR": ([F], [F], ""),
    "LOG": ([F], [F], ""),
    "LOGICAL_NOT": ([B], [B], ""),
    "NEGATE": ([I8, "tensor<1xi8>", "tensor<1xi8>"], [I8], ""),
    "RECIPROCAL": ([F], [F], ""),
    "RSQRT": ([F], [F], ""),
    "SIN": ([F], [F], ""),
    "SELECT": ([B, F, F], [F], ""),
    "EQUAL": ([F, F], [B], ""),
    "GREATER": ([I32, I32], [B], ""),
    "GREATER_EQUAL": ([F, F], [B], ""),
    "REDUCE_ALL": ([B], ["tensor<1x3xi1>"], "{axis = 0 : i32}"),
    "REDUCE_ANY": ([B], ["tensor<2x1xi1>"], "{axis = 1 : i32}"),
    "REDUCE_MAX": ([F], ["tensor<1x3xf32>"], "{axis = 0 : i32, nan_mode = IGNORE}"),
    "REDUCE_MIN": ([F], ["tensor<1x3xf32>"], "{axis = 0 : i32}"),
    "REDUCE_PRODUCT": ([F], ["tensor<1x3xf32>"], "{axis = 0 : i32}"),
    "REDUCE_SUM": ([I32], ["tensor<1x3xi32>"], "{axis = 0 : i32}"),
    "CONCAT": ([F, F, F], ["tensor<6x3xf32>"], "{axis = 0 : i32}"),
    "PAD": ([F, [0, 0, 1, 1], ZF], ["tensor<2x5xf32>"], ""),
    "RESHAPE": ([F, [3, 2]], ["tensor<3x2xf32>"], ""),
    "REVERSE": ([F], [F], "{axis = 1 : i32}"),
    "SLICE": ([F, [0, 1], [2, 2]], ["tensor<2x2xf32>"], ""),
    "TILE": ([F, [2, 1]], ["tensor<4x3xf32>"], ""),
    "TRANSPOSE": ([F], ["tensor<3x2xf32>"], "{perms = array<i32: 1, 0>}"),
    "GATHER": (["tensor<1x5x3xf32>", "tensor<1x2xi32>"], ["tensor<1x2x3xf32>"], ""),
    "SCATTER": (
        ["tensor<1x5x3xf32>", "tensor<1x2xi32>", "tensor<1x2x3xf32>"],
        ["tensor<1x5x3xf32>"],
        "",
    ),
    "RESIZE": (
        [NHWC, [2, 1, 2, 1], [0, 0], [1, 1]],
        ["tensor<1x16x16x4xf32>"],
        "{mode = BILINEAR}",
    ),
    "CAST": ([F], [I32], ""),
    "RESCALE": (
        [I32, "tensor<1xi32>", "tensor<1xi8>", "tensor<1xi32>", "tensor<1xi8>"],
        [I8],
        "{input_unsigned = false, output_unsigned = false, per_channel = false, rounding_mode = DOUBLE_ROUND, scale32 = true}",
    ),
    "CONST": ([], ["tensor<2x3xi8>"], "{values = dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>}"),
    "IDENTITY": ([F], [F], ""),
    "CUSTOM": (
        [F, I8],
        [F, I8],
        '{domain_name = "mydomain", implementation_attrs = "{}", operator_name = "myop"}',
    ),
    "CONST_SHAPE": ([], ["!tosa.shape<4>"], "{values = dense<[1, 2, 3, 4]> : tensor<4xindex>}"),
    # TOSA 1.1 (what ExecuTorch 1.5.1 writes under TOSA-1.1+FP+mxfp)
    "CONV2D_BLOCK_SCALED": (
        [
            "tensor<1x4x4x32xf8E4M3FN>",
            "tensor<1x4x4x1xf8E8M0FNU>",
            "tensor<2x1x1x32xf8E4M3FN>",
            "tensor<2x1x1x1xf8E8M0FNU>",
            "tensor<2xf32>",
            [0, 0, 0, 0],
            [1, 1],
            [1, 1],
        ],
        ["tensor<1x4x4x2xf32>"],
        "{block_size = BLOCK_SIZE_32}",
    ),
    "MATMUL_T_BLOCK_SCALED": (
        [
            "tensor<1x2x32xf8E5M2>",
            "tensor<1x2x1xf8E8M0FNU>",
            "tensor<1x3x32xf8E5M2>",
            "tensor<1x3x1xf8E8M0FNU>",
        ],
        ["tensor<1x2x3xf32>"],
        "{block_size = BLOCK_SIZE_32}",
    ),
    "CAST_TO_BLOCK_SCALED": (
        ["tensor<2x64xf32>"],
        ["tensor<2x64xf4E2M1FN>", "tensor<2x2xf8E8M0FNU>"],
        "{block_size = BLOCK_SIZE_32}",
    ),
    "CAST_FROM_BLOCK_SCALED": (
        ["tensor<2x64xf6E3M2FN>", "tensor<2x2xf8E8M0FNU>"],
        ["tensor<2x64xf32>"],
        "{block_size = BLOCK_SIZE_32}",
    ),
}

#: operators built by hand (regions or symbols); the remaining ones come from CASES
HAND_BUILT = ("COND_IF", "WHILE_LOOP", "VARIABLE", "VARIABLE_READ", "VARIABLE_WRITE")


def _parser(text: str) -> Parser:
    return Parser(ir.make_context(), text)


def parse_type(text: str):
    return _parser(text).parse_type()


def parse_props(text: str, op_cls) -> tuple[dict, dict]:
    if not text:
        return {}, {}
    return parse_attr_dict(_parser(text), op_cls)


def case_op(op_cls, operands, result_texts, attr_text: str):
    """An op of ``op_cls`` on ``operands``, its result types and attributes from a case's text."""
    props, attrs = parse_props(attr_text, op_cls)
    return op_cls.create(
        operands=operands,
        result_types=[parse_type(t) for t in result_texts],
        properties=props,
        attributes=attrs,
    )


def build_case_module(spec_name: str) -> ModuleOp:
    """A module with one function that applies the op of ``spec_name`` to its arguments."""
    if spec_name in HAND_BUILT:
        return _HAND_BUILDERS[spec_name]()
    operand_specs, result_texts, attr_text = CASES[spec_name]
    op_cls = tosa.OPS_BY_SPEC_NAME[spec_name]
    arg_types = [parse_type(t) for t in operand_specs if isinstance(t, str)]
    block = Block(arg_types=arg_types)
    args = iter(block.args)
    operands = []
    for spec in operand_specs:
        if isinstance(spec, str):
            operands.append(next(args))
            continue
        shape_op = const_shape(spec)
        block.add_op(shape_op)
        operands.append(shape_op.output)
    op = case_op(op_cls, operands, result_texts, attr_text)
    block.add_op(op)
    block.add_op(ReturnOp(*op.results))
    return _module_of(block, [r.type for r in op.results])


def _module_of(block: Block, result_types, extra_ops=()) -> ModuleOp:
    func = FuncOp("case", (block.arg_types, result_types), Region(block))
    return ModuleOp([*extra_ops, func])


def _build_cond_if() -> ModuleOp:
    t = parse_type("tensor<4xi32>")
    block = Block(arg_types=[TensorType(i1, []), t, t])
    cond, x, y = block.args
    branches = []
    for op_cls in (tosa.AddOp, tosa.SubOp):
        body = Block(arg_types=[t, t])
        inner = op_cls.create(operands=list(body.args), result_types=[t])
        body.add_ops([inner, tosa.YieldOp.create(operands=[inner.output])])
        branches.append(Region(body))
    if_op = tosa.IfOp.create(operands=[cond, x, y], result_types=[t], regions=branches)
    block.add_ops([if_op, ReturnOp(if_op.results[0])])
    return _module_of(block, [t])


def _build_while_loop() -> ModuleOp:
    it, t = parse_type("tensor<i32>"), parse_type("tensor<4xi32>")
    block = Block(arg_types=[it, t])
    cond_block = Block(arg_types=[it, t])
    limit = ir.builders.const(__import__("numpy").array(10, dtype="int32"), it.element_type)
    greater = tosa.GreaterOp.create(
        operands=[limit.output, cond_block.args[0]], result_types=[TensorType(i1, [])]
    )
    cond_block.add_ops([limit, greater, tosa.YieldOp.create(operands=[greater.output])])
    body_block = Block(arg_types=[it, t])
    step = tosa.AddOp.create(operands=[body_block.args[0], body_block.args[0]], result_types=[it])
    double = tosa.AddOp.create(operands=[body_block.args[1], body_block.args[1]], result_types=[t])
    body_block.add_ops([step, double, tosa.YieldOp.create(operands=[step.output, double.output])])
    loop = tosa.WhileOp.create(
        operands=list(block.args),
        result_types=[it, t],
        regions=[Region(cond_block), Region(body_block)],
    )
    block.add_ops([loop, ReturnOp(loop.results[1])])
    return _module_of(block, [t])


def _build_variables() -> ModuleOp:
    t = parse_type("tensor<2x3xi8>")
    props, _ = parse_props(
        '{sym_name = "state", type = i8, var_shape = dense<[2, 3]> : tensor<2xindex>, '
        "initial_value = dense<0> : tensor<2x3xi8>}",
        tosa.VariableOp,
    )
    var = tosa.VariableOp.create(properties=props)
    block = Block(arg_types=[t])
    name = {"name": props["sym_name"]}
    read = tosa.VariableReadOp.create(properties=name, result_types=[t])
    total = tosa.AddOp.create(operands=[read.output1, block.args[0]], result_types=[t])
    write = tosa.VariableWriteOp.create(operands=[total.output], properties=name)
    block.add_ops([read, total, write, ReturnOp(total.output)])
    return _module_of(block, [t], extra_ops=[var])


_HAND_BUILDERS = {
    "COND_IF": _build_cond_if,
    "WHILE_LOOP": _build_while_loop,
    "VARIABLE": _build_variables,
    "VARIABLE_READ": _build_variables,
    "VARIABLE_WRITE": _build_variables,
}
