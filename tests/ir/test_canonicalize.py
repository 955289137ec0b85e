"""``canonicalize`` pattern by pattern on hand-written modules: each fold happens, and the
near-miss next to it (other bytes, other perms, a scale that is not exactly 1.0...) is
kept. The unity RESCALE fold is also run on the reference model over every int8 value.
The pass's sweeps give what xDSL's greedy walker gives with the same patterns, on the
lit texts and on modules where the order of the rewrites matters."""

import contextlib
from pathlib import Path

import numpy as np
import pytest
from xdsl.passes import PassPipeline
from xdsl.pattern_rewriter import PatternRewriteWalker
from xdsl.utils.exceptions import VerifyException

import ir
from ir.dialects import tosa_ext as tosa
from ir.lowering.canonicalize import (
    PATTERNS,
    ByOpType,
    Canonicalize,
    canonicalize,
    canonicalize_stats,
    is_unity_rescale,
    op_counts,
)
from ir.lowering.signless import to_signless
from ir.tensor_names import tensor_names
from ir.verify import VerificationError
from runtime import run_reference
from tosa_flatbuffer import decode, to_flatbuffer


def run(text: str) -> ir.ModuleOp:
    return canonicalize(ir.parse_module(text, name="canonicalize.mlir"))


def ops_named(module: ir.ModuleOp, name: str) -> list:
    return [op for op in module.walk() if op.name == name]


# ----------------------------------------------------------------------------- constants

CONSTANTS = """
func.func @main(%arg0: tensor<2xi8>, %arg1: tensor<1xi16>) -> (tensor<2xi8>, tensor<2xi8>, tensor<2xi8>, tensor<1xi16>) {
  %a = "tosa.const"() <{values = dense<[0, 0]> : tensor<2xi8>}> {tosa.tensor_name = "a"} : () -> tensor<2xi8>
  %b = "tosa.const"() <{values = dense<[0, 0]> : tensor<2xi8>}> {tosa.tensor_name = "b"} : () -> tensor<2xi8>
  %c = "tosa.const"() <{values = dense<[0, 1]> : tensor<2xi8>}> {tosa.tensor_name = "c"} : () -> tensor<2xi8>
  %d = "tosa.const"() <{values = dense<0> : tensor<1xi16>}> {tosa.tensor_name = "d"} : () -> tensor<1xi16>
  %0 = tosa.add %arg0, %a : (tensor<2xi8>, tensor<2xi8>) -> tensor<2xi8>
  %1 = tosa.add %arg0, %b : (tensor<2xi8>, tensor<2xi8>) -> tensor<2xi8>
  %2 = tosa.add %arg0, %c : (tensor<2xi8>, tensor<2xi8>) -> tensor<2xi8>
  %3 = tosa.add %arg1, %d : (tensor<1xi16>, tensor<1xi16>) -> tensor<1xi16>
  return %0, %1, %2, %3 : tensor<2xi8>, tensor<2xi8>, tensor<2xi8>, tensor<1xi16>
}
"""


def test_identical_constants_merge_into_the_first():
    m = run(CONSTANTS)
    consts = ops_named(m, "tosa.const")
    # b goes into a; c (other bytes) and d (same bytes, other type) stay
    assert [tensor_names(c)[0] for c in consts] == ["a", "c", "d"]
    adds = ops_named(m, "tosa.add")
    assert adds[0].operands[1] is adds[1].operands[1] is consts[0].output
    assert adds[2].operands[1] is consts[1].output


SHAPES = """
func.func @main(%arg0: tensor<6xi8>, %arg1: tensor<6xi8>) -> (tensor<2x3xi8>, tensor<2x3xi8>, tensor<3x2xi8>) {
  %s0 = tosa.const_shape {values = dense<[2, 3]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %s1 = tosa.const_shape {values = dense<[2, 3]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %s2 = tosa.const_shape {values = dense<[3, 2]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %0 = tosa.reshape %arg0, %s0 : (tensor<6xi8>, !tosa.shape<2>) -> tensor<2x3xi8>
  %1 = tosa.reshape %arg1, %s1 : (tensor<6xi8>, !tosa.shape<2>) -> tensor<2x3xi8>
  %2 = tosa.reshape %arg1, %s2 : (tensor<6xi8>, !tosa.shape<2>) -> tensor<3x2xi8>
  return %0, %1, %2 : tensor<2x3xi8>, tensor<2x3xi8>, tensor<3x2xi8>
}
"""


def test_identical_const_shapes_merge():
    m = run(SHAPES)
    assert op_counts(m) == {"ops": 3, "tosa.const": 0, "tosa.const_shape": 2}


REGIONS = """
func.func @main(%c: tensor<i1>, %x: tensor<2xf32>) -> tensor<2xf32> {
  %k = "tosa.const"() <{values = dense<2.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  %y = tosa.add %x, %k : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %0 = "tosa.cond_if"(%c, %y) ({
  ^bb0(%a: tensor<2xf32>):
    %k1 = "tosa.const"() <{values = dense<2.0> : tensor<2xf32>}> : () -> tensor<2xf32>
    %k2 = "tosa.const"() <{values = dense<2.0> : tensor<2xf32>}> : () -> tensor<2xf32>
    %s = tosa.add %a, %k1 : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    %t = tosa.sub %s, %k2 : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    tosa.yield %t : tensor<2xf32>
  }, {
  ^bb0(%a: tensor<2xf32>):
    %k3 = "tosa.const"() <{values = dense<2.0> : tensor<2xf32>}> : () -> tensor<2xf32>
    %s = tosa.sub %a, %k3 : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    tosa.yield %s : tensor<2xf32>
  }) : (tensor<i1>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
"""


def test_constants_merge_within_a_block_never_across_region_boundaries():
    """Blocks are isolated (the writer refuses a value defined outside its region): the
    then-branch's two constants merge, the outer one and the else-branch's stay apart."""
    m = run(REGIONS)
    assert op_counts(m)["tosa.const"] == 3
    to_flatbuffer(m)


# ----------------------------------------------------------------------------- transpose


def transpose_module(perms: str, out: str) -> str:
    """A transpose read by a negate, so that its result is not the graph's output."""
    return f"""
func.func @main(%arg0: tensor<1x2x3xi8>) -> tensor<{out}xi8> {{
  %z = "tosa.const"() <{{values = dense<0> : tensor<1xi8>}}> : () -> tensor<1xi8>
  %t = tosa.transpose %arg0 {{perms = array<i32: {perms}>}} : (tensor<1x2x3xi8>) -> tensor<{out}xi8>
  %n = tosa.negate %t, %z, %z : (tensor<{out}xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<{out}xi8>
  return %n : tensor<{out}xi8>
}}
"""


def test_identity_transpose_folds_and_a_real_one_stays():
    folded = run(transpose_module("0, 1, 2", "1x2x3"))
    assert not ops_named(folded, "tosa.transpose")
    (negate,) = ops_named(folded, "tosa.negate")
    assert negate.operands[0] is folded.body.block.first_op.body.block.args[0]
    kept = run(transpose_module("0, 2, 1", "1x3x2"))
    assert len(ops_named(kept, "tosa.transpose")) == 1


def test_a_returned_value_keeps_its_op_and_name():
    """An identity transpose whose result is the graph's output stays: the output tensor
    and its name are the flatbuffer's interface."""
    text = """
func.func @main(%arg0: tensor<1x2xi8> {tosa.tensor_name = "x"}) -> (tensor<1x2xi8> {tosa.tensor_name = "y"}) {
  %t = tosa.transpose %arg0 {perms = array<i32: 0, 1>, tosa.tensor_name = "y"} : (tensor<1x2xi8>) -> tensor<1x2xi8>
  return %t : tensor<1x2xi8>
}
"""
    m = run(text)
    assert len(ops_named(m, "tosa.transpose")) == 1
    main = decode(to_flatbuffer(m)).main
    assert (main.inputs, main.outputs) == (("x",), ("y",))


# ----------------------------------------------------------------------------- reshape

RESHAPES = """
func.func @main(%arg0: tensor<2x3xi8>) -> (tensor<6xi8>, tensor<3x2xi8>) {
  %s23 = tosa.const_shape {values = dense<[2, 3]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %s6 = tosa.const_shape {values = dense<6> : tensor<1xindex>} : () -> !tosa.shape<1>
  %s32 = tosa.const_shape {values = dense<[3, 2]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %same = tosa.reshape %arg0, %s23 {tosa.tensor_name = "same"} : (tensor<2x3xi8>, !tosa.shape<2>) -> tensor<2x3xi8>
  %flat = tosa.reshape %same, %s6 {tosa.tensor_name = "flat"} : (tensor<2x3xi8>, !tosa.shape<1>) -> tensor<6xi8>
  %back = tosa.reshape %flat, %s32 {tosa.tensor_name = "back"} : (tensor<6xi8>, !tosa.shape<2>) -> tensor<3x2xi8>
  return %flat, %back : tensor<6xi8>, tensor<3x2xi8>
}
"""


def test_identity_reshape_folds_and_reshape_of_reshape_reads_the_source():
    m = run(RESHAPES)
    arg = m.body.block.first_op.body.block.args[0]
    flat, back = ops_named(m, "tosa.reshape")
    assert [tensor_names(flat)[0], tensor_names(back)[0]] == ["flat", "back"]
    assert flat.input1 is arg  # the identity reshape "same" is gone
    assert back.input1 is arg  # reshape(reshape(x)) reads x, with its own shape [3, 2]
    assert back.shape.owner.values.get_shape() == (2,)
    # "flat" stays: it is returned; [2, 3] died with "same"
    assert op_counts(m) == {"ops": 2, "tosa.const": 0, "tosa.const_shape": 2}


# ----------------------------------------------------------------------------- rescale


def rescale_module(
    element: str = "i8",
    multiplier: int | tuple[int, ...] = 1 << 30,
    shift: int | tuple[int, ...] = 30,
    zps: tuple[int, int] = (-3, -3),
    *,
    scale32: bool = True,
    rounding: str = "SINGLE_ROUND",
    unsigned: tuple[bool, bool] = (False, False),
    width: int = 4,
) -> str:
    """A RESCALE of a ``1 x width`` tensor between two negates, so that its result is not
    the graph's output; per channel when ``multiplier``/``shift`` are tuples."""
    per_channel = isinstance(multiplier, tuple)
    n = len(multiplier) if per_channel else 1
    t, zp_t = f"tensor<1x{width}x{element}>", f"tensor<1x{element}>"
    m_t, s_t = f"tensor<{n}x{'i32' if scale32 else 'i16'}>", f"tensor<{n}xi8>"

    def dense(values) -> str:
        return f"dense<{list(values) if isinstance(values, tuple) else values}>"

    flags = (
        f"input_unsigned = {str(unsigned[0]).lower()}, output_unsigned = {str(unsigned[1]).lower()}, "
        f"per_channel = {str(per_channel).lower()}, rounding_mode = {rounding}, scale32 = {str(scale32).lower()}"
    )
    return f"""
func.func @main(%arg0: {t}) -> {t} {{
  %m = "tosa.const"() <{{values = {dense(multiplier)} : {m_t}}}> : () -> {m_t}
  %s = "tosa.const"() <{{values = {dense(shift)} : {s_t}}}> : () -> {s_t}
  %izp = "tosa.const"() <{{values = dense<{zps[0]}> : {zp_t}}}> : () -> {zp_t}
  %ozp = "tosa.const"() <{{values = dense<{zps[1]}> : {zp_t}}}> : () -> {zp_t}
  %z = "tosa.const"() <{{values = dense<0> : {zp_t}}}> : () -> {zp_t}
  %a = tosa.negate %arg0, %z, %z : ({t}, {zp_t}, {zp_t}) -> {t}
  %r = tosa.rescale %a, %m, %s, %izp, %ozp {{{flags}}} : ({t}, {m_t}, {s_t}, {zp_t}, {zp_t}) -> {t}
  %b = tosa.negate %r, %z, %z : ({t}, {zp_t}, {zp_t}) -> {t}
  return %b : {t}
}}
"""


UNITY = {
    "i8 scale32 2^30 >> 30": {},
    "i8 scale32 double round": {"rounding": "DOUBLE_ROUND"},
    "i8 scale32 2^9 >> 9": {"multiplier": 1 << 9, "shift": 9},
    "i8 scale16 2^14 >> 14": {"multiplier": 1 << 14, "shift": 14, "scale32": False},
    "i8 scale16 2^2 >> 2": {"multiplier": 4, "shift": 2, "scale32": False},
    "i16 scale32": {"element": "i16", "zps": (0, 0)},
    "i32 scale16": {"element": "i32", "zps": (0, 0), "multiplier": 4, "shift": 2, "scale32": False},
}

NEAR_MISSES = {
    "scale 0.5": {"multiplier": 1 << 29},
    "scale 1 + 2^-30": {"multiplier": (1 << 30) + 1},
    "zero points differ": {"zps": (-3, -2)},
    "input_unsigned": {"unsigned": (True, False)},
    "output_unsigned": {"unsigned": (False, True)},
    "inexact rounding": {"rounding": "INEXACT_ROUND"},
    # apply_scale_32 REQUIREs |value - zp| < 2^(shift-1): 2^8 >> 8 fails once v - zp >= 128
    "i8 scale32 2^8 >> 8": {"multiplier": 1 << 8, "shift": 8},
    # ... and an i32 value never fits under a 32-bit multiplier 2^shift
    "i32 scale32": {"element": "i32", "zps": (0, 0)},
    "i16 with a zero point": {"element": "i16", "zps": (5, 5)},
    "double round without scale32": {
        "multiplier": 4,
        "shift": 2,
        "scale32": False,
        "rounding": "DOUBLE_ROUND",
    },
}


@pytest.mark.parametrize("kwargs", UNITY.values(), ids=UNITY.keys())
def test_unity_rescale_folds(kwargs):
    m = run(rescale_module(**kwargs))
    assert not ops_named(m, "tosa.rescale")
    first, second = ops_named(m, "tosa.negate")
    assert second.operands[0] is first.output
    assert op_counts(m) == {
        "ops": 2,
        "tosa.const": 1,
        "tosa.const_shape": 0,
    }  # zps/multiplier/shift died


@pytest.mark.parametrize("kwargs", NEAR_MISSES.values(), ids=NEAR_MISSES.keys())
def test_rescale_that_is_not_exactly_unity_stays(kwargs):
    m = run(rescale_module(**kwargs))
    (rescale,) = ops_named(m, "tosa.rescale")
    assert not is_unity_rescale(rescale)


def test_per_channel_unity_needs_every_channel_unity():
    unit = 1 << 30
    assert not ops_named(
        run(rescale_module(multiplier=(unit,) * 4, shift=(30,) * 4)), "tosa.rescale"
    )
    # one channel at 2^2 >> 2: the arithmetic is exact, but its REQUIRE |v - zp| < 2 is not
    m = run(rescale_module(multiplier=(unit, unit, 4, unit), shift=(30, 30, 2, 30)))
    assert len(ops_named(m, "tosa.rescale")) == 1
    # two unit pairs without per_channel: an ERROR_IF (one pair expected), kept
    text = rescale_module(multiplier=(unit,) * 2, shift=(30,) * 2)
    m = run(text.replace("per_channel = true", "per_channel = false"))
    assert len(ops_named(m, "tosa.rescale")) == 1


@pytest.mark.parametrize(
    "case", ["i8 scale32 2^30 >> 30", "i8 scale32 2^9 >> 9", "i8 scale16 2^2 >> 2"]
)
def test_unity_rescale_fold_is_bit_exact_on_the_reference_model(case):
    """Every int8 value through the original graph and the folded one."""
    original = ir.parse_module(rescale_module(**UNITY[case], width=256))
    folded = canonicalize(original.clone())
    assert not ops_named(folded, "tosa.rescale")
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    (want,) = run_reference(to_flatbuffer(original), [x])
    (got,) = run_reference(to_flatbuffer(folded), [x])
    np.testing.assert_array_equal(got, want)


# ----------------------------------------------------------------------------- dead code

DEAD = """
func.func @main(%arg0: tensor<2xi8>) -> tensor<2xi8> {
  %unused = "tosa.const"() <{values = dense<7> : tensor<2xi8>}> : () -> tensor<2xi8>
  %used = "tosa.const"() <{values = dense<1> : tensor<2xi8>}> : () -> tensor<2xi8>
  %dead = tosa.abs %arg0 : (tensor<2xi8>) -> tensor<2xi8>
  %feeds_dead = tosa.add %arg0, %used : (tensor<2xi8>, tensor<2xi8>) -> tensor<2xi8>
  %dead2 = tosa.abs %feeds_dead : (tensor<2xi8>) -> tensor<2xi8>
  %live = tosa.sub %arg0, %used : (tensor<2xi8>, tensor<2xi8>) -> tensor<2xi8>
  return %live : tensor<2xi8>
}
"""


def test_dead_pure_ops_and_constants_are_erased():
    m = run(DEAD)
    assert [op.name for op in m.body.block.first_op.body.block.ops] == [
        "tosa.const",
        "tosa.sub",
        "func.return",
    ]


# ----------------------------------------------------------------------------- the pass


def test_pass_by_name_is_idempotent_and_counts():
    module = ir.parse_module(CONSTANTS + RESHAPES.replace("@main", "@other"))
    before = module.clone()
    PassPipeline.parse_spec({"canonicalize": lambda: Canonicalize}, "canonicalize").apply(
        ir.make_context(), module
    )
    once = ir.print_module(module)
    canonicalize(module)
    assert ir.print_module(module) == once
    stats = canonicalize_stats(before, module)
    assert stats == {"ops": (7, 6), "tosa.const": (4, 3), "tosa.const_shape": (3, 2)}
    assert isinstance(
        next(op for op in module.walk() if isinstance(op, tosa.ConstOp)), tosa.ConstOp
    )


def test_same_type_reshape_of_a_dynamic_shape_stays():
    """``tensor<?x?xi8>`` to ``tensor<?x?xi8>`` may turn 2x3 into 3x2: not an identity."""
    text = """
func.func @main(%arg0: tensor<?x?xi8>) -> tensor<?x?xi8> {
  %z = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %s = tosa.const_shape {values = dense<[3, 2]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %r = tosa.reshape %arg0, %s : (tensor<?x?xi8>, !tosa.shape<2>) -> tensor<?x?xi8>
  %n = tosa.negate %r, %z, %z : (tensor<?x?xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<?x?xi8>
  return %n : tensor<?x?xi8>
}
"""
    assert len(ops_named(run(text), "tosa.reshape")) == 1


# ----------------------------------------------------------------------------- the sweeps

#: reshapes and transposes where which fold acts first decides what is left: an identity
#: reshape of a reshape (forwarded, not re-pointed), an identity transpose between two
#: reshapes (a reshape of a reshape once it is gone), a chain back to the input's type
#: (re-pointed, then an identity), a returned one, a dead one, a shared inner one, an
#: identity reshape of a reshape (forwarded: re-pointing it first would keep the other)
CHAINS = """
func.func @main(%arg0: tensor<6xi8>) -> (tensor<6xi8>, tensor<2x3xi8>, tensor<3x2xi8>, tensor<2x3xi8>, tensor<3x2xi8>) {
  %s23 = tosa.const_shape {values = dense<[2, 3]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %s6 = tosa.const_shape {values = dense<6> : tensor<1xindex>} : () -> !tosa.shape<1>
  %s32 = tosa.const_shape {values = dense<[3, 2]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %s23b = tosa.const_shape {values = dense<[2, 3]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %r0 = tosa.reshape %arg0, %s23 {tosa.tensor_name = "r0"} : (tensor<6xi8>, !tosa.shape<2>) -> tensor<2x3xi8>
  %r1 = tosa.reshape %r0, %s23b {tosa.tensor_name = "r1"} : (tensor<2x3xi8>, !tosa.shape<2>) -> tensor<2x3xi8>
  %t = tosa.transpose %r1 {perms = array<i32: 0, 1>, tosa.tensor_name = "t"} : (tensor<2x3xi8>) -> tensor<2x3xi8>
  %r2 = tosa.reshape %t, %s6 {tosa.tensor_name = "r2"} : (tensor<2x3xi8>, !tosa.shape<1>) -> tensor<6xi8>
  %r3 = tosa.reshape %r2, %s32 {tosa.tensor_name = "r3"} : (tensor<6xi8>, !tosa.shape<2>) -> tensor<3x2xi8>
  %r4 = tosa.reshape %r3, %s23 {tosa.tensor_name = "r4"} : (tensor<3x2xi8>, !tosa.shape<2>) -> tensor<2x3xi8>
  %r5 = tosa.reshape %r0, %s6 {tosa.tensor_name = "r5"} : (tensor<2x3xi8>, !tosa.shape<1>) -> tensor<6xi8>
  %dead = tosa.reshape %r3, %s6 {tosa.tensor_name = "dead"} : (tensor<3x2xi8>, !tosa.shape<1>) -> tensor<6xi8>
  %r6 = tosa.reshape %r4, %s32 {tosa.tensor_name = "r6"} : (tensor<2x3xi8>, !tosa.shape<2>) -> tensor<3x2xi8>
  %r7 = tosa.reshape %r6, %s23b {tosa.tensor_name = "r7"} : (tensor<3x2xi8>, !tosa.shape<2>) -> tensor<2x3xi8>
  %q0 = tosa.reshape %arg0, %s32 {tosa.tensor_name = "q0"} : (tensor<6xi8>, !tosa.shape<2>) -> tensor<3x2xi8>
  %q1 = tosa.reshape %q0, %s32 {tosa.tensor_name = "q1"} : (tensor<3x2xi8>, !tosa.shape<2>) -> tensor<3x2xi8>
  %q2 = tosa.abs %q1 {tosa.tensor_name = "q2"} : (tensor<3x2xi8>) -> tensor<3x2xi8>
  return %r5, %r4, %r3, %r7, %q2 : tensor<6xi8>, tensor<2x3xi8>, tensor<3x2xi8>, tensor<2x3xi8>, tensor<3x2xi8>
}
"""

#: the first of three equal constants read only by a dead op; a returned constant equal
#: to an earlier one; equal constants in a branch, one of them yielded
KEPT_CONSTANTS = """
func.func @main(%c: tensor<i1>, %arg0: tensor<2xi8>) -> (tensor<2xi8>, tensor<2xi8>, tensor<2xi8>) {
  %a = "tosa.const"() <{values = dense<[1, 2]> : tensor<2xi8>}> {tosa.tensor_name = "a"} : () -> tensor<2xi8>
  %b = "tosa.const"() <{values = dense<[1, 2]> : tensor<2xi8>}> {tosa.tensor_name = "b"} : () -> tensor<2xi8>
  %d = "tosa.const"() <{values = dense<[1, 2]> : tensor<2xi8>}> {tosa.tensor_name = "d"} : () -> tensor<2xi8>
  %dead = tosa.add %arg0, %a : (tensor<2xi8>, tensor<2xi8>) -> tensor<2xi8>
  %live = tosa.add %arg0, %b : (tensor<2xi8>, tensor<2xi8>) -> tensor<2xi8>
  %0 = "tosa.cond_if"(%c, %live) ({
  ^bb0(%x: tensor<2xi8>):
    %k1 = "tosa.const"() <{values = dense<3> : tensor<2xi8>}> : () -> tensor<2xi8>
    %k2 = "tosa.const"() <{values = dense<3> : tensor<2xi8>}> : () -> tensor<2xi8>
    %k3 = "tosa.const"() <{values = dense<3> : tensor<2xi8>}> : () -> tensor<2xi8>
    %s = tosa.add %x, %k2 : (tensor<2xi8>, tensor<2xi8>) -> tensor<2xi8>
    %u = tosa.sub %s, %k3 : (tensor<2xi8>, tensor<2xi8>) -> tensor<2xi8>
    tosa.yield %k2 : tensor<2xi8>
  }, {
  ^bb0(%x: tensor<2xi8>):
    tosa.yield %x : tensor<2xi8>
  }) : (tensor<i1>, tensor<2xi8>) -> tensor<2xi8>
  return %0, %d, %live : tensor<2xi8>, tensor<2xi8>, tensor<2xi8>
}
"""

LIT = Path(__file__).resolve().parents[1] / "filecheck"


def _lit_texts() -> dict[str, str]:
    found = {}
    for path in sorted(LIT.rglob("*.mlir")):
        text = path.read_text(encoding="utf-8")
        try:
            ir.parse_module(text, name=path.name)
        except ir.IRParseError:
            continue
        found[str(path.relative_to(LIT))] = text
    return found


ORDER_CASES = {
    "chains": CHAINS,
    "kept constants": KEPT_CONSTANTS,
    "regions": REGIONS,
    "reshapes": RESHAPES,
    "dead": DEAD,
    **{f"lit {name}": text for name, text in _lit_texts().items()},
}


def _by_walker(module: ir.ModuleOp) -> ir.ModuleOp:
    """``canonicalize`` as xDSL's greedy walker applies ``PATTERNS``."""
    PatternRewriteWalker(ByOpType([pattern() for pattern in PATTERNS])).rewrite_module(module)
    return module


@pytest.mark.parametrize("text", ORDER_CASES.values(), ids=ORDER_CASES.keys())
def test_the_sweeps_reach_what_the_greedy_walker_reaches(text):
    def module() -> ir.ModuleOp:
        found = ir.parse_module(text)
        with contextlib.suppress(VerificationError, VerifyException):
            to_signless(found)  # a typed text legalized first, as the pipeline runs them
        return found

    swept, walked = canonicalize(module()), _by_walker(module())
    assert ir.print_module(swept, debuginfo=True) == ir.print_module(walked, debuginfo=True)


def test_the_order_cases_fold_and_keep_what_they_should():
    """The modules above really exercise the order (not a pair of no-ops)."""
    chains = canonicalize(ir.parse_module(CHAINS))
    reshapes = ops_named(chains, "tosa.reshape")
    # r0 died once r5 and r2 read the input; r1 and t were identities; r2 became one;
    # r6 died once r7 read the input; the dead one died; q1 was an identity (before it
    # could read the input, which would have left q1 and killed q0)
    assert [tensor_names(op)[0] for op in reshapes] == ["r3", "r4", "r5", "r7", "q0"]
    assert all(op.input1 is chains.body.block.first_op.body.block.args[0] for op in reshapes)
    kept = canonicalize(ir.parse_module(KEPT_CONSTANTS))
    # "b" merged into "a" (whose dead reader died, not "a"); "d" is returned, so it stays;
    # in the branch the yielded one stays and the other two die
    assert [tensor_names(op)[0] for op in ops_named(kept, "tosa.const")] == ["a", "d", ""]
