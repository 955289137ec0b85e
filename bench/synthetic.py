"""Synthetic TOSA-level modules of a chosen size: the scale benchmark's inputs.

A module is a chain of blocks in MobileNetV2's INT op mix (per block: a 1x1 ``conv2d``
with int8 weights, int32 bias and zero points; a per-channel ``rescale`` to int8; a
``clamp``; every other block a residual ``add`` through int32 RESCALEs), between a uint8
input RESCALE and a uint8 output RESCALE, so the module is in the typed stage and
``legalize-unsigned-io`` has work to do. Constants are about three quarters of the ops,
as in MobileNetV2 (553 of 705).

The pieces are written once as MLIR text and parsed once; a module is their ops cloned
block after block, each weight, bias and multiplier refilled with seeded random bytes
(``ir.builders``, never Python lists), so building 10k ops or 100 MB of weights parses
no large text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region, SSAValue

import ir
from ir.builders import dense_from_numpy, flat_storage

TENSOR_NAME = "tosa.tensor_name"
#: refilled with random data per block (by the value's name in the text below)
RANDOM_CONSTANTS = ("w", "b", "out_m")

_CONST = (
    '\n    %{n} = "tosa.const"() <{{values = dense<{v}> : tensor<{k}x{t}>}}>'
    " : () -> tensor<{k}x{t}>"
)
_RESCALE = (
    "\n    %{n} = tosa.rescale %{src}, %{n}_m, %{n}_s, %{n}_izp, %{n}_ozp {{input_unsigned = {iu},"
    " output_unsigned = {ou}, per_channel = {pc}, rounding_mode = SINGLE_ROUND, scale32 = true}}"
    " : (tensor<{s}x{it}>, tensor<{k}xi32>, tensor<{k}xi8>, tensor<1x{it}>, tensor<1x{ot}>)"
    " -> tensor<{s}x{ot}>"
)
_CONV = (
    "\n    %conv = tosa.conv2d %arg0, %w, %b, %czp, %wzp"
    " {{acc_type = i32, dilation = array<i64: 1, 1>,"
    " pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>}} : (tensor<{s}xi8>,"
    " tensor<{c}x1x1x{c}xi8>, tensor<{c}xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<{s}xi32>"
)
_CLAMP = (
    "\n    %act = tosa.clamp %out {{max_val = 127 : i8, min_val = -128 : i8}}"
    " : (tensor<{s}xi8>) -> tensor<{s}xi8>"
)
_ADD = "\n    %sum = tosa.add %ra, %rb : (tensor<{s}xi32>, tensor<{s}xi32>) -> tensor<{s}xi32>"

#: zero point of each element type at the boundaries and inside
_ZERO_POINT = {"ui8": 128, "i8": -128, "i32": 0}


def _rescale(name: str, src: str, shape: str, k: int, in_t: str, out_t: str) -> str:
    """A RESCALE with its four constants; shift 38 for an int32 input (a scale near
    1/256), 30 otherwise (scale 1)."""
    shift = 38 if in_t == "i32" else 30
    text = _CONST.format(n=f"{name}_m", v=1 << 30, k=k, t="i32")
    text += _CONST.format(n=f"{name}_s", v=shift, k=k, t="i8")
    text += _CONST.format(n=f"{name}_izp", v=_ZERO_POINT[in_t], k=1, t=in_t)
    text += _CONST.format(n=f"{name}_ozp", v=_ZERO_POINT[out_t], k=1, t=out_t)
    flags = {"iu": str(in_t == "ui8").lower(), "ou": str(out_t == "ui8").lower()}
    return text + _RESCALE.format(
        n=name, src=src, s=shape, k=k, it=in_t, ot=out_t, pc=str(k > 1).lower(), **flags
    )


def _block_body(channels: int, shape: str, residual: bool) -> tuple[str, str]:
    body = _CONST.format(n="w", v=1, k=f"{channels}x1x1", t=f"{channels}xi8")
    body += _CONST.format(n="b", v=0, k=channels, t="i32")
    body += _CONST.format(n="czp", v=-128, k=1, t="i8") + _CONST.format(n="wzp", v=0, k=1, t="i8")
    body += _CONV.format(s=shape, c=channels)
    body += _rescale("out", "conv", shape, channels, "i32", "i8") + _CLAMP.format(s=shape)
    if not residual:
        return body, "act"
    body += _rescale("ra", "act", shape, 1, "i8", "i32") + _rescale(
        "rb", "arg0", shape, 1, "i8", "i32"
    )
    body += _ADD.format(s=shape) + _rescale("res", "sum", shape, 1, "i32", "i8")
    return body, "res"


def pieces_text(channels: int, spatial: int) -> str:
    """The pieces as one module: ``@head`` (ui8 -> i8), ``@plain`` and ``@residual``
    blocks (i8 -> i8), ``@tail`` (i8 -> ui8)."""
    shape = f"1x{spatial}x{spatial}x{channels}"
    functions = {
        "head": ("ui8", "i8", (_rescale("in", "arg0", shape, 1, "ui8", "i8"), "in")),
        "plain": ("i8", "i8", _block_body(channels, shape, False)),
        "residual": ("i8", "i8", _block_body(channels, shape, True)),
        "tail": ("i8", "ui8", (_rescale("o", "arg0", shape, 1, "i8", "ui8"), "o")),
    }
    text = "module {\n"
    for name, (in_t, out_t, (body, result)) in functions.items():
        text += (
            f"  func.func @{name}(%arg0: tensor<{shape}x{in_t}>) -> tensor<{shape}x{out_t}> "
            f"{{{body}\n"
            f"    return %{result} : tensor<{shape}x{out_t}>\n  }}\n"
        )
    return text + "}\n"


@dataclass
class _Pieces:
    head: Block
    plain: Block
    residual: Block
    tail: Block

    @classmethod
    def parse(cls, channels: int, spatial: int) -> _Pieces:
        module = ir.parse_module(pieces_text(channels, spatial))
        blocks = {op.sym_name.data: op.body.block for op in module.ops if isinstance(op, FuncOp)}
        return cls(**blocks)


def _append(
    target: Block, piece: Block, value: SSAValue, index: int, rng: np.random.Generator
) -> SSAValue:
    """Clone ``piece``'s ops (its argument mapped to ``value``) onto ``target``; each
    op gets a unique tensor name; returns the piece's result."""
    mapping = {piece.args[0]: value}
    for op in piece.ops:
        if isinstance(op, ReturnOp):
            return mapping[op.operands[0]]
        new = op.clone(value_mapper=mapping)
        hint = op.results[0].name_hint
        new.attributes[TENSOR_NAME] = StringAttr(f"{hint}_{index}")
        if hint in RANDOM_CONSTANTS:
            _refill(new, hint, rng)
        target.add_op(new)
        mapping[op.results[0]] = new.results[0]
    raise ValueError("piece without return")


def _refill(op, hint: str, rng: np.random.Generator) -> None:
    """Seeded random weights (int8), bias (small int32) and multipliers (in [2^30, 2^31))."""
    values = op.properties["values"]
    dtype = flat_storage(values).dtype
    low, high = {"w": (-128, 127), "b": (-1000, 1000), "out_m": (1 << 30, (1 << 31) - 1)}[hint]
    data = rng.integers(low, high, size=tuple(values.type.get_shape()), dtype=dtype, endpoint=True)
    op.properties["values"] = dense_from_numpy(data, values.type.element_type)


#: ops per plain + residual block pair (constants included) and around the chain
OPS_PER_PAIR = 11 + 27
OPS_OUTSIDE = 5 + 5 + 1


def synthetic_module(
    blocks: int, *, channels: int = 16, spatial: int = 4, seed: int = 0
) -> ModuleOp:
    """A typed-stage module of ``blocks`` blocks, alternating plain and residual."""
    pieces = _Pieces.parse(channels, spatial)
    rng = np.random.default_rng(seed)
    head_arg = pieces.head.args[0].type
    body = Block(arg_types=[head_arg])
    value = _append(body, pieces.head, body.args[0], 0, rng)
    for i in range(blocks):
        piece = pieces.residual if i % 2 else pieces.plain
        value = _append(body, piece, value, i, rng)
    value = _append(body, pieces.tail, value, 0, rng)
    body.add_op(ReturnOp(value))
    func = FuncOp("main", ([head_arg], [value.type]), Region(body))
    return ModuleOp([func])


def blocks_for_ops(ops: int) -> int:
    """Blocks giving about ``ops`` ops in all."""
    return max(1, round(2 * (ops - OPS_OUTSIDE) / OPS_PER_PAIR))


def blocks_for_weights(weight_bytes: int, channels: int) -> int:
    """Blocks whose int8 weights (``channels``^2 bytes each) reach ``weight_bytes``."""
    return math.ceil(weight_bytes / channels**2)


def op_count(module: ModuleOp) -> int:
    """Ops inside the functions (constants and return included; module and func not)."""
    return sum(1 for op in module.walk() if not isinstance(op, ModuleOp | FuncOp))


def weight_bytes(module: ModuleOp) -> int:
    """Bytes held by every constant of the module."""
    from ir.dialects.tosa_ext import ConstOp

    return sum(len(op.values.data.data) for op in module.walk() if isinstance(op, ConstOp))
