"""fp8 (``+fp8e4m3`` / ``+fp8e5m2``) through every layer: storage, MLIR text, verifier,
flatbuffer, reference model.

``tosa-opt`` is the oracle for text (every one of the 256 bit patterns of each 8-bit
float type prints as MLIR prints it and parses back to the same byte) and for the
flatbuffer (it reads what we write); the reference model runs fp8 graphs whose exact
result numpy can compute (small values: every product and sum is exact in f16).
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from xdsl.dialects.builtin import (
    Float8E4M3FNType,
    Float8E5M2Type,
    Float8E8M0FNUType,
    Float16Type,
    ModuleOp,
    TensorType,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region

import ir
import ir.verify
from ir.builders import const, const_shape, flat_storage, numpy_from_dense, storage_dtype
from ir.dialects import tosa_ext as tosa
from ir.float_format import mlir_float_text_from_bits
from ir.mlir_tools import deserialize_with_tosa_opt
from runtime import run_reference
from tests.support.ir_compare import assert_same_graph
from tests.support.op_cases import parse_props
from tosa_flatbuffer import decode, from_flatbuffer, to_flatbuffer

FP8 = {
    "f8E4M3FN": (Float8E4M3FNType(), ml_dtypes.float8_e4m3fn, "fp8e4m3"),
    "f8E5M2": (Float8E5M2Type(), ml_dtypes.float8_e5m2, "fp8e5m2"),
}
EVERY_BYTE = np.arange(256, dtype=np.uint8)
RNG = np.random.default_rng(8)


def _const_lines(kind: str, chunks: list[str], size: int) -> str:
    ty = f"tensor<{size}x{kind}>"
    body = [
        f'    %{i} = "tosa.const"() <{{values = dense<{c}> : {ty}}}> : () -> {ty}'
        for i, c in enumerate(chunks)
    ]
    return "\n".join(["module {", "  func.func @f() {", *body, "    return", "  }", "}"])


@pytest.mark.parametrize("kind", ["f8E4M3FN", "f8E5M2", "f8E8M0FNU"])
def test_every_bit_pattern_prints_as_mlir_and_parses_back(kind, tosa_opt):
    """64 elements per tensor, so MLIR prints lists, not hex: NaNs (``0x7F``), infinities,
    subnormals, -0 and the largest finite value (448, 57344, 2**127) among them."""
    hex_chunks = [
        '"0x' + EVERY_BYTE[i : i + 64].tobytes().hex().upper() + '"' for i in range(0, 256, 64)
    ]
    theirs = tosa_opt(_const_lines(kind, hex_chunks, 64)).stdout
    ours = [
        ", ".join(mlir_float_text_from_bits(int(b), kind) for b in EVERY_BYTE[i : i + 64])
        for i in range(0, 256, 64)
    ]
    assert theirs.strip() == _const_lines(kind, [f"[{c}]" for c in ours], 64)

    module = ir.parse_module(theirs)
    parsed = [
        np.asarray(flat_storage(op.values)).view(np.uint8)
        for op in module.walk()
        if isinstance(op, tosa.ConstOp)
    ]
    np.testing.assert_array_equal(np.concatenate(parsed), EVERY_BYTE)
    assert ir.print_module(module).strip() == theirs.strip()


@pytest.mark.parametrize(
    "text",
    [
        "dense<[1.000000e+00, 0xFF800000]> : tensor<2xf32>",  # -inf in a list
        "dense<0x7F800000> : tensor<3xf32>",  # +inf splat
        "dense<[0x7FC00001, 2.000000e+00]> : tensor<2xf32>",  # a NaN payload is kept
        "dense<[0x7FC0, -0.000000e+00]> : tensor<2xbf16>",
        "dense<[0x7F, 4.480000e+02]> : tensor<2xf8E4M3FN>",
        "dense<0xFF> : tensor<2xf8E8M0FNU>",
    ],
)
def test_hex_float_literals_are_bit_patterns(text, tosa_opt):
    """MLIR reads a hex literal in a float tensor as the element's bits."""
    ty = text.rsplit(": ", 1)[1]
    line = f'"tosa.const"() <{{values = {text}}}> : () -> {ty}'
    module_text = (
        f"module {{\n  func.func @f() -> {ty} {{\n    %0 = {line}\n    return %0 : {ty}\n  }}\n}}"
    )
    theirs = tosa_opt(module_text).stdout
    assert ir.print_module(ir.parse_module(module_text)).strip() == theirs.strip()


@pytest.mark.parametrize("kind", sorted(FP8))
def test_storage_is_ml_dtypes_and_constants_are_bytes(kind):
    element, dtype, _ = FP8[kind]
    assert storage_dtype(element) == np.dtype(dtype)
    values = EVERY_BYTE.view(dtype).reshape(16, 16)
    attr = const(values, element).values
    assert attr.data.data == EVERY_BYTE.tobytes()
    assert numpy_from_dense(attr).tobytes() == EVERY_BYTE.tobytes()
    assert storage_dtype(Float8E8M0FNUType()) == np.dtype(ml_dtypes.float8_e8m0fnu)


# --------------------------------------------------------------------------- graphs


def _small(shape, dtype) -> np.ndarray:
    """Values whose products and sums of a few are exact in f16 (and in fp8)."""
    return RNG.choice(np.array([-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2]), size=shape).astype(dtype)


def _module(arg_type, ops, result) -> ModuleOp:
    block = Block(arg_types=[arg_type])
    built = ops(block.args[0])
    block.add_ops([*built, ReturnOp(built[-1].results[0])])
    return ModuleOp([FuncOp("main", ([arg_type], [result]), Region(block))])


def _conv2d(kind: str, weights: np.ndarray, bias: np.ndarray) -> ModuleOp:
    element = FP8[kind][0]
    f16 = Float16Type()
    out = TensorType(f16, [1, 4, 4, weights.shape[0]])

    def ops(x):
        w, b = const(weights, element), const(bias, f16)
        izp, wzp = (const(np.zeros(1, FP8[kind][1]), element) for _ in range(2))
        props, _ = parse_props(
            "{acc_type = f16, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, "
            "stride = array<i64: 1, 1>}",
            tosa.Conv2DOp,
        )
        conv = tosa.Conv2DOp.create(
            operands=[x, w.output, b.output, izp.output, wzp.output],
            result_types=[out],
            properties=props,
        )
        return [w, b, izp, wzp, conv]

    return _module(TensorType(element, [1, 4, 4, weights.shape[3]]), ops, out)


def _pad(kind: str, pad_value: float) -> ModuleOp:
    element, dtype, _ = FP8[kind]
    out = TensorType(element, [2, 5])

    def ops(x):
        padding = const_shape([0, 0, 1, 1])
        value = const(np.array([pad_value], dtype), element)
        pad = tosa.PadOp.create(operands=[x, padding.output, value.output], result_types=[out])
        return [padding, value, pad]

    return _module(TensorType(element, [2, 3]), ops, out)


def _round_trips(module: ModuleOp, spec: str, tmp_path, tosa_opt) -> bytes:
    """Verified under ``spec``, text = tosa-opt's, IR -> flatbuffer -> IR -> same bytes,
    and tosa-opt reads our file back to the same graph."""
    ir.verify.verify(module, spec=spec)
    text = ir.print_module(module)
    assert tosa_opt(text).stdout.strip() == text.strip()
    assert_same_graph(ir.parse_module(text), module, context="text round trip")
    data = to_flatbuffer(module)
    assert decode(data).version == (1, 0, 0, False)
    back = from_flatbuffer(data)
    assert_same_graph(back, module, context="flatbuffer round trip")
    assert to_flatbuffer(back) == data
    path = tmp_path / "fp8.tosa"
    path.write_bytes(data)
    assert_same_graph(
        ir.parse_module(deserialize_with_tosa_opt(path, tmp_path / "fp8.mlir")),
        back,
        context="tosa-opt reading ours",
    )
    return data


@pytest.mark.parametrize("kind", sorted(FP8))
def test_fp8_conv2d_through_every_layer(kind, tmp_path, tosa_opt):
    _, dtype, extension = FP8[kind]
    weights = _small((3, 1, 1, 2), dtype)
    bias = _small((3,), np.float16)
    module = _conv2d(kind, weights, bias)
    data = _round_trips(module, f"TOSA-1.0+FP+{extension}", tmp_path, tosa_opt)

    x = _small((1, 4, 4, 2), dtype)
    (got,) = run_reference(data, [x])
    want = (
        np.einsum("nhwc,oc->nhwo", x.astype(np.float64), weights[:, 0, 0, :].astype(np.float64))
        + bias
    )
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, want.astype(np.float16))


@pytest.mark.parametrize("kind", sorted(FP8))
def test_fp8_pad_through_every_layer(kind, tmp_path, tosa_opt):
    _, dtype, extension = FP8[kind]
    module = _pad(kind, -1.5)
    data = _round_trips(module, f"TOSA-1.0+FP+{extension}", tmp_path, tosa_opt)
    x = _small((2, 3), dtype)
    (got,) = run_reference(data, [x])
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, np.pad(x, ((0, 0), (1, 1)), constant_values=dtype(-1.5)))


@pytest.mark.parametrize("kind", sorted(FP8))
def test_fp8_needs_its_extension(kind):
    _, dtype, extension = FP8[kind]
    module = _conv2d(kind, _small((3, 1, 1, 2), dtype), _small((3,), np.float16))
    with pytest.raises(ir.verify.VerificationError, match=r"CONV2D|conv2d"):
        ir.verify.verify(module, spec="TOSA-1.0+FP")
    other = "fp8e5m2" if extension == "fp8e4m3" else "fp8e4m3"
    with pytest.raises(ir.verify.VerificationError):
        ir.verify.verify(module, spec=f"TOSA-1.0+FP+{other}")
