"""TOSA 1.1 where ExecuTorch 1.5.1 emits it: block-scaled (MXFP) operators, e8m0 scales,
fp4/fp6 storage, the 1.1 spec table, the 1.1 draft version field.

Oracles: ``tosa-opt`` (LLVM 23 reads and prints 1.1) for text and for our flatbuffer, the
reference model for what a 1.1 file computes.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import ir
import ir.verify
from ir.mlir_tools import deserialize_with_tosa_opt
from ir.spec import operator_spec, tosa_spec
from ir.verify import SpecError, parse_spec
from runtime import run_reference
from tests.support.ir_compare import assert_same_graph
from tosa_flatbuffer import FlatbufferError, decode, from_flatbuffer, to_flatbuffer
from tosa_flatbuffer.schema import CODEC_BY_DTYPE, DType, file_bytes, file_size, ir_bytes

MXFP = "TOSA-1.1+FP+mxfp"

BLOCK_SCALED = """module {
  func.func @main(%arg0: tensor<1x4x4x32xf8E4M3FN>, %arg1: tensor<1x4x4x1xf8E8M0FNU>, %arg2: tensor<8x1x1x32xf8E4M3FN>, %arg3: tensor<8x1x1x1xf8E8M0FNU>, %arg4: tensor<8xf32>, %arg5: tensor<1x8x32xf8E5M2>, %arg6: tensor<1x8x1xf8E8M0FNU>) -> (tensor<1x4x4x8xf32>, tensor<1x8x8xf32>) {
    %0 = tosa.const_shape  {values = dense<0> : tensor<4xindex>} : () -> !tosa.shape<4>
    %1 = tosa.const_shape  {values = dense<1> : tensor<2xindex>} : () -> !tosa.shape<2>
    %2 = tosa.const_shape  {values = dense<1> : tensor<2xindex>} : () -> !tosa.shape<2>
    %3 = tosa.conv2d_block_scaled %arg0, %arg1, %arg2, %arg3, %arg4, %0, %1, %2 {block_size = BLOCK_SIZE_32} : (tensor<1x4x4x32xf8E4M3FN>, tensor<1x4x4x1xf8E8M0FNU>, tensor<8x1x1x32xf8E4M3FN>, tensor<8x1x1x1xf8E8M0FNU>, tensor<8xf32>, !tosa.shape<4>, !tosa.shape<2>, !tosa.shape<2>) -> tensor<1x4x4x8xf32>
    %4 = tosa.matmul_t_block_scaled %arg5, %arg6, %arg5, %arg6 {block_size = BLOCK_SIZE_32} : (tensor<1x8x32xf8E5M2>, tensor<1x8x1xf8E8M0FNU>, tensor<1x8x32xf8E5M2>, tensor<1x8x1xf8E8M0FNU>) -> tensor<1x8x8xf32>
    return %3, %4 : tensor<1x4x4x8xf32>, tensor<1x8x8xf32>
  }
}"""

CAST_ROUND_TRIP = """module {
  func.func @main(%arg0: tensor<2x64xf32>) -> (tensor<2x64xf32>, tensor<2x64xf8E4M3FN>) {
    %output_data, %output_scale = tosa.cast_to_block_scaled %arg0 {block_size = BLOCK_SIZE_32} : (tensor<2x64xf32>) -> (tensor<2x64xf8E4M3FN>, tensor<2x2xf8E8M0FNU>)
    %0 = tosa.cast_from_block_scaled %output_data, %output_scale {block_size = BLOCK_SIZE_32} : (tensor<2x64xf8E4M3FN>, tensor<2x2xf8E8M0FNU>) -> tensor<2x64xf32>
    return %0, %output_data : tensor<2x64xf32>, tensor<2x64xf8E4M3FN>
  }
}"""


# --------------------------------------------------------------------------- spec


def test_spec_strings_pick_their_table():
    t10, t11 = parse_spec("TOSA-1.0+FP+fp8e4m3"), parse_spec(MXFP)
    assert (t10.version, t11.version) == ("1.0", "1.1")
    assert {"EXT-MX-COMMON", "EXT-MX-FP8E4M3", "EXT-MXFP-CONV"} <= t11.extensions
    assert tosa_spec("1.0")["version"] == "1.0.2" and tosa_spec("1.1")["version"] == "1.1.0"
    assert operator_spec("CONV2D_BLOCK_SCALED", "1.0") is None
    assert operator_spec("CONV2D_BLOCK_SCALED", "1.1") is not None
    assert parse_spec("TOSA-1.1+FP+shape+int64+random").version == "1.1"
    with pytest.raises(SpecError, match="unknown token 'mxfp'"):
        parse_spec("TOSA-1.0+FP+mxfp")
    with pytest.raises(SpecError, match=r"1.2 is not supported"):
        parse_spec("TOSA-1.2+FP")


def test_three_way_requirements_are_kept():
    """The 1.1 draft's ``and_name2``: MXFP conv needs the conv extension, the format and
    the common MX base."""
    modes = operator_spec("CONV2D_BLOCK_SCALED", "1.1")["type_support"]
    fp8 = next(m for m in modes if m["types"]["in_t"] == "fp8e4m3_t")
    assert sorted(fp8["profiles"][0]) == ["EXT-MX-COMMON", "EXT-MX-FP8E4M3", "EXT-MXFP-CONV"]


def test_block_scaled_module_verifies_under_1_1_only():
    module = ir.parse_module(BLOCK_SCALED)
    ir.verify.verify(module, spec=MXFP)
    with pytest.raises(
        ir.verify.VerificationError,
        match=r"\[spec-version\].*CONV2D_BLOCK_SCALED is not a TOSA 1.0",
    ):
        ir.verify.verify(module, spec="TOSA-1.0+FP+fp8e4m3+fp8e5m2")
    with pytest.raises(ir.verify.VerificationError, match=r"\[profile\]"):
        ir.verify.verify(module, spec="TOSA-1.1+FP")


# --------------------------------------------------------------------------- text, flatbuffer


@pytest.mark.parametrize("text", [BLOCK_SCALED, CAST_ROUND_TRIP], ids=["conv_matmul", "casts"])
def test_text_is_tosa_opts(text, tosa_opt):
    module = ir.parse_module(text)
    assert ir.print_module(module).strip() == text
    assert tosa_opt(text).stdout.strip() == text
    generic = tosa_opt(text, "--mlir-print-op-generic").stdout
    assert ir.print_module(ir.parse_module(generic)).strip() == text


@pytest.mark.parametrize("text", [BLOCK_SCALED, CAST_ROUND_TRIP], ids=["conv_matmul", "casts"])
def test_flatbuffer_is_1_1_draft_and_round_trips(text, tmp_path):
    module = ir.parse_module(text)
    data = to_flatbuffer(module)
    assert decode(data).version == (1, 1, 0, True)  # what ExecuTorch writes for TOSA-1.1
    assert to_flatbuffer(module, version="1.1") == data
    back = from_flatbuffer(data)
    assert_same_graph(back, module, context="ours read back")
    assert to_flatbuffer(back) == data
    path = tmp_path / "mx.tosa"
    path.write_bytes(data)
    theirs = ir.parse_module(deserialize_with_tosa_opt(path, tmp_path / "mx.mlir"))
    assert_same_graph(theirs, back, context="tosa-opt reading ours")
    with pytest.raises(FlatbufferError, match=r"needs TOSA 1.1"):
        to_flatbuffer(module, version="1.0")


def test_1_0_module_keeps_the_1_0_version_unless_asked():
    module = ir.parse_module(
        "func.func @main(%arg0: tensor<2xf32>) -> tensor<2xf32> {\n"
        "  %0 = tosa.abs %arg0 : (tensor<2xf32>) -> tensor<2xf32>\n  return %0 : tensor<2xf32>\n}"
    )
    assert decode(to_flatbuffer(module)).version == (1, 0, 0, False)
    assert decode(to_flatbuffer(module, version="1.1")).version == (1, 1, 0, True)


@pytest.mark.parametrize(
    "dtype, bits", [(DType.FP4E2M1, 4), (DType.FP6E2M3, 6), (DType.FP6E3M2, 6), (DType.INT4, 4)]
)
def test_sub_byte_packing_is_a_little_endian_bit_stream(dtype, bits):
    codec = CODEC_BY_DTYPE[dtype]
    count = 2**bits * 3 + 1  # every pattern, an odd count
    patterns = (np.arange(count) % 2**bits).astype(np.uint8)
    if dtype == DType.INT4:
        patterns = np.where(patterns > 7, patterns.astype(np.int16) - 16, patterns).astype(np.int8)
    packed = file_bytes(patterns.view(codec.numpy), codec)
    assert len(packed) == file_size(count, codec) == (count * bits + 7) // 8
    stream = int.from_bytes(packed, "little")
    fields = [(stream >> (bits * i)) & (2**bits - 1) for i in range(count)]
    assert fields == (np.arange(count) % 2**bits).tolist()
    assert ir_bytes(packed, count, codec) == patterns.tobytes()


# --------------------------------------------------------------------------- reference model


def test_reference_model_runs_a_1_1_file():
    """fp8 values times a power of two per 32-block survive CAST_TO -> CAST_FROM exactly.
    (The binding cannot hand back an FP8UE8M0 output, so the scales stay inside.)"""
    rng = np.random.default_rng(11)
    payload = rng.choice(
        np.array([-448, -3, -1.5, -0.25, 0, 0.5, 1, 2, 448], np.float32), size=(2, 64)
    )
    scales = np.repeat(2.0 ** rng.integers(-6, 6, size=(2, 2)), 32, axis=1).astype(np.float32)
    x = (payload * scales).astype(np.float32)
    back, data = run_reference(to_flatbuffer(ir.parse_module(CAST_ROUND_TRIP)), [x])
    assert data.dtype == np.dtype(ml_dtypes.float8_e4m3fn)
    np.testing.assert_array_equal(back, x)
    block_max = np.abs(data.astype(np.float32)).reshape(2, 2, 32).max(axis=2)
    assert ((block_max == 0) | (block_max > 64)).all()  # each block scaled up towards fp8's range
