"""The operators' arithmetic ERROR_IF/REQUIRE lines (ir.verify.op_rules).

Each op has one valid case that must yield none of this module's diagnostics, and
faulted variants that each break one line; a fault must yield exactly the expected rule,
name the op, and carry the numbers the message promises. Only this module's rule ids
are looked at, so rules added elsewhere in the ``spec`` group cannot make these flaky.
"""

from __future__ import annotations

import pytest
from xdsl.dialects.builtin import ModuleOp

import ir
import ir.verify.op_rules  # registers the rules until ir.verify imports it
from ir.verify import diagnose

RULE_IDS = ("zero-point", "output-shape", "attribute-range")
SPEC = "TOSA-1.0+INT+FP+int16+fft"


def k(value: str, type_: str) -> tuple[str, str, str]:
    """A ``tosa.const`` operand: ``k("0", "tensor<1xi8>")``."""
    return ("const", value, type_)


def module(op: str, operands: list, results: str | list[str], attrs: str = "") -> ModuleOp:
    """One function applying ``op``: a ``tensor<..>`` string is a function argument, a list
    of ints a ``tosa.const_shape``, ``k(...)`` a ``tosa.const``."""
    results = [results] if isinstance(results, str) else results
    args, lines, names, types = [], [], [], []
    for i, spec in enumerate(operands):
        if isinstance(spec, str):
            args.append(f"%a{i}: {spec}")
            names.append(f"%a{i}")
            types.append(spec)
        elif isinstance(spec, list):
            shape_type = f"!tosa.shape<{len(spec)}>"
            lines.append(
                f"%c{i} = tosa.const_shape {{values = dense<{spec}> : tensor<{len(spec)}xindex>}}"
                f" : () -> {shape_type}"
            )
            names.append(f"%c{i}")
            types.append(shape_type)
        else:
            _, value, type_ = spec
            lines.append(
                f'%c{i} = "tosa.const"() <{{values = dense<{value}> : {type_}}}> : () -> {type_}'
            )
            names.append(f"%c{i}")
            types.append(type_)
    outs = ", ".join(f"%r#{i}" for i in range(len(results))) if len(results) > 1 else "%r"
    rtypes = ", ".join(results)
    lines.append(
        f"%r{':' + str(len(results)) if len(results) > 1 else ''} = tosa.{op} {', '.join(names)}"
        f" {attrs} : ({', '.join(types)}) -> ({rtypes})"
    )
    lines.append(f"return {outs} : {rtypes}")
    body = "\n  ".join(lines)
    return ir.parse_module(f"func.func @f({', '.join(args)}) -> ({rtypes}) {{\n  {body}\n}}")


#: input type -> (weight, accumulator, bias/output) of the type-support mode the tests use
MODES = {"i8": ("i8", "i32", "i32"), "i16": ("i8", "i48", "i48"), "f32": ("f32", "f32", "f32")}


def arr(values) -> str:
    return f"array<i64: {', '.join(map(str, values))}>"


def conv(
    op="conv2d",
    x="1x16x16x4",
    w="2x3x3x4",
    out="1x8x8x2",
    pad=(1, 0, 1, 0),
    stride=(2, 2),
    dilation=(1, 1),
    t="i8",
    zps=("0", "0"),
):
    wt, acc, bias = MODES[t]
    channels = out.rsplit("x", 1)[1]
    attrs = f"{{acc_type = {acc}, dilation = {arr(dilation)}, pad = {arr(pad)}, stride = {arr(stride)}}}"
    operands = [
        f"tensor<{x}x{t}>",
        k("1", f"tensor<{w}x{wt}>"),
        k("0", f"tensor<{channels}x{bias}>"),
        k(zps[0], f"tensor<1x{t}>"),
        k(zps[1], f"tensor<1x{wt}>"),
    ]
    return module(op, operands, f"tensor<{out}x{bias}>", attrs)


def transpose_conv(
    x="1x4x4x4",
    w="2x3x3x4",
    out="1x9x9x2",
    out_pad=(0, 0, 0, 0),
    stride=(2, 2),
    t="i8",
    zps=("0", "0"),
):
    wt, acc, bias = MODES[t]
    attrs = f"{{acc_type = {acc}, out_pad = {arr(out_pad)}, stride = {arr(stride)}}}"
    operands = [
        f"tensor<{x}x{t}>",
        k("1", f"tensor<{w}x{wt}>"),
        k("0", f"tensor<2x{bias}>"),
        k(zps[0], f"tensor<1x{t}>"),
        k(zps[1], f"tensor<1x{wt}>"),
    ]
    return module("transpose_conv2d", operands, f"tensor<{out}x{bias}>", attrs)


def pool(
    op="max_pool2d",
    x="1x8x8x4",
    out="1x4x4x4",
    kernel=(2, 2),
    stride=(2, 2),
    pad=(0, 0, 0, 0),
    t="i8",
    zps=("0", "0"),
):
    attrs = f"kernel = {arr(kernel)}, pad = {arr(pad)}, stride = {arr(stride)}"
    operands = [f"tensor<{x}x{t}>"]
    if op == "avg_pool2d":
        acc = "i32" if t in ("i8", "i16") else "f32"
        attrs = f"acc_type = {acc}, {attrs}"
        operands += [k(zps[0], f"tensor<1x{t}>"), k(zps[1], f"tensor<1x{t}>")]
    return module(op, operands, f"tensor<{out}x{t}>", f"{{{attrs}}}")


def resize(x="1x8x8x4", out="1x16x16x4", scale=(2, 1, 2, 1), offset=(0, 0), border=(1, 1)):
    operands = [f"tensor<{x}xf32>", list(scale), list(offset), list(border)]
    return module("resize", operands, f"tensor<{out}xf32>", "{mode = BILINEAR}")


def matmul(t="i8", zps=("0", "0")):
    out = MODES[t][2] if t != "i16" else "i48"
    operands = [
        f"tensor<1x2x3x{t}>",
        f"tensor<1x3x4x{t}>",
        k(zps[0], f"tensor<1x{t}>"),
        k(zps[1], f"tensor<1x{t}>"),
    ]
    return module("matmul", operands, f"tensor<1x2x4x{out}>")


def negate(t="i8", zps=("0", "0")):
    return module(
        "negate",
        [f"tensor<4x{t}>", k(zps[0], f"tensor<1x{t}>"), k(zps[1], f"tensor<1x{t}>")],
        f"tensor<4x{t}>",
    )


def mul(t="i32", shift="0"):
    return module(
        "mul",
        [f"tensor<2x3x{t}>", f"tensor<2x3x{t}>", k(shift, "tensor<1xi8>")],
        f"tensor<2x3x{'i32' if t.startswith('i') else t}>",
    )


F = "tensor<2x3xf32>"

# id -> (module factory, None for a valid case or (rule, message fragment))
CASES = {
    # -- zero points
    "conv2d i8 zero points": (lambda: conv(zps=("-3", "5")), None),
    "conv2d i16 input_zp": (
        lambda: conv(t="i16", zps=("7", "0")),
        ("zero-point", "input_zp 7 != 0 for i16_t"),
    ),
    "conv2d fp32 weight_zp": (
        lambda: conv(t="f32", zps=("0.0", "0.5")),
        ("zero-point", "weight_zp 0.5 != 0"),
    ),
    "conv2d i16 weight_zp is i8": (lambda: conv(t="i16", zps=("0", "-7")), None),
    "depthwise fp32 zero points": (
        lambda: conv("depthwise_conv2d", w="3x3x4x1", out="1x8x8x4", t="f32", zps=("0.0", "-0.0")),
        None,
    ),
    "transpose_conv i16 input_zp": (
        lambda: transpose_conv(t="i16", zps=("1", "0")),
        ("zero-point", "input_zp 1 != 0 for i16_t"),
    ),
    "matmul i8 zero points": (lambda: matmul(zps=("4", "-4")), None),
    # MATMUL.tosac has the typo is_same<in_t,i8_t>; the intent is !is_same
    "matmul i16 B_zp": (
        lambda: matmul(t="i16", zps=("0", "2")),
        ("zero-point", "B_zp 2 != 0 for i16_t"),
    ),
    "matmul fp32 A_zp": (
        lambda: matmul(t="f32", zps=("1.0", "0.0")),
        ("zero-point", "A_zp 1.0 != 0 for fp32_t"),
    ),
    "avg_pool2d i8 zero points": (lambda: pool("avg_pool2d", zps=("9", "-9")), None),
    "avg_pool2d i16 output_zp": (
        lambda: pool("avg_pool2d", t="i16", zps=("0", "3")),
        ("zero-point", "output_zp 3 != 0 for i16_t"),
    ),
    "negate i8 zero points": (lambda: negate(zps=("1", "2")), None),
    "negate i32 input1_zp": (
        lambda: negate(t="i32", zps=("1", "0")),
        ("zero-point", "input1_zp 1 != 0 for i32_t"),
    ),
    # -- convolution
    "conv2d valid": (lambda: conv(), None),
    "conv2d output height": (
        lambda: conv(out="1x7x8x2"),
        ("output-shape", "output height 7 != (16 - 1 + 1 + 0 - (3 - 1) * 1) / 2 + 1 = 8"),
    ),
    "conv2d inexact": (
        lambda: conv(pad=(1, 1, 1, 0)),
        (
            "output-shape",
            "height: 16 - 1 + 1 + 1 - (3 - 1) * 1 = 15 is not a multiple of stride_y 2",
        ),
    ),
    "conv2d dilation": (
        lambda: conv(x="1x16x16x4", out="1x6x8x2", pad=(1, 0, 1, 0), dilation=(2, 1)),
        ("output-shape", "output height 6 != (16 - 1 + 1 + 0 - (3 - 1) * 2) / 2 + 1 = 7"),
    ),
    "conv2d dynamic output": (lambda: conv(out="1x?x8x2"), None),
    "conv2d stride 0": (lambda: conv(stride=(0, 2)), ("attribute-range", "stride_y 0 < 1")),
    "conv2d dilation 0": (
        lambda: conv(x="1x16x16x4", out="1x8x8x2", pad=(1, 0, 1, 0), dilation=(1, 0)),
        ("attribute-range", "dilation_x 0 < 1"),
    ),
    "conv2d negative pad": (
        lambda: conv(x="1x17x16x4", pad=(-1, 1, 1, 0)),
        ("attribute-range", "pad_top -1 < 0"),
    ),
    "conv3d valid": (
        lambda: conv(
            "conv3d",
            x="1x4x8x8x4",
            w="2x1x3x3x4",
            out="1x4x8x8x2",
            pad=(0, 0, 1, 1, 1, 1),
            stride=(1, 1, 1),
            dilation=(1, 1, 1),
        ),
        None,
    ),
    "conv3d output depth": (
        lambda: conv(
            "conv3d",
            x="1x4x8x8x4",
            w="2x1x3x3x4",
            out="1x3x8x8x2",
            pad=(0, 0, 1, 1, 1, 1),
            stride=(1, 1, 1),
            dilation=(1, 1, 1),
        ),
        ("output-shape", "output depth 3 != (4 - 1 + 0 + 0 - (1 - 1) * 1) / 1 + 1 = 4"),
    ),
    "conv3d pad_d1": (
        lambda: conv(
            "conv3d",
            x="1x5x8x8x4",
            w="2x1x3x3x4",
            out="1x4x8x8x2",
            pad=(0, -1, 1, 1, 1, 1),
            stride=(1, 1, 1),
            dilation=(1, 1, 1),
        ),
        ("attribute-range", "pad_d1 -1 < 0"),
    ),
    "depthwise valid": (lambda: conv("depthwise_conv2d", w="3x3x4x1", out="1x8x8x4"), None),
    "depthwise output width": (
        lambda: conv("depthwise_conv2d", w="3x3x4x1", out="1x8x9x4"),
        ("output-shape", "output width 9 != (16 - 1 + 1 + 0 - (3 - 1) * 1) / 2 + 1 = 8"),
    ),
    "transpose_conv valid": (lambda: transpose_conv(), None),
    "transpose_conv output height": (
        lambda: transpose_conv(out="1x8x9x2"),
        ("output-shape", "output height 8 != (4 - 1) * 2 + 0 + 0 + 3 = 9"),
    ),
    "transpose_conv negative out_pad": (
        lambda: transpose_conv(out="1x9x7x2", out_pad=(0, 0, -1, -1)),
        None,
    ),
    "transpose_conv out_pad <= -KW": (
        lambda: transpose_conv(out="1x9x6x2", out_pad=(0, 0, 0, -3)),
        ("attribute-range", "out_pad_right -3 <= -KW = -3"),
    ),
    "transpose_conv stride 0": (
        lambda: transpose_conv(stride=(2, 0)),
        ("attribute-range", "stride_x 0 < 1"),
    ),
    # -- pooling
    "max_pool2d valid": (lambda: pool(), None),
    "max_pool2d output width": (
        lambda: pool(out="1x4x3x4"),
        ("output-shape", "output width 3 != (8 + 0 + 0 - 2) / 2 + 1 = 4"),
    ),
    "max_pool2d inexact": (
        lambda: pool(x="1x9x8x4"),
        ("output-shape", "output height: 9 + 0 + 0 - 2 = 7 is not a multiple of stride_y 2"),
    ),
    "max_pool2d pad >= kernel": (
        lambda: pool(x="1x6x8x4", pad=(2, 0, 0, 0)),
        ("attribute-range", "pad_top 2 >= kernel_y 2"),
    ),
    "max_pool2d kernel 0": (
        lambda: pool(out="1x5x4x4", kernel=(0, 2)),
        ("attribute-range", "kernel_y 0 < 1"),
    ),
    "avg_pool2d valid": (
        lambda: pool("avg_pool2d", x="1x7x7x4", kernel=(3, 3), pad=(1, 1, 1, 1)),
        None,
    ),
    "avg_pool2d negative pad": (
        lambda: pool("avg_pool2d", x="1x9x8x4", pad=(-1, 0, 0, 0)),
        ("attribute-range", "pad_top -1 < 0"),
    ),
    # -- resize
    "resize valid": (lambda: resize(), None),
    "resize output height": (
        lambda: resize(out="1x15x16x4"),
        ("output-shape", "output height 15 != ((8 - 1) * 2 - 0 + 1) / 1 + 1 = 16"),
    ),
    "resize inexact": (
        lambda: resize(out="1x4x16x4", scale=(1, 2, 2, 1), border=(0, 1)),
        ("output-shape", "output height: (8 - 1) * 1 - 0 + 0 = 7 is not a multiple of scale_y_d 2"),
    ),
    "resize downscale": (
        lambda: resize(x="1x33x8x4", out="1x2x16x4", scale=(1, 32, 2, 1), border=(0, 1)),
        ("attribute-range", "scale_y_d 32 >= 16 * scale_y_n = 16"),
    ),
    "resize scale 0": (
        lambda: resize(scale=(2, 1, 0, 1)),
        ("attribute-range", "scale_x_n 0 and scale_x_d 1"),
    ),
    "resize numerator": (
        lambda: resize(x="1x2x8x4", out="1x2049x16x4", scale=(4096, 2, 2, 1), border=(0, 1)),
        ("attribute-range", "scale_y_n 4096 > 2048"),
    ),
    "resize offset": (
        lambda: resize(out="1x14x16x4", offset=(-3, 0), border=(-4, 1)),
        ("attribute-range", "offset_y -3 is outside [-2, 32)"),
    ),
    "resize border": (
        lambda: resize(out="1x18x16x4", border=(3, 1)),
        ("attribute-range", "border_y 3 is outside [-32, 2)"),
    ),
    "resize image size": (
        lambda: resize(x="1x8192x8x4", out="1x16384x16x4"),
        ("attribute-range", "OH 16384 >= 16384"),
    ),
    # -- data layout
    "slice valid": (lambda: module("slice", [F, [0, 1], [2, 2]], "tensor<2x2xf32>"), None),
    "slice output": (
        lambda: module("slice", [F, [0, 1], [2, 2]], "tensor<2x1xf32>"),
        ("output-shape", "output shape 2x1, size gives 2x2"),
    ),
    "slice past end": (
        lambda: module("slice", [F, [0, 2], [2, 2]], "tensor<2x2xf32>"),
        ("attribute-range", "start[1] + size[1] = 2 + 2 > input dim 3"),
    ),
    "slice negative start": (
        lambda: module("slice", [F, [-1, 0], [2, 2]], "tensor<2x2xf32>"),
        ("attribute-range", "start[0] -1 < 0"),
    ),
    # the spec has no TF-style size -1 ("to the end") that MLIR's shape inference accepts
    "slice size -1": (
        lambda: module("slice", [F, [0, 1], [2, -1]], "tensor<2x2xf32>"),
        ("attribute-range", "size[1] -1 < 1"),
    ),
    "pad valid": (
        lambda: module("pad", [F, [0, 0, 1, 2], k("0.0", "tensor<1xf32>")], "tensor<2x6xf32>"),
        None,
    ),
    "pad output": (
        lambda: module("pad", [F, [0, 0, 1, 2], k("0.0", "tensor<1xf32>")], "tensor<2x5xf32>"),
        ("output-shape", "output dim 1 is 5, padding gives 1 + 3 + 2 = 6"),
    ),
    "pad negative": (
        lambda: module("pad", [F, [0, 0, -1, 0], k("0.0", "tensor<1xf32>")], "tensor<2x2xf32>"),
        ("attribute-range", "padding[2] -1 < 0"),
    ),
    "concat valid": (
        lambda: module("concat", [F, "tensor<2x1xf32>"], "tensor<2x4xf32>", "{axis = 1 : i32}"),
        None,
    ),
    "concat axis sum": (
        lambda: module("concat", [F, "tensor<2x1xf32>"], "tensor<2x5xf32>", "{axis = 1 : i32}"),
        ("output-shape", "output dim 1 is 5, the inputs give 3 + 1 = 4"),
    ),
    "concat other dim": (
        lambda: module("concat", [F, "tensor<3x1xf32>"], "tensor<2x4xf32>", "{axis = 1 : i32}"),
        ("output-shape", "input 1 dim 0 is 3, the output's is 2"),
    ),
    "transpose valid": (
        lambda: module(
            "transpose", ["tensor<2x3x4xf32>"], "tensor<4x2x3xf32>", "{perms = array<i32: 2, 0, 1>}"
        ),
        None,
    ),
    "transpose output": (
        lambda: module(
            "transpose", ["tensor<2x3x4xf32>"], "tensor<4x3x2xf32>", "{perms = array<i32: 2, 0, 1>}"
        ),
        ("output-shape", "output shape 4x3x2, input[perms[i]] gives 4x2x3"),
    ),
    "tile valid": (lambda: module("tile", [F, [2, 1]], "tensor<4x3xf32>"), None),
    "tile output": (
        lambda: module("tile", [F, [2, 2]], "tensor<4x3xf32>"),
        ("output-shape", "output shape 4x3, input * multiples gives 4x6"),
    ),
    "reshape valid": (lambda: module("reshape", [F, [3, 2]], "tensor<3x2xf32>"), None),
    "reshape count": (
        lambda: module("reshape", [F, [4, 2]], "tensor<4x2xf32>"),
        ("output-shape", "output has 8 elements, input has 6"),
    ),
    "reshape shape operand": (
        lambda: module("reshape", [F, [6, 1]], "tensor<1x6xf32>"),
        ("output-shape", "shape operand [6, 1] != output shape 1x6"),
    ),
    "argmax valid": (
        lambda: module("argmax", ["tensor<2x3x4xf32>"], "tensor<2x4xi32>", "{axis = 1 : i32}"),
        None,
    ),
    "argmax output": (
        lambda: module("argmax", ["tensor<2x3x4xf32>"], "tensor<3x4xi32>", "{axis = 1 : i32}"),
        ("output-shape", "output shape 3x4, input without axis 1 gives 2x4"),
    ),
    "reverse valid": (lambda: module("reverse", [F], F, "{axis = 1 : i32}"), None),
    "reverse axis": (
        lambda: module("reverse", [F], F, "{axis = 2 : i32}"),
        ("attribute-range", "axis 2 is outside [0, 2)"),
    ),
    # -- elementwise, tables, fft, gather/scatter
    "clamp valid": (
        lambda: module(
            "clamp", ["tensor<4xi8>"], "tensor<4xi8>", "{max_val = 6 : i8, min_val = -3 : i8}"
        ),
        None,
    ),
    "clamp max < min": (
        lambda: module(
            "clamp", ["tensor<4xi8>"], "tensor<4xi8>", "{max_val = -4 : i8, min_val = -3 : i8}"
        ),
        ("attribute-range", "max_val -4 < min_val -3"),
    ),
    "clamp NaN": (
        lambda: module(
            "clamp",
            ["tensor<4xf32>"],
            "tensor<4xf32>",
            "{max_val = 0x7FC00000 : f32, min_val = 0.0 : f32}",
        ),
        ("attribute-range", "must not be NaN"),
    ),
    "mul i32 shift": (lambda: mul(shift="31"), None),
    "mul shift 64": (lambda: mul(shift="64"), ("attribute-range", "shift 64 is outside [0, 63]")),
    "mul negative shift": (
        lambda: mul(shift="-1"),
        ("attribute-range", "shift -1 is outside [0, 63]"),
    ),
    "mul i16 shift": (
        lambda: mul(t="i16", shift="1"),
        ("attribute-range", "shift 1 != 0 for i16_t"),
    ),
    "mul fp32 shift": (
        lambda: mul(t="f32", shift="2"),
        ("attribute-range", "shift 2 != 0 for fp32_t"),
    ),
    "table i8 valid": (
        lambda: module("table", ["tensor<4xi8>", k("0", "tensor<256xi8>")], "tensor<4xi8>"),
        None,
    ),
    "table i16 valid": (
        lambda: module("table", ["tensor<4xi16>", k("0", "tensor<513xi16>")], "tensor<4xi32>"),
        None,
    ),
    "table i8 size": (
        lambda: module("table", ["tensor<4xi8>", k("0", "tensor<513xi8>")], "tensor<4xi8>"),
        ("attribute-range", "table has 513 entries, i8_t needs 256"),
    ),
    "table i16 size": (
        lambda: module("table", ["tensor<4xi16>", k("0", "tensor<256xi16>")], "tensor<4xi32>"),
        ("attribute-range", "table has 256 entries, i16_t needs 513"),
    ),
    "fft2d valid": (
        lambda: module(
            "fft2d", ["tensor<1x8x16xf32>"] * 2, ["tensor<1x8x16xf32>"] * 2, "{inverse = false}"
        ),
        None,
    ),
    "fft2d height": (
        lambda: module(
            "fft2d", ["tensor<1x6x16xf32>"] * 2, ["tensor<1x6x16xf32>"] * 2, "{inverse = false}"
        ),
        ("attribute-range", "H 6 is not a power of two"),
    ),
    "rfft2d width": (
        lambda: module("rfft2d", ["tensor<1x8x12xf32>"], ["tensor<1x8x7xf32>"] * 2),
        ("attribute-range", "W 12 is not a power of two"),
    ),
    "gather valid": (
        lambda: module(
            "gather", ["tensor<1x5x3xf32>", k("[[0, 4]]", "tensor<1x2xi32>")], "tensor<1x2x3xf32>"
        ),
        None,
    ),
    "gather index": (
        lambda: module(
            "gather", ["tensor<1x5x3xf32>", k("[[0, 5]]", "tensor<1x2xi32>")], "tensor<1x2x3xf32>"
        ),
        ("attribute-range", "index 5 is outside [0, 5)"),
    ),
    "scatter valid": (
        lambda: module(
            "scatter",
            ["tensor<2x5x3xf32>", k("[[0, 1], [1, 0]]", "tensor<2x2xi32>"), "tensor<2x2x3xf32>"],
            "tensor<2x5x3xf32>",
        ),
        None,
    ),
    "scatter twice": (
        lambda: module(
            "scatter",
            ["tensor<2x5x3xf32>", k("[[0, 1], [3, 3]]", "tensor<2x2xi32>"), "tensor<2x2x3xf32>"],
            "tensor<2x5x3xf32>",
        ),
        ("attribute-range", "batch 1 scatters to index 3 twice"),
    ),
}


def _op_name(mod) -> str:
    return next(
        op.name for op in mod.walk() if op.name.startswith("tosa.") and "const" not in op.name
    )


@pytest.mark.parametrize("case", CASES, ids=str)
def test_op_rule(case):
    factory, expected = CASES[case]
    mod = factory()
    found = [d for d in diagnose(mod, SPEC, groups=("spec",)) if d.rule in RULE_IDS]
    if expected is None:
        assert found == [], [str(d) for d in found]
        return
    rule, fragment = expected
    assert [d.rule for d in found] == [rule], [str(d) for d in found]
    assert fragment in found[0].message, found[0].message
    assert found[0].op_name == _op_name(mod)


def test_non_constant_zero_point_is_skipped():
    """A zero point that is a function argument is not read (compile-time-constant's business)."""
    mod = module("negate", ["tensor<4xi16>", "tensor<1xi16>", "tensor<1xi16>"], "tensor<4xi16>")
    assert not [d for d in diagnose(mod, SPEC, groups=("spec",)) if d.rule in RULE_IDS]
