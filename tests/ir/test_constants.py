"""Constants are bytes: built from numpy, printed like MLIR, elided for review, exact on
round trip."""

import subprocess
import sys

import ml_dtypes
import numpy as np
import pytest
from xdsl.dialects.builtin import (
    BFloat16Type,
    Float8E4M3FNType,
    Float8E5M2Type,
    Float16Type,
    Float32Type,
    IntegerType,
    ModuleOp,
    Signedness,
    TensorType,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region

import ir
from ir.builders import const, numpy_from_dense
from ir.dialects import tosa_ext as tosa

RNG = np.random.default_rng(7)

ELEMENT_TYPES = {
    "i1": (IntegerType(1), lambda n: RNG.integers(0, 2, n).astype(np.int8)),
    "i8": (IntegerType(8), lambda n: RNG.integers(-128, 128, n).astype(np.int8)),
    "ui8": (
        IntegerType(8, Signedness.UNSIGNED),
        lambda n: RNG.integers(0, 256, n).astype(np.uint8),
    ),
    "i16": (IntegerType(16), lambda n: RNG.integers(-(2**15), 2**15, n).astype(np.int16)),
    "i32": (IntegerType(32), lambda n: RNG.integers(-(2**31), 2**31, n).astype(np.int32)),
    "i48": (IntegerType(48), lambda n: RNG.integers(-(2**47), 2**47, n).astype(np.int64)),
    "f16": (Float16Type(), lambda n: RNG.standard_normal(n).astype(np.float16)),
    "bf16": (BFloat16Type(), lambda n: RNG.standard_normal(n).astype(ml_dtypes.bfloat16)),
    "f32": (Float32Type(), lambda n: (RNG.standard_normal(n) * 1e3).astype(np.float32)),
    "f8E4M3FN": (
        Float8E4M3FNType(),
        lambda n: (RNG.standard_normal(n) * 50).astype(ml_dtypes.float8_e4m3fn),
    ),
    "f8E5M2": (
        Float8E5M2Type(),
        lambda n: (RNG.standard_normal(n) * 1e3).astype(ml_dtypes.float8_e5m2),
    ),
}


def _module_with(*consts: tosa.ConstOp) -> ModuleOp:
    block = Block()
    block.add_ops([*consts, ReturnOp(*[c.output for c in consts])])
    func = FuncOp("consts", ((), [c.output.type for c in consts]), Region(block))
    return ModuleOp([func])


@pytest.mark.parametrize("type_name", sorted(ELEMENT_TYPES))
def test_constant_text_matches_tosa_opt(type_name, tosa_opt):
    """Lists, splats, and MLIR's hex form above 100 elements, for every element type."""
    element_type, make = ELEMENT_TYPES[type_name]
    arrays = [
        make(1),
        make(6).reshape(2, 3),
        np.full((3, 4), make(1)[0]),
        make(100),
        make(101),
        make(300).reshape(3, 100),
    ]
    module = _module_with(*[const(a, element_type) for a in arrays])
    ours = ir.print_module(module)
    assert tosa_opt(ours).stdout.strip() == ours.strip()
    back = ir.parse_module(ours)
    for array, op in zip(arrays, [o for o in back.walk() if isinstance(o, tosa.ConstOp)]):
        np.testing.assert_array_equal(numpy_from_dense(op.values), array)


def test_large_constant_elided_for_review_and_exact_for_round_trip(tosa_opt):
    weights = RNG.integers(-128, 128, 1_000_000).astype(np.int8).reshape(1000, 1000)
    module = _module_with(const(weights, IntegerType(8)))

    review = ir.print_module(module, elide_constants=True)
    assert len(review) < 1000
    assert "dense_resource<sha256_" in review
    # MLIR parses the elided form.
    tosa_opt(review)
    # Identical bytes hash identically; different bytes do not.
    again = ir.print_module(
        _module_with(const(weights.copy(), IntegerType(8))), elide_constants=True
    )
    assert again == review
    changed = weights.copy()
    changed[0, 0] ^= 1
    assert (
        ir.print_module(_module_with(const(changed, IntegerType(8))), elide_constants=True)
        != review
    )

    full = ir.print_module(module)
    assert len(full) > 2_000_000
    (op,) = [o for o in ir.parse_module(full).walk() if isinstance(o, tosa.ConstOp)]
    assert numpy_from_dense(op.values).tobytes() == weights.tobytes()


def test_constant_bytes_are_not_copied_into_python_lists():
    weights = np.arange(4096, dtype=np.int32).reshape(64, 64)
    op = const(weights, IntegerType(32))
    assert isinstance(op.values.data.data, bytes)
    assert op.values.data.data == weights.tobytes()
    assert TensorType(IntegerType(32), [64, 64]) == op.output.type


def test_import_ir_loads_neither_torch_nor_executorch():
    code = (
        "import sys, ir, ir.builders, ir.printing, ir.dialects.tosa_ext, ir.lowering, ir.verify\n"
        "m = ir.parse_module('func.func @f(%a: tensor<2xi8>) -> tensor<2xi8> {\\n"
        "  %0 = tosa.abs %a : (tensor<2xi8>) -> tensor<2xi8>\\n  return %0 : tensor<2xi8>\\n}')\n"
        "ir.print_module(m)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('torch', 'executorch', 'torchao'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
