"""The arithmetic in the operators' ERROR_IF and REQUIRE lines (TOSA 1.0.2 pseudocode).

``spec_rules`` checks what the spec's *tables* say: type-support modes, profiles,
compile-time-constant arguments, level limits and shape symbols that must agree by name
(``N``, ``OC``, ``[1]``). What lives here needs the operator's own arithmetic over its
attributes and constant operands:

- ``zero-point``: a zero point is non-zero only for an i8 tensor (float ones are 0.0);
- ``output-shape``: the output size the pseudocode computes (convolution, pooling,
  resize, slice, pad, concat, transpose, tile, reshape, argmax); every ``idiv_check``
  must divide exactly;
- ``attribute-range``: stride, dilation, kernel, pad, axis, clamp bounds, MUL's shift,
  TABLE's length, RESIZE's scale/offset/border and image size, FFT sizes (powers of
  two), constant gather/scatter indices.

A rule reads an operand only when it is a ``tosa.const``/``tosa.const_shape`` (a missing
constant is the ``compile-time-constant`` rule's business), skips a comparison whenever a
dimension is dynamic (-1), and skips an attribute of the wrong length (a ``shape``
violation) rather than guess. What the structural verifier already checks is not repeated:
TRANSPOSE perms being a permutation, CONCAT's axis and ranks, reductions' axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from xdsl.dialects.builtin import FloatAttr, IntegerAttr
from xdsl.ir import Operation

from ir.dialects.tosa_ext import (
    ArgMaxOp,
    AvgPool2DOp,
    ClampOp,
    ConcatOp,
    Conv2DOp,
    Conv3DOp,
    ConvOp,
    ConvOpBase,
    DepthwiseConv2DOp,
    FFT2DOp,
    GatherOp,
    MatMulOp,
    MaxPool2DOp,
    MulOp,
    NegateOp,
    PadOp,
    ReshapeOp,
    ResizeOp,
    ReverseOp,
    RFFT2DOp,
    ScatterOp,
    SliceOp,
    TableOp,
    TileOp,
    TransposeConv2DOp,
    TransposeOp,
)
from ir.verify.core import (
    Checker,
    array_prop,
    constant,
    constant_ints,
    dims_text,
    element_type,
    op_rule,
    ranked_shape,
    shape,
    spec_type_name,
)

ZERO_POINT, OUTPUT_SHAPE, ATTRIBUTE_RANGE = "zero-point", "output-shape", "attribute-range"

#: (dimension, attribute suffix, pad before, pad after) of each spatial dimension, in order
_HW = (("height", "y", "top", "bottom"), ("width", "x", "left", "right"))
_DHW = (("depth", "d", "d0", "d1"), *_HW)
#: convolution -> (spatial dims, first spatial axis of the weight); input and output are
#: [N, *spatial, C]
_CONVOLUTIONS = {
    Conv2DOp: (_HW, 1),  # weight [OC,KH,KW,IC]
    Conv3DOp: (_DHW, 1),  # weight [OC,KD,KH,KW,IC]
    DepthwiseConv2DOp: (_HW, 0),  # weight [KH,KW,C,M]
}
#: op -> (spec name, operand) of each zero point; a zero point is typed like its data
#: (in_t, weight_t, ...)
_ZERO_POINTS = {
    ConvOpBase: (("input_zp", "input_zp"), ("weight_zp", "weight_zp")),
    AvgPool2DOp: (("input_zp", "input_zp"), ("output_zp", "output_zp")),
    # MATMUL.tosac reads ERROR_IF(is_same<in_t,i8_t> && (A_zp != 0 || B_zp != 0)): a known typo
    # in 1.0.2; the intent (and MLIR's verifier) is !is_same<in_t,i8_t>, as for every other op.
    MatMulOp: (("A_zp", "a_zp"), ("B_zp", "b_zp")),
    NegateOp: (("input1_zp", "input1_zp"), ("output_zp", "output_zp")),
}
TABLE_SIZE = {"i8_t": 256, "i16_t": 513}
MUL_SHIFT_RANGE = (0, 63)
RESIZE_MAX_DIM = 16384  # GPU APIs, and position * stride must not overflow int32
RESIZE_MAX_NUMERATOR = 1 << 11  # an int8 bilinear resize accumulates in int32


# --------------------------------------------------------------------------- helpers


def _dynamic(*dims: int) -> bool:
    return any(d < 0 for d in dims)


def _axis(op: ConcatOp | ArgMaxOp | ReverseOp) -> int:
    return op.axis.value.data


def _attrs(op: Operation, lengths: dict[str, int]) -> list[tuple[int, ...]] | None:
    """The named array properties, or None when one is missing or has the wrong length."""
    values: list[tuple[int, ...]] = []
    for name, n in lengths.items():
        value = array_prop(op, name)
        if value is None or len(value) != n:
            return None
        values.append(value)
    return values


def _at_least(
    check: Checker, op: Operation, names: Sequence[str], values: Sequence[int], low: int
) -> None:
    for name, value in zip(names, values, strict=True):
        if value < low:
            check.report(ATTRIBUTE_RANGE, op, f"{name} {value} < {low}")


def _output_size(
    check: Checker,
    op: Operation,
    what: str,
    actual: int,
    text: str,
    numerator: int,
    divisor: tuple[str, int],
) -> None:
    """``ERROR_IF(O != idiv_check(numerator, divisor) + 1)``: idiv_check itself is an error
    unless the division is exact, so a non-multiple is reported even for a dynamic output."""
    name, value = divisor
    if value < 1:
        return  # attribute-range reports the divisor
    if numerator % value:
        check.report(
            OUTPUT_SHAPE, op, f"{what}: {text} = {numerator} is not a multiple of {name} {value}"
        )
        return
    expected = numerator // value + 1
    if actual >= 0 and actual != expected:
        check.report(OUTPUT_SHAPE, op, f"{what} {actual} != ({text}) / {value} + 1 = {expected}")


def _same_rank(check: Checker, op: Operation, dims: tuple[int, ...], out: tuple[int, ...]) -> bool:
    if len(dims) == len(out):
        return True
    check.report(OUTPUT_SHAPE, op, f"output rank {len(out)} != input rank {len(dims)}")
    return False


def _expect_dims(
    check: Checker, op: Operation, out: tuple[int, ...], expected: Sequence[int], how: str
) -> None:
    """One report when a static output dim differs from ``expected`` (-1 there: unknown)."""
    if any(not _dynamic(o, e) and o != e for o, e in zip(out, expected, strict=True)):
        check.report(
            OUTPUT_SHAPE,
            op,
            f"output shape {dims_text(out)}, {how} gives {dims_text(tuple(expected))}",
        )


# --------------------------------------------------------------------------- zero points


@op_rule(*_ZERO_POINTS)
def zero_points(check: Checker, op: Operation) -> None:
    """Only i8 tensors have zero points; for every other type (floats included) they are 0."""
    pairs = next(p for cls, p in _ZERO_POINTS.items() if isinstance(op, cls))
    for name, operand in pairs:
        value = getattr(op, operand)
        zp = constant(value)
        type_name = spec_type_name(element_type(value.type))
        if zp is None or type_name == "i8_t":
            continue
        flat = np.asarray(zp).reshape(-1)
        nonzero = flat[flat != 0]
        if not nonzero.size:
            continue
        shown = nonzero[0]
        check.report(
            ZERO_POINT, op, f"{name} {shown} != 0 for {type_name}; only i8_t has zero points"
        )


# ------------------------------------------------------------------------ convolution and pooling


@op_rule(*_CONVOLUTIONS)
def convolution(check: Checker, op: ConvOp) -> None:
    """CONV2D, CONV3D, DEPTHWISE_CONV2D: pad >= 0, stride >= 1, dilation >= 1, and
    ``O == idiv_check(I - 1 + pad_before + pad_after - (K - 1) * dilation, stride) + 1``."""
    dims, k0 = _CONVOLUTIONS[type(op)]
    n = len(dims)
    values = _attrs(op, {"pad": 2 * n, "stride": n, "dilation": n})
    if values is None:
        return
    pad, stride, dilation = values
    _at_least(check, op, [f"pad_{side}" for d in dims for side in d[2:]], pad, 0)
    _at_least(check, op, [f"stride_{d[1]}" for d in dims], stride, 1)
    _at_least(check, op, [f"dilation_{d[1]}" for d in dims], dilation, 1)
    x, w, out = ranked_shape(op.input), ranked_shape(op.weight), ranked_shape(op.output)
    for i, (name, ax, _, _) in enumerate(dims):
        size, k, before, after, dil = x[1 + i], w[k0 + i], pad[2 * i], pad[2 * i + 1], dilation[i]
        if _dynamic(size, k) or dil < 1:
            continue
        text = f"{size} - 1 + {before} + {after} - ({k} - 1) * {dil}"
        numerator = size - 1 + before + after - (k - 1) * dil
        _output_size(
            check, op, f"output {name}", out[1 + i], text, numerator, (f"stride_{ax}", stride[i])
        )


@op_rule(ConvOpBase)
def bias_length(check: Checker, op: ConvOpBase) -> None:
    """``ERROR_IF(BC != OC && BC != 1)``: one bias per output channel, or one for all."""
    bias, out = shape(op.bias), shape(op.output)
    if not bias or not out or _dynamic(bias[0], out[-1]) or bias[0] in (1, out[-1]):
        return
    check.report(
        OUTPUT_SHAPE, op, f"bias has {bias[0]} values; must be 1 or the {out[-1]} output channels"
    )


@op_rule(TransposeConv2DOp)
def transpose_convolution(check: Checker, op: TransposeConv2DOp) -> None:
    """stride >= 1, out_pad > -K (the kernel must not be cropped away), and
    ``O == (I - 1) * stride + out_pad_before + out_pad_after + K`` (no division)."""
    values = _attrs(op, {"out_pad": 4, "stride": 2})
    if values is None:
        return
    out_pad, stride = values
    _at_least(check, op, ["stride_y", "stride_x"], stride, 1)
    x, w, out = ranked_shape(op.input), ranked_shape(op.weight), ranked_shape(op.output)
    for i, (name, ax, before, after) in enumerate(_HW):
        size, k, o = x[1 + i], w[1 + i], out[1 + i]
        k_name = "KH" if ax == "y" else "KW"
        pads = out_pad[2 * i : 2 * i + 2]
        for side, p in zip((before, after), pads, strict=True):
            if k >= 0 and p <= -k:
                check.report(ATTRIBUTE_RANGE, op, f"out_pad_{side} {p} <= -{k_name} = {-k}")
        if _dynamic(size, k, o) or stride[i] < 1:
            continue
        expected = (size - 1) * stride[i] + pads[0] + pads[1] + k
        if o != expected:
            text = f"({size} - 1) * {stride[i]} + {pads[0]} + {pads[1]} + {k}"
            check.report(OUTPUT_SHAPE, op, f"output {name} {o} != {text} = {expected}")


@op_rule(AvgPool2DOp, MaxPool2DOp)
def pooling(check: Checker, op: AvgPool2DOp | MaxPool2DOp) -> None:
    """kernel >= 1, stride >= 1, 0 <= pad < kernel (a window wholly in the padding would
    average over nothing), and
    ``O == idiv_check(I + pad_before + pad_after - kernel, stride) + 1``."""
    values = _attrs(op, {"kernel": 2, "stride": 2, "pad": 4})
    if values is None:
        return
    kernel, stride, pad = values
    _at_least(check, op, ["kernel_y", "kernel_x"], kernel, 1)
    _at_least(check, op, ["stride_y", "stride_x"], stride, 1)
    _at_least(check, op, ["pad_top", "pad_bottom", "pad_left", "pad_right"], pad, 0)
    x, out = ranked_shape(op.input), ranked_shape(op.output)
    for i, (name, ax, before, after) in enumerate(_HW):
        k, pads = kernel[i], pad[2 * i : 2 * i + 2]
        if k < 1:
            # reported above; pad < kernel and the output size mean nothing without a kernel
            continue
        for side, p in zip((before, after), pads, strict=True):
            if p >= k:
                check.report(ATTRIBUTE_RANGE, op, f"pad_{side} {p} >= kernel_{ax} {k}")
        if _dynamic(x[1 + i]):
            continue
        text = f"{x[1 + i]} + {pads[0]} + {pads[1]} - {k}"
        numerator = x[1 + i] + pads[0] + pads[1] - k
        _output_size(
            check, op, f"output {name}", out[1 + i], text, numerator, (f"stride_{ax}", stride[i])
        )


# --------------------------------------------------------------------------- image


@op_rule(ResizeOp)
def resize(check: Checker, op: ResizeOp) -> None:
    """scale = [y_n, y_d, x_n, x_d] > 0 with n <= 2048 and d < 16 * n (at most a 1/16
    downscale), offset in [-n, 16n), border in [-16n, n), image dims < 16384, and
    ``O == idiv_check((I - 1) * n - offset + border, d) + 1``."""
    scale, offset, border = (constant_ints(v) for v in (op.scale, op.offset, op.border))
    if (
        scale is None
        or offset is None
        or border is None
        or (len(scale), len(offset), len(border)) != (4, 2, 2)
    ):
        return
    x, out = ranked_shape(op.input), ranked_shape(op.output)
    dims = {"OH": out[1], "OW": out[2], "IH": x[1], "IW": x[2]}
    large = [f"{k} {v}" for k, v in dims.items() if v >= RESIZE_MAX_DIM]
    if large:
        check.report(ATTRIBUTE_RANGE, op, f"{', '.join(large)} >= {RESIZE_MAX_DIM}")
    for i, (name, ax, _, _) in enumerate(_HW):
        n, d, off, bor = (int(v) for v in (scale[2 * i], scale[2 * i + 1], offset[i], border[i]))
        if n <= 0 or d <= 0:
            check.report(
                ATTRIBUTE_RANGE, op, f"scale_{ax}_n {n} and scale_{ax}_d {d} must both be > 0"
            )
            continue
        if n > RESIZE_MAX_NUMERATOR:
            check.report(ATTRIBUTE_RANGE, op, f"scale_{ax}_n {n} > {RESIZE_MAX_NUMERATOR}")
        if d >= 16 * n:
            check.report(ATTRIBUTE_RANGE, op, f"scale_{ax}_d {d} >= 16 * scale_{ax}_n = {16 * n}")
        if not -n <= off < 16 * n:
            check.report(ATTRIBUTE_RANGE, op, f"offset_{ax} {off} is outside [{-n}, {16 * n})")
        if not -16 * n <= bor < n:
            check.report(ATTRIBUTE_RANGE, op, f"border_{ax} {bor} is outside [{-16 * n}, {n})")
        # MLIR skips an input size of 1 (linalg broadcasts it); the spec has no such exception.
        if _dynamic(x[1 + i]):
            continue
        text = f"({x[1 + i]} - 1) * {n} - {off} + {bor}"
        numerator = (x[1 + i] - 1) * n - off + bor
        _output_size(check, op, f"output {name}", out[1 + i], text, numerator, (f"scale_{ax}_d", d))


# --------------------------------------------------------------------------- data layout


@op_rule(SliceOp)
def slice_(check: Checker, op: SliceOp) -> None:
    """start >= 0, size >= 1, start + size <= input dim, output == size."""
    start, size = constant_ints(op.start), constant_ints(op.size)
    x, out = ranked_shape(op.input1), ranked_shape(op.output)
    if (
        start is None
        or size is None
        or not (len(x) == len(start) == len(size))
        or not _same_rank(check, op, x, out)
    ):
        return
    for i, (b, s, dim) in enumerate(zip(start.tolist(), size.tolist(), x, strict=True)):
        if b < 0:
            check.report(ATTRIBUTE_RANGE, op, f"start[{i}] {b} < 0")
        # MLIR's shape inference reads size -1 as "to the end" (TF style); the spec requires
        # size >= 1.
        if s < 1:
            check.report(ATTRIBUTE_RANGE, op, f"size[{i}] {s} < 1")
        elif dim >= 0 and b + s > dim:
            check.report(
                ATTRIBUTE_RANGE, op, f"start[{i}] + size[{i}] = {b} + {s} > input dim {dim}"
            )
    _expect_dims(check, op, out, [s if s >= 1 else -1 for s in size.tolist()], "size")


@op_rule(PadOp)
def pad(check: Checker, op: PadOp) -> None:
    """Every padding >= 0 and ``output[i] == padding[2i] + input[i] + padding[2i+1]``."""
    padding, x, out = constant_ints(op.padding), ranked_shape(op.input1), ranked_shape(op.output)
    if padding is None or len(padding) != 2 * len(x) or not _same_rank(check, op, x, out):
        return
    for i, value in enumerate(padding.tolist()):
        if value < 0:
            check.report(ATTRIBUTE_RANGE, op, f"padding[{i}] {value} < 0")
    for i, (dim, o) in enumerate(zip(x, out, strict=True)):
        before, after = int(padding[2 * i]), int(padding[2 * i + 1])
        if not _dynamic(dim, o) and o != before + dim + after:
            text = f"{before} + {dim} + {after} = {before + dim + after}"
            check.report(OUTPUT_SHAPE, op, f"output dim {i} is {o}, padding gives {text}")


@op_rule(ConcatOp)
def concat(check: Checker, op: ConcatOp) -> None:
    """Inputs agree with the output off the axis; on it they sum to the output's size.
    (Axis range and equal ranks are the structural verifier's.)"""
    axis, out = _axis(op), ranked_shape(op.output)
    inputs = [ranked_shape(v) for v in op.input1]
    for k, dims in enumerate(inputs):
        for i, (d, o) in enumerate(zip(dims, out, strict=True)):
            if i != axis and not _dynamic(d, o) and d != o:
                check.report(OUTPUT_SHAPE, op, f"input {k} dim {i} is {d}, the output's is {o}")
    parts = [dims[axis] for dims in inputs]
    if not _dynamic(out[axis], *parts) and sum(parts) != out[axis]:
        text = " + ".join(map(str, parts))
        check.report(
            OUTPUT_SHAPE,
            op,
            f"output dim {axis} is {out[axis]}, the inputs give {text} = {sum(parts)}",
        )


@op_rule(TransposeOp)
def transpose(check: Checker, op: TransposeOp) -> None:
    """``output[i] == input[perms[i]]`` (perms being a permutation is structural)."""
    x, out = ranked_shape(op.input1), ranked_shape(op.output)
    perms = tuple(int(v) for v in op.perms.get_values())
    if not _same_rank(check, op, x, out):
        return
    _expect_dims(check, op, out, [x[p] for p in perms], "input[perms[i]]")


@op_rule(TileOp)
def tile(check: Checker, op: TileOp) -> None:
    """``output[i] == input[i] * multiples[i]``."""
    multiples, x, out = (
        constant_ints(op.multiples),
        ranked_shape(op.input1),
        ranked_shape(op.output),
    )
    if multiples is None or len(multiples) != len(x) or not _same_rank(check, op, x, out):
        return
    expected = [-1 if d < 0 else d * int(m) for d, m in zip(x, multiples, strict=True)]
    _expect_dims(check, op, out, expected, "input * multiples")


@op_rule(ReshapeOp)
def reshape(check: Checker, op: ReshapeOp) -> None:
    """The element count is kept, and the shape operand is the output's shape."""
    x, out = ranked_shape(op.input1), ranked_shape(op.output)
    if not _dynamic(*x, *out) and np.prod(x, dtype=np.int64) != np.prod(out, dtype=np.int64):
        count_in, count_out = int(np.prod(x, dtype=np.int64)), int(np.prod(out, dtype=np.int64))
        check.report(OUTPUT_SHAPE, op, f"output has {count_out} elements, input has {count_in}")
    new_shape = constant_ints(op.shape)
    # MLIR accepts -1 in the shape operand (an inferred dim); the spec's shape *is* the output's.
    if new_shape is None or len(new_shape) != len(out):
        return
    if any(o >= 0 and s != o for s, o in zip(new_shape.tolist(), out, strict=True)):
        check.report(
            OUTPUT_SHAPE, op, f"shape operand {new_shape.tolist()} != output shape {dims_text(out)}"
        )


@op_rule(ArgMaxOp)
def argmax(check: Checker, op: ArgMaxOp) -> None:
    """The output is the input's shape without the axis (axis range and rank are structural)."""
    x, out, axis = ranked_shape(op.input), ranked_shape(op.output), _axis(op)
    _expect_dims(check, op, out, x[:axis] + x[axis + 1 :], f"input without axis {axis}")


@op_rule(ReverseOp)
def reverse(check: Checker, op: ReverseOp) -> None:
    """``0 <= axis < rank`` (the output sharing the input's shape is a shape-symbol check)."""
    rank, axis = len(ranked_shape(op.input1)), _axis(op)
    if not 0 <= axis < rank:
        check.report(ATTRIBUTE_RANGE, op, f"axis {axis} is outside [0, {rank})")


# --------------------------------------------------------------------------- elementwise and tables


@op_rule(ClampOp)
def clamp(check: Checker, op: ClampOp) -> None:
    """min_val <= max_val, neither NaN."""
    # The structural verifier typed both like the input element: integer or float attributes.
    bounds = cast(tuple[IntegerAttr | FloatAttr, ...], (op.min_val, op.max_val))
    low, high = (b.value.data for b in bounds)
    if any(isinstance(v, float) and np.isnan(v) for v in (low, high)):
        check.report(ATTRIBUTE_RANGE, op, f"min_val {low} / max_val {high} must not be NaN")
    elif high < low:
        check.report(ATTRIBUTE_RANGE, op, f"max_val {high} < min_val {low}")


@op_rule(MulOp)
def mul_shift(check: Checker, op: MulOp) -> None:
    """REQUIRE(0 <= shift <= 63) and REQUIRE(is_same<in_t,i32_t>() || shift == 0)."""
    shift = constant_ints(op.shift)
    if shift is None or not shift.size:
        return
    value, in_t = int(shift[0]), spec_type_name(element_type(op.input1.type))
    low, high = MUL_SHIFT_RANGE
    if not low <= value <= high:
        check.report(ATTRIBUTE_RANGE, op, f"shift {value} is outside [{low}, {high}]")
    elif value != 0 and in_t != "i32_t":
        check.report(ATTRIBUTE_RANGE, op, f"shift {value} != 0 for {in_t}; only i32_t inputs shift")


@op_rule(TableOp)
def table(check: Checker, op: TableOp) -> None:
    """REQUIRE(length(table) == TABLE_SIZE): 256 entries for i8, 513 for i16."""
    in_t = spec_type_name(element_type(op.input1.type))
    want, dims = TABLE_SIZE.get(in_t) if in_t is not None else None, ranked_shape(op.table)
    if want is None or len(dims) != 1 or _dynamic(*dims) or dims[0] == want:
        return
    check.report(ATTRIBUTE_RANGE, op, f"table has {dims[0]} entries, {in_t} needs {want}")


@op_rule(FFT2DOp, RFFT2DOp)
def fft_sizes(check: Checker, op: FFT2DOp | RFFT2DOp) -> None:
    """ERROR_IF(!power_of_two(H) || !power_of_two(W)) on the input [N,H,W]."""
    dims = ranked_shape(op.input_real)
    for name, size in (("H", dims[1]), ("W", dims[2])):
        if size >= 0 and (size == 0 or size & (size - 1)):
            check.report(ATTRIBUTE_RANGE, op, f"{name} {size} is not a power of two")


@op_rule(GatherOp, ScatterOp)
def gather_scatter_indices(check: Checker, op: GatherOp | ScatterOp) -> None:
    """Constant indices: REQUIRE(0 <= k < K); SCATTER also writes each [n, k] at most once."""
    indices = constant_ints(op.indices)
    values = op.values if isinstance(op, GatherOp) else op.values_in
    k = ranked_shape(values)[1]
    if indices is None or k < 0:
        return
    bad = indices[(indices < 0) | (indices >= k)]
    if bad.size:
        check.report(ATTRIBUTE_RANGE, op, f"index {int(bad[0])} is outside [0, {k})")
    if not isinstance(op, ScatterOp):
        return
    for n, row in enumerate(indices.reshape(ranked_shape(op.indices)[0], -1)):
        seen, counts = np.unique(row, return_counts=True)
        if np.any(counts > 1):
            check.report(
                ATTRIBUTE_RANGE, op, f"batch {n} scatters to index {int(seen[counts > 1][0])} twice"
            )


__all__ = ["MUL_SHIFT_RANGE", "RESIZE_MAX_DIM", "RESIZE_MAX_NUMERATOR", "TABLE_SIZE"]
