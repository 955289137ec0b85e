"""Import rules: one small function per FX target, in a table keyed by target name.

Each rule takes a ``RuleContext`` and the node's own FX args and kwargs (nodes, ints,
lists, dtypes) and returns the node's SSA value(s). What the rules compute follows
ExecuTorch 1.5.1's node visitors (``backends/arm/operators/op_*.py``), so a module
imported here serialises to the same TOSA graph: RESCALE scales become frexp-based
multiplier/shift constants, zero points come from ``meta["input_qparams"]`` /
``output_qparams``, constants get the names ExecuTorch gives them (``<out>_input_zp``,
``<out>_multipliers``, ``<node>_padding_value``...).

Most TOSA ops are a row in ``_OPERAND_OPS`` (tensor args map 1:1 onto operands); the
rest have a rule each. ``RULES`` is what ``fx_import`` dispatches on; its keys are
tested against the targets ExecuTorch registers node visitors for.
"""

from __future__ import annotations

import math
import operator
import struct
from collections.abc import Callable

import numpy as np
import torch
from torch.fx import Node
from xdsl.dialects.builtin import (
    BFloat16Type,
    DenseArrayBase,
    Float16Type,
    Float32Type,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    Signedness,
    StringAttr,
    i32,
    i64,
)
from xdsl.ir import Attribute, SSAValue

from bridge.fx_context import FxImportError, RuleContext, value_type
from bridge.fx_types import element_type, special_dtype_name
from ir.builders import const_shape
from ir.dialects import tosa_ext as tosa
from ir.speedups.op_create import op_factory
from ir.speedups.shared_attrs import shared, shared_properties, tensor_type
from ir.tensor_names import set_region_names

Rule = Callable[..., SSAValue | tuple[SSAValue, ...]]
RULES: dict[str, Rule] = {}


def rule(*targets: str):
    def register(fn: Rule) -> Rule:
        for target in targets:
            RULES[target] = fn
        return fn

    return register


# --------------------------------------------------------------------------- helpers


#: each TOSA op's constructor (``ir.speedups.op_create``), by spec name
_NEW_OP = {name: op_factory(cls) for name, cls in tosa.OPS_BY_SPEC_NAME.items()}


def _i64s(values) -> DenseArrayBase:
    ints = tuple(int(v) for v in values)
    return shared(("i64s", ints), lambda: DenseArrayBase.from_list(i64, ints))


def _i32s(values) -> DenseArrayBase:
    ints = tuple(int(v) for v in values)
    return shared(("i32s", ints), lambda: DenseArrayBase.from_list(i32, ints))


def _i32(value: int) -> IntegerAttr:
    number = int(value)
    return shared(("i32", number), lambda: IntegerAttr(number, i32))


def _bool(value: bool) -> IntegerAttr:
    flag = bool(value)
    return shared(("bool", flag), lambda: IntegerAttr.from_bool(flag))


def _nan_mode(name: str) -> tosa.NanModeAttr:
    if not isinstance(name, str):
        return tosa.NanModeAttr(tosa.NanMode(name))  # fails as xDSL says
    return shared(("nan_mode", name), lambda: tosa.NanModeAttr(tosa.NanMode(name)))


def _integer(width: int, signedness: Signedness = Signedness.SIGNLESS) -> IntegerType:
    return shared(("integer", width, signedness), lambda: IntegerType(width, signedness))


def _elem(value: SSAValue) -> Attribute:
    return value.type.element_type


def _is_int(element: Attribute, *widths: int) -> bool:
    return isinstance(element, IntegerType) and element.width.data in widths


def _emit(ctx: RuleContext, spec_name: str, operands, result_types=None, properties=None):
    """Create the TOSA op ``spec_name`` and append it; its result(s)."""
    if result_types is None:
        result_types = [ctx.result_type()]
    op = _NEW_OP[spec_name](operands, result_types, properties or {}, ctx.location)
    ctx.emit(op)
    return op.results[0] if len(op.results) == 1 else tuple(op.results)


def _input_qparams(ctx: RuleContext) -> dict:
    qparams = ctx.node.meta.get("input_qparams")
    if not qparams:
        raise FxImportError.at(ctx.node, "quantized op without meta['input_qparams']")
    return qparams


def _output_qparams(ctx: RuleContext) -> dict:
    qparams = ctx.node.meta.get("output_qparams")
    if not qparams:
        raise FxImportError.at(ctx.node, "quantized op without meta['output_qparams']")
    return qparams


def _zp(qargs, what: str, ctx: RuleContext) -> int:
    """A per-tensor zero point; a per-channel list is accepted when all entries agree.

    ExecuTorch's quantization parameters carry zero points as ints, lists of ints, or
    (for some weights, e.g. the depthwise conv of a decomposed cumsum) the float ``0.0``,
    which its serializer casts to the constant's integer type. An integral float is that
    integer; anything else is not a zero point.
    """
    zp = qargs.zp
    entries = list(zp) if isinstance(zp, (list, tuple)) else [zp]
    if entries and entries.count(entries[0]) == len(entries):  # per channel, all alike
        entries = entries[:1]  # equal numbers are equal floats: the same answer, once
    values = {_integral(z, what, ctx) for z in entries}
    if len(values) != 1:
        raise FxImportError.at(ctx.node, f"{what} zero point varies per channel: {entries}")
    return values.pop()


def _integral(value, what: str, ctx: RuleContext) -> int:
    as_float = float(value)
    if not as_float.is_integer():
        raise FxImportError.at(ctx.node, f"{what} zero point {value!r} is not an integer")
    return int(as_float)


# --------------------------------------------------------------------------- operand-only ops

#: ops whose FX args are exactly their tensor operands; kwargs become properties
_OPERAND_OPS = (
    "ABS", "ADD", "SUB", "POW", "INTDIV",
    "BITWISE_AND", "BITWISE_OR", "BITWISE_XOR", "BITWISE_NOT",
    "LOGICAL_AND", "LOGICAL_OR", "LOGICAL_XOR", "LOGICAL_NOT",
    "LOGICAL_LEFT_SHIFT", "LOGICAL_RIGHT_SHIFT",
    "CEIL", "CLZ", "COS", "SIN", "EXP", "LOG", "FLOOR", "RECIPROCAL", "RSQRT",
    "ERF", "SIGMOID", "TANH", "IDENTITY",
    "EQUAL", "GREATER", "GREATER_EQUAL",
    "MAXIMUM", "MINIMUM",
    "SELECT", "GATHER", "SCATTER", "TABLE",
)  # fmt: skip

#: FX kwarg -> how it becomes a property
_KWARG_PROPS: dict[str, Callable[[object], Attribute]] = {"nan_mode": _nan_mode}


def _operand_rule(spec_name: str) -> Rule:
    def import_op(ctx: RuleContext, *args, **kwargs):
        props = {}
        for key, value in kwargs.items():
            convert = _KWARG_PROPS.get(key)
            if convert is None:
                raise FxImportError.at(ctx.node, f"unexpected keyword argument {key}={value!r}")
            props[key] = convert(value)
        return _emit(ctx, spec_name, [ctx.value(a) for a in args], properties=props)

    import_op.__name__ = f"import_{spec_name.lower()}"
    return import_op


for _name in _OPERAND_OPS:
    RULES[f"tosa.{_name}.default"] = _operand_rule(_name)


# --------------------------------------------------------------------------- data movement


@rule("getitem")
def import_getitem(ctx: RuleContext, parent: Node, index: int):
    return ctx.values(parent)[index]


@rule("tosa.CONST_SHAPE.default")
def import_const_shape(ctx: RuleContext, values):
    return ctx.emit(const_shape([int(v) for v in values])).results[0]


@rule("tosa.RESHAPE.default")
def import_reshape(ctx: RuleContext, x, shape):
    return _emit(ctx, "RESHAPE", [ctx.value(x), ctx.shape_operand(shape, f"{ctx.name}_shape")])


@rule("tosa.SLICE.default")
def import_slice(ctx: RuleContext, x, start, size):
    operands = [
        ctx.value(x),
        ctx.shape_operand(start, f"{ctx.name}_start"),
        ctx.shape_operand(size, f"{ctx.name}_size"),
    ]
    return _emit(ctx, "SLICE", operands)


@rule("tosa.TILE.default")
def import_tile(ctx: RuleContext, x, multiples):
    return _emit(ctx, "TILE", [ctx.value(x), ctx.shape_operand(multiples, f"{ctx.name}_multiples")])


@rule("tosa.PAD.default")
def import_pad(ctx: RuleContext, x, padding, *, value=0):
    # ExecuTorch names the pad value after the bare node name (no region suffix).
    out = ctx.result_type()
    pad_const = ctx.scalar_const(value, out.element_type, f"{ctx.node.name}_padding_value")
    return _emit(
        ctx, "PAD", [ctx.value(x), ctx.shape_operand(padding, f"{ctx.name}_padding"), pad_const]
    )


@rule("tosa.TRANSPOSE.default")
def import_transpose(ctx: RuleContext, x, perms):
    return _emit(ctx, "TRANSPOSE", [ctx.value(x)], properties={"perms": _i32s(perms)})


@rule("tosa.CONCAT.default")
def import_concat(ctx: RuleContext, inputs, *, axis):
    return _emit(ctx, "CONCAT", [ctx.value(a) for a in inputs], properties={"axis": _i32(axis)})


@rule("tosa.REVERSE.default")
def import_reverse(ctx: RuleContext, x, *, axis):
    return _emit(ctx, "REVERSE", [ctx.value(x)], properties={"axis": _i32(axis)})


@rule("dim_order_ops._to_dim_order_copy.default")
def import_to_dim_order_copy(ctx: RuleContext, x, **_memory_format_kwargs):
    # A dtype change that survived the Arm passes; ExecuTorch writes it as CAST.
    return _emit(ctx, "CAST", [ctx.value(x)])


@rule("tosa.RESIZE.default")
def import_resize(ctx: RuleContext, x, scale, offset, border, *, resize_mode="nearest"):
    mode = (
        tosa.ResizeMode.BILINEAR if resize_mode == "bilinear" else tosa.ResizeMode.NEAREST_NEIGHBOR
    )
    operands = [
        ctx.value(x),
        ctx.shape_operand(scale, f"{ctx.name}_scale"),
        ctx.shape_operand(offset, f"{ctx.name}_offset"),
        ctx.shape_operand(border, f"{ctx.name}_border"),
    ]
    return _emit(ctx, "RESIZE", operands, properties={"mode": tosa.ResizeModeAttr(mode)})


# --------------------------------------------------------------------------- reductions


@rule(
    "tosa.REDUCE_ALL.default",
    "tosa.REDUCE_ANY.default",
    "tosa.REDUCE_SUM.default",
    "tosa.REDUCE_PRODUCT.default",
    "tosa.REDUCE_MAX.default",
    "tosa.REDUCE_MIN.default",
)
def import_reduce(ctx: RuleContext, x, *, axis, nan_mode=None):
    spec_name = ctx.node.target.__name__.split(".")[1]
    props = {"axis": _i32(axis)}
    if nan_mode is not None:
        props["nan_mode"] = _nan_mode(nan_mode)
    return _emit(ctx, spec_name, [ctx.value(x)], properties=props)


@rule("tosa.ARGMAX.default")
def import_argmax(ctx: RuleContext, x, axis, *, nan_mode="PROPAGATE"):
    value = ctx.value(x)
    if axis < 0:
        axis += len(value.type.get_shape())
    return _emit(
        ctx, "ARGMAX", [value], properties={"axis": _i32(axis), "nan_mode": _nan_mode(nan_mode)}
    )


# --------------------------------------------------------------------------- arithmetic


@rule("tosa.MUL.default")
def import_mul(ctx: RuleContext, a, b, *, shift=0):
    shift_const = ctx.scalar_const(shift, _integer(8), f"{ctx.name}_shift")
    return _emit(ctx, "MUL", [ctx.value(a), ctx.value(b), shift_const])


@rule("tosa.ARITHMETIC_RIGHT_SHIFT.default")
def import_arithmetic_right_shift(ctx: RuleContext, a, b, *, round=False):
    # ExecuTorch rounds when lowering for the Ethos-U55 subset.
    u55 = ctx.target is not None and "u55" in ctx.target.text.lower()
    props = {"round": _bool(round or u55)}
    return _emit(ctx, "ARITHMETIC_RIGHT_SHIFT", [ctx.value(a), ctx.value(b)], properties=props)


@rule("tosa.NEGATE.default")
def import_negate(ctx: RuleContext, x):
    value = ctx.value(x)
    out = ctx.result_type()
    input_zp = output_zp = 0
    if _is_int(_elem(value), 8):
        input_zp = _zp(_input_qparams(ctx)[0], "input", ctx)
        output_zp = _zp(_output_qparams(ctx)[0], "output", ctx)
    zps = [
        ctx.scalar_const(input_zp, _elem(value), f"{ctx.name}_input_zp"),
        ctx.scalar_const(output_zp, out.element_type, f"{ctx.name}_output_zp"),
    ]
    return _emit(ctx, "NEGATE", [value, *zps])


def _int_attr(value, element: Attribute) -> IntegerAttr:
    number = int(value)
    return shared(("int", number), lambda: IntegerAttr(number, element), element)


def _float_attr(value, element: Attribute) -> FloatAttr:
    number = float(value)
    # keyed by its bits: -0.0 == 0.0, and they print differently
    bits = struct.pack("<d", number)
    return shared(("float", bits), lambda: FloatAttr(number, element), element)


@rule("tosa.CLAMP.default")
def import_clamp(ctx: RuleContext, x, min_val, max_val, *, nan_mode="PROPAGATE"):
    value = ctx.value(x)
    element = _elem(value)
    bound = _int_attr if isinstance(element, IntegerType) else _float_attr
    bounds = {"min_val": bound(min_val, element), "max_val": bound(max_val, element)}
    return _emit(ctx, "CLAMP", [value], properties={**bounds, "nan_mode": _nan_mode(nan_mode)})


# --------------------------------------------------------------------------- RESCALE


def multiplier_and_shift(scale: float, width: int) -> tuple[int, int]:
    """``scale ~= multiplier * 2**-shift`` with a ``width``-bit signed multiplier: one
    scale of ``multipliers_and_shifts``, in plain Python (a per-tensor RESCALE, most of
    them, would pay a dozen numpy calls on one-element arrays for a few float operations).

    The same steps on the same float64 with the same results: ``math.frexp`` is the C
    ``frexp`` numpy's ``frexp`` is, Python's ``round`` of a float rounds half to even as
    ``np.rint`` does, and ints shift as int64 do in range (``tests/bridge/test_fx_rules.py``
    compares the two, errors included).
    """
    scale = float(scale)
    if not math.isfinite(scale):
        raise ValueError(f"scale {scale!r} is not a finite number")
    offset = width - 1
    mantissa, exponent = math.frexp(scale)
    multiplier = round(mantissa * float(1 << offset))
    if multiplier == 1 << offset:
        multiplier //= 2
        exponent += 1
    shift = offset - exponent
    if shift > 62:
        multiplier >>= min(31, shift - 62)
        shift = 62
    if multiplier < 0 or shift < 2 or shift > 62:
        raise ValueError(
            f"scale {scale!r} gives multiplier {multiplier} and shift {shift}; "
            "TOSA needs multiplier >= 0 and shift in [2, 62]"
        )
    return multiplier, shift


def multipliers_and_shifts(scales: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Per scale, ``scale ~= multiplier * 2**-shift`` with a ``width``-bit signed
    multiplier, as int64 arrays; one numpy pass (a per-channel RESCALE has a scale per
    output channel, and MobileNetV2 has thousands of them).

    The TOSA precision-scaling recipe as ExecuTorch applies it: frexp gives a mantissa
    in [0.5, 1), scaled to ``width - 1`` bits and rounded half to even (Python's round,
    as ExecuTorch; exact here, the product is a float64 power-of-two scaling); a mantissa
    that rounds up to 2**(width-1) is halved. Shifts above 62 are brought to 62 by
    shifting the multiplier instead.
    """
    if not np.isfinite(scales).all():
        raise ValueError(f"scale {float(scales[~np.isfinite(scales)][0])!r} is not a finite number")
    offset = width - 1
    mantissa, exponent = np.frexp(scales)
    multipliers = np.rint(mantissa * float(1 << offset)).astype(np.int64)
    exponent = exponent.astype(np.int64)
    overflow = multipliers == 1 << offset
    if overflow.any():  # (the masked updates cost more than the test, even when empty)
        multipliers[overflow] //= 2
        exponent[overflow] += 1
    shifts = offset - exponent
    high = shifts > 62
    if high.any():
        multipliers[high] >>= np.minimum(31, shifts[high] - 62)
        shifts[high] = 62
    bad = (multipliers < 0) | (shifts < 2) | (shifts > 62)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"scale {float(scales[i])!r} gives multiplier {int(multipliers[i])} and shift "
            f"{int(shifts[i])}; "
            "TOSA needs multiplier >= 0 and shift in [2, 62]"
        )
    return multipliers, shifts


def _single_round() -> tosa.RoundingModeAttr:
    return shared(
        ("rounding_mode", "SINGLE_ROUND"),
        lambda: tosa.RoundingModeAttr(tosa.RoundingMode.SINGLE_ROUND),
    )


def _unsigned(element: Attribute) -> Attribute:
    if not _is_int(element, 8, 16):
        raise ValueError(f"only 8- and 16-bit values can be unsigned, got {element}")
    return _integer(element.width.data, Signedness.UNSIGNED)


@rule("tosa.RESCALE.default")
def import_rescale(
    ctx: RuleContext,
    x,
    dtype: torch.dtype,
    scales,
    input_zp: int,
    output_zp: int,
    input_unsigned: bool = False,
    output_unsigned: bool = False,
):
    value = ctx.value(x)
    in_element = _elem(value)
    out_type = ctx.result_type()
    out_element = element_type(dtype)
    if input_zp != 0 and not _is_int(in_element, 8, 16):
        raise ValueError(f"input zero point must be 0 for a {in_element} input, got {input_zp}")
    if output_zp != 0 and not _is_int(out_element, 8, 16):
        raise ValueError(f"output zero point must be 0 for a {out_element} output, got {output_zp}")
    if output_unsigned:
        out_element = _unsigned(out_element)  # the typed stage shows uint8 IO as ui8
    if out_element is not out_type.element_type:
        out_type = tensor_type(out_element, out_type.get_shape())

    scale32 = not _is_i48(in_element)
    width = 32 if scale32 else 16
    if len(scales) == 1:  # per tensor: two numbers, their bytes straight
        multiplier, shift = multiplier_and_shift(scales[0], width)
        multiplier_bytes = multiplier.to_bytes(width // 8, "little", signed=True)
        shift_bytes = shift.to_bytes(1, "little", signed=True)
    else:
        scale_array = np.fromiter(map(float, scales), dtype=np.float64, count=len(scales))
        multipliers, shifts = multipliers_and_shifts(scale_array, width)
        multiplier_bytes = multipliers.astype("<i4" if scale32 else "<i2").tobytes()
        shift_bytes = shifts.astype(np.int8).tobytes()
    shape = (len(scales),)
    # a boundary RESCALE's constants stay its own: legalize-unsigned-io edits them by use
    shareable = not (input_unsigned or output_unsigned)
    operands = [
        value,
        ctx.const_bytes(
            multiplier_bytes, _integer(width), shape, f"{ctx.name}_multipliers", shareable=shareable
        ),
        ctx.const_bytes(shift_bytes, _integer(8), shape, f"{ctx.name}_shifts", shareable=shareable),
        ctx.scalar_const(input_zp, in_element, f"{ctx.name}_input_zp", shareable=shareable),
        ctx.scalar_const(output_zp, out_element, f"{ctx.name}_output_zp", shareable=shareable),
    ]
    flags = (scale32, len(scales) > 1, bool(input_unsigned), bool(output_unsigned))
    props = shared_properties(("RESCALE", *flags), lambda: _rescale_properties(*flags))
    return _emit(ctx, "RESCALE", operands, [out_type], props)


def _rescale_properties(
    scale32: bool, per_channel: bool, input_unsigned: bool, output_unsigned: bool
) -> dict[str, Attribute]:
    return {
        "scale32": _bool(scale32),
        "rounding_mode": _single_round(),
        "per_channel": _bool(per_channel),
        "input_unsigned": _bool(input_unsigned),
        "output_unsigned": _bool(output_unsigned),
    }


def _is_i48(element: Attribute) -> bool:
    """``element == i48`` (signless), without building an i48 to compare with: equal
    xDSL attributes are of one class, and an ``IntegerType`` is its width and signedness."""
    return (
        type(element) is IntegerType
        and element.width.data == 48
        and element.signedness.data == Signedness.SIGNLESS
    )


# --------------------------------------------------------------------------- convolutions


def _conv_acc_type(input_element: Attribute, output_element: Attribute) -> Attribute:
    """ExecuTorch's accumulator: the output type, f16 for fp8 inputs, f32 for 16-bit
    float outputs."""
    if type(input_element).__name__.startswith("Float8"):
        return shared("f16", Float16Type)
    if isinstance(output_element, Float16Type | BFloat16Type):
        return shared("f32", Float32Type)
    return output_element


def _conv_zero_points(ctx: RuleContext, x: SSAValue, w: SSAValue) -> list[SSAValue]:
    input_zp = weight_zp = 0
    if _is_int(_elem(x), 8, 16):
        input_zp = _zp(_input_qparams(ctx)[0], "input", ctx)
    if _is_int(_elem(w), 8):
        weight_zp = _zp(_input_qparams(ctx)[1], "weight", ctx)
    return [
        ctx.scalar_const(input_zp, _elem(x), f"{ctx.name}_input_zp"),
        ctx.scalar_const(weight_zp, _elem(w), f"{ctx.name}_weight_zp"),
    ]


@rule("tosa.CONV2D.default", "tosa.DEPTHWISE_CONV2D.default", "tosa.CONV3D.default")
def import_conv(ctx: RuleContext, x, weight, bias, stride, pad, dilation):
    spec_name = ctx.node.target.__name__.split(".")[1]
    xv, wv, bv = ctx.value(x), ctx.value(weight), ctx.value(bias)
    out = ctx.result_type()
    props = {
        "pad": _i64s(pad),
        "stride": _i64s(stride),
        "dilation": _i64s(dilation),
        "acc_type": _conv_acc_type(_elem(xv), out.element_type),
    }
    return _emit(ctx, spec_name, [xv, wv, bv, *_conv_zero_points(ctx, xv, wv)], properties=props)


def _transpose_conv_acc_type(output_element: Attribute) -> Attribute:
    """The output type, as ExecuTorch 1.5.1 writes it, except for bf16: TOSA 1.0 has no
    TRANSPOSE_CONV2D mode accumulating in bf16 (its bf16 mode is "bf16 with fp32
    accumulate"), so the verifier would refuse ExecuTorch's graph; f32 is the spec's mode
    and what ExecuTorch's own CONV2D visitor picks for bf16."""
    if isinstance(output_element, BFloat16Type):
        return shared("f32", Float32Type)
    return output_element


@rule("tosa.TRANSPOSE_CONV2D.default")
def import_transpose_conv2d(ctx: RuleContext, x, weight, bias, out_pad, stride):
    xv, wv, bv = ctx.value(x), ctx.value(weight), ctx.value(bias)
    props = {
        "out_pad": _i64s(out_pad),
        "stride": _i64s(stride),
        "acc_type": _transpose_conv_acc_type(ctx.result_type().element_type),
    }
    return _emit(
        ctx, "TRANSPOSE_CONV2D", [xv, wv, bv, *_conv_zero_points(ctx, xv, wv)], properties=props
    )


@rule("tosa.MATMUL.default")
def import_matmul(ctx: RuleContext, a, b):
    av, bv = ctx.value(a), ctx.value(b)
    a_zp = b_zp = 0
    if _is_int(_elem(av), 8, 16):
        qparams = _input_qparams(ctx)
        a_zp, b_zp = _zp(qparams[0], "A", ctx), _zp(qparams[1], "B", ctx)
    zps = [
        ctx.scalar_const(a_zp, _elem(av), f"{ctx.name}_A_ZP"),
        ctx.scalar_const(b_zp, _elem(bv), f"{ctx.name}_B_ZP"),
    ]
    return _emit(ctx, "MATMUL", [av, bv, *zps])


# --------------------------------------------------------------------------- pooling


def _shape_values(ctx: RuleContext, arg) -> list[int]:
    """Literal ints of a pooling parameter: a list, or a CONST_SHAPE node's values."""
    if isinstance(arg, list | tuple):
        return [int(v) for v in arg]
    if isinstance(arg, Node) and getattr(arg.target, "__name__", "") == "tosa.CONST_SHAPE.default":
        return [int(v) for v in arg.args[0]]
    raise FxImportError.at(
        ctx.node, f"{arg!r} is not a compile-time shape: dynamic adaptive pooling needs TOSA 1.1"
    )


@rule("tosa.AVG_POOL2D.default", "tosa.AVG_POOL2D_ADAPTIVE.default")
def import_avg_pool2d(ctx: RuleContext, x, input_zp, output_zp, kernel, stride, pad, acc_type):
    """AVG_POOL2D_ADAPTIVE (TOSA 1.1) with constant kernel/stride/pad is AVG_POOL2D."""
    props = {
        "kernel": _i64s(_shape_values(ctx, kernel)),
        "stride": _i64s(_shape_values(ctx, stride)),
        "pad": _i64s(_shape_values(ctx, pad)),
        "acc_type": element_type(acc_type),
    }
    return _emit(
        ctx,
        "AVG_POOL2D",
        [ctx.value(x), ctx.value(input_zp), ctx.value(output_zp)],
        properties=props,
    )


@rule("tosa.MAX_POOL2D.default", "tosa.MAX_POOL2D_ADAPTIVE.default")
def import_max_pool2d(ctx: RuleContext, x, kernel, stride, pad):
    """MAX_POOL2D_ADAPTIVE (TOSA 1.1) with constant kernel/stride/pad is MAX_POOL2D."""
    props = {
        "kernel": _i64s(_shape_values(ctx, kernel)),
        "stride": _i64s(_shape_values(ctx, stride)),
        "pad": _i64s(_shape_values(ctx, pad)),
        "nan_mode": _nan_mode("PROPAGATE"),
    }
    return _emit(ctx, "MAX_POOL2D", [ctx.value(x)], properties=props)


# --------------------------------------------------------------------------- FFT, custom


@rule("tosa.FFT2D.default")
def import_fft2d(ctx: RuleContext, real, imag, *, inverse=False, local_bound=False):
    props = {"inverse": _bool(inverse), "local_bound": _bool(local_bound)}
    return _emit(ctx, "FFT2D", [ctx.value(real), ctx.value(imag)], ctx.result_types(), props)


@rule("tosa.RFFT2D.default")
def import_rfft2d(ctx: RuleContext, real, *, local_bound=False):
    return _emit(
        ctx, "RFFT2D", [ctx.value(real)], ctx.result_types(), {"local_bound": _bool(local_bound)}
    )


# --------------------------------------------------------------------------- TOSA 1.1 block-scaled


def _block_size(ctx: RuleContext, block_size) -> tosa.BlockSizeAttr:
    try:
        return tosa.BlockSizeAttr(tosa.BlockSize(f"BLOCK_SIZE_{int(block_size)}"))
    except ValueError:
        raise FxImportError.at(
            ctx.node, f"block size {block_size!r} is none of TOSA's (1, 32)"
        ) from None


@rule("tosa.CONV2D_BLOCK_SCALED.default")
def import_conv2d_block_scaled(
    ctx: RuleContext,
    x,
    x_scale,
    weight,
    weight_scale,
    bias,
    stride,
    pad,
    dilation,
    block_size,
    payload_dtype="",
):
    # payload_dtype repeats what the operands' types say (fp4/fp6 from their special dtype)
    operands = [ctx.value(v) for v in (x, x_scale, weight, weight_scale, bias)]
    operands += [
        ctx.shape_operand(pad, f"{ctx.name}_pad"),
        ctx.shape_operand(stride, f"{ctx.name}_stride"),
        ctx.shape_operand(dilation, f"{ctx.name}_dilation"),
    ]
    return _emit(
        ctx,
        "CONV2D_BLOCK_SCALED",
        operands,
        properties={"block_size": _block_size(ctx, block_size)},
    )


@rule("tosa.MATMUL_T_BLOCK_SCALED.default")
def import_matmul_t_block_scaled(
    ctx: RuleContext, a, a_scale, b, b_scale, block_size, payload_dtype=""
):
    operands = [ctx.value(v) for v in (a, a_scale, b, b_scale)]
    return _emit(
        ctx,
        "MATMUL_T_BLOCK_SCALED",
        operands,
        properties={"block_size": _block_size(ctx, block_size)},
    )


@rule("tosa.CAST_TO_BLOCK_SCALED.default")
def import_cast_to_block_scaled(ctx: RuleContext, x, block_size, output_dtype=""):
    """The payload's TOSA type: fp8 from the fake tensor; fp4/fp6, whose torch value is a
    uint8 carrier, from the special dtype ExecuTorch puts on the getitem of result 0."""
    types = ctx.result_types()
    for user in ctx.node.users:
        if user.target is operator.getitem and user.args[1] == 0 and special_dtype_name(user.meta):
            types[0] = value_type(user.meta)
    if isinstance(types[0].element_type, IntegerType):
        raise FxImportError.at(
            ctx.node,
            f"block-scaled payload {output_dtype!r} has no TOSA type (uint8 without a special "
            "dtype)",
        )
    return _emit(
        ctx,
        "CAST_TO_BLOCK_SCALED",
        [ctx.value(x)],
        types,
        {"block_size": _block_size(ctx, block_size)},
    )


@rule("tosa.CUSTOM.default")
def import_custom(ctx: RuleContext, inputs, operator_name, domain_name, implementation_attrs=()):
    payload = bytes(int(b) & 0xFF for b in implementation_attrs or ())
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            "implementation_attrs are not UTF-8 text, which MLIR's string attribute needs"
        ) from err
    props = {
        "operator_name": StringAttr(operator_name),
        "domain_name": StringAttr(domain_name),
        "implementation_attrs": StringAttr(text),
    }
    result = _emit(ctx, "CUSTOM", [ctx.value(a) for a in inputs], ctx.result_types(), props)
    return result if isinstance(result, tuple) else (result,)


# --------------------------------------------------------------------------- control flow


@rule("cond")
def import_cond(ctx: RuleContext, pred, true_branch, false_branch, operands):
    values = [ctx.value(a) for a in operands]
    types = [v.type for v in values]
    regions = [ctx.import_region(true_branch, types), ctx.import_region(false_branch, types)]
    op = tosa.IfOp.create(
        operands=[ctx.value(pred), *values],
        result_types=ctx.result_types(),
        regions=[r.region for r in regions],
    )
    _name_regions(op, regions)
    ctx.emit(op)
    return tuple(op.results)


@rule("while_loop")
def import_while_loop(ctx: RuleContext, cond_fn, body_fn, carried, additional=()):
    if additional:
        raise FxImportError.at(
            ctx.node, "while_loop additional inputs are not supported; carry them instead"
        )
    values = [ctx.value(a) for a in carried]
    types = [v.type for v in values]
    regions = [ctx.import_region(cond_fn, types), ctx.import_region(body_fn, types)]
    op = tosa.WhileOp.create(
        operands=values, result_types=types, regions=[r.region for r in regions]
    )
    _name_regions(op, regions)
    ctx.emit(op, _while_result_names(ctx, body_fn, len(types)))
    return tuple(op.results)


def _name_regions(op, regions) -> None:
    set_region_names(op, [r.name for r in regions], [r.input_names for r in regions])


def _while_result_names(ctx: RuleContext, body_fn: Node, count: int) -> list[str]:
    """Results nobody reads still need tensors; ExecuTorch names them after the body's
    output nodes, ``<name>_dummy``, as the body was before the Arm passes (capture
    records those names on the node; without them, the body's current outputs)."""
    names = ctx.result_names(count)
    recorded = ctx.node.meta.get("tosa_ir_original_output_names", {}).get(str(body_fn.target))
    if recorded is None:
        body = getattr(ctx.graph.gm, str(body_fn.target))
        outputs = body.graph.output_node().args[0]
        recorded = [o.name for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]
    return [n or f"{recorded[i]}_dummy" for i, n in enumerate(names)]


def supported_targets() -> set[str]:
    """The FX targets this importer has a rule for."""
    return set(RULES)


__all__ = ["RULES", "multiplier_and_shift", "supported_targets"]
