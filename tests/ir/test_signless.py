"""legalize-unsigned-io on typed modules written by hand: uint8 in, uint8 out, the
int32 -> uint8 split, and graphs where a ui8 value leaks inside (refused). The pass
checks the typed stage's rules on the ops they report on only: that agrees with the full
check on every text here and under tests/filecheck; and it reports every op it touches."""

from pathlib import Path

import numpy as np
import pytest

import ir
from ir.builders import numpy_from_dense
from ir.defaults import DEFAULT_SPEC
from ir.dialects import tosa_ext as tosa
from ir.lowering import signless
from ir.lowering.signless import LegalizeUnsignedIO, UnsignedIOError, to_signless
from ir.verify import diagnose
from ir.verify.incremental import Changes, touches_signedness

FLAGS = "per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true"


def rescale(src, in_t, out_t, in_zp_t, out_zp_t, *, iu=False, ou=False, shape="1x4"):
    return (
        f"tosa.rescale {src}, %m, %s, %izp, %ozp {{input_unsigned = {str(iu).lower()}, "
        f"output_unsigned = {str(ou).lower()}, {FLAGS}}} : (tensor<{shape}x{in_t}>, tensor<1xi32>, "
        f"tensor<1xi8>, tensor<1x{in_zp_t}>, tensor<1x{out_zp_t}>) -> tensor<{shape}x{out_t}>"
    )


def module(arg_t: str, res_t: str, body: str, in_zp: str, out_zp: str) -> str:
    return f"""
func.func @main(%arg0: tensor<1x4x{arg_t}>) -> tensor<1x4x{res_t}> {{
  %m = "tosa.const"() <{{values = dense<1073741824> : tensor<1xi32>}}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{{values = dense<30> : tensor<1xi8>}}> : () -> tensor<1xi8>
  %izp = "tosa.const"() <{{values = {_dense(in_zp)}}}> : () -> {in_zp.split(" : ")[1]}
  %ozp = "tosa.const"() <{{values = {_dense(out_zp)}}}> : () -> {out_zp.split(" : ")[1]}
  {body}
}}"""


def _dense(value_and_type: str) -> str:
    value, type_text = value_and_type.split(" : ")
    return f"dense<{value}> : {type_text}"


def typed(text: str):
    return ir.parse_module(text, name="typed.mlir")


def consts_of(op: tosa.RescaleOp) -> list[np.ndarray]:
    return [numpy_from_dense(v.owner.values).reshape(-1) for v in op.operands[1:]]


UINT8_IN = module(
    "ui8", "i8",
    "%r = " + rescale("%arg0", "ui8", "i8", "ui8", "i8", iu=True) + "\n  return %r : tensor<1x4xi8>",
    "200 : tensor<1xui8>", "-3 : tensor<1xi8>",
)  # fmt: skip


def test_uint8_input_becomes_i8_with_the_flag_and_raw_zero_point_byte():
    m = to_signless(typed(UINT8_IN))
    text = ir.print_module(m)
    assert "ui8" not in text
    (r,) = [op for op in m.walk() if isinstance(op, tosa.RescaleOp)]
    assert r.input_unsigned.value.data and not r.output_unsigned.value.data
    assert str(r.input.type) == "tensor<1x4xi8>"
    assert consts_of(r)[2].tolist() == [200 - 256]  # the byte 0xC8, now read signed


UINT8_OUT = module(
    "i8", "ui8",
    "%r = " + rescale("%arg0", "i8", "ui8", "i8", "ui8", ou=True) + "\n  return %r : tensor<1x4xui8>",
    "-9 : tensor<1xi8>", "119 : tensor<1xui8>",
)  # fmt: skip


def test_uint8_output_becomes_i8_function_result():
    m = to_signless(typed(UINT8_OUT))
    func = next(op for op in m.walk() if op.name == "func.func")
    assert [str(t) for t in func.function_type.outputs] == ["tensor<1x4xi8>"]
    (r,) = [op for op in m.walk() if isinstance(op, tosa.RescaleOp)]
    assert r.output_unsigned.value.data and consts_of(r)[3].tolist() == [119]


WIDE_TO_UINT8 = module(
    "i32", "ui8",
    "%r = " + rescale("%arg0", "i32", "ui8", "i32", "ui8", ou=True) + "\n  return %r : tensor<1x4xui8>",
    "0 : tensor<1xi32>", "130 : tensor<1xui8>",
)  # fmt: skip


def test_int32_to_uint8_rescale_is_split_like_executorch(tosa_opt):
    m = to_signless(typed(WIDE_TO_UINT8))
    first, second = [op for op in m.walk() if isinstance(op, tosa.RescaleOp)]
    assert (
        str(first.output.type) == "tensor<1x4xi8>"
        and first.input.type.element_type.width.data == 32
    )
    assert not first.output_unsigned.value.data
    assert consts_of(first)[3].tolist() == [130 - 128]
    assert second.input is first.output and second.output_unsigned.value.data
    mult, shift, in_zp, out_zp = consts_of(second)
    assert (mult.tolist(), shift.tolist(), in_zp.tolist(), out_zp.tolist()) == (
        [1 << 30],
        [30],
        [-128],
        [0],
    )
    tosa_opt(ir.print_module(m))  # MLIR accepts the result


@pytest.mark.parametrize(
    "body, message",
    [
        ("%r = tosa.abs %arg0 : (tensor<1x4xui8>) -> tensor<1x4xui8>\n  return %r : tensor<1x4xui8>",
         r"\[unsigned-input-flag\] .* reads unsigned function argument #0"),
        ("%r = " + rescale("%arg0", "ui8", "i8", "ui8", "i8") + "\n  return %r : tensor<1x4xi8>",
         r"\[unsigned-input-flag\] .* is a RESCALE without input_unsigned = true"),
    ],
)  # fmt: skip
def test_unsigned_value_reaching_the_inside_is_refused(body, message):
    res_t = "ui8" if "return %r : tensor<1x4xui8>" in body else "i8"
    text = module("ui8", res_t, body, "0 : tensor<1xui8>", "0 : tensor<1xi8>")
    with pytest.raises(UnsignedIOError, match=message):
        to_signless(typed(text))


def test_unsigned_rescale_output_used_inside_is_refused():
    body = (
        "%r = "
        + rescale("%arg0", "i8", "ui8", "i8", "ui8", ou=True)
        + "\n  %a = tosa.abs %r : (tensor<1x4xui8>) -> tensor<1x4xui8>\n  return %a : tensor<1x4xui8>"
    )
    with pytest.raises(
        UnsignedIOError, match=r"\[uint8-io-only\] 'tosa.abs'.* only the return may"
    ):
        to_signless(typed(module("i8", "ui8", body, "0 : tensor<1xi8>", "0 : tensor<1xui8>")))


# ----------------------------------------------------------------------------- the check


def _uint8_const_read_by_add() -> str:
    body = (
        '%u = "tosa.const"() <{values = dense<3> : tensor<1x4xui8>}> : () -> tensor<1x4xui8>\n'
        "  %a = tosa.add %arg0, %u : (tensor<1x4xui8>, tensor<1x4xui8>) -> tensor<1x4xui8>\n"
        "  %r = "
        + rescale("%a", "ui8", "i8", "ui8", "i8", iu=True)
        + "\n  return %r : tensor<1x4xi8>"
    )
    return module("ui8", "i8", body, "0 : tensor<1xui8>", "0 : tensor<1xi8>")


def _signed_value_inside() -> str:
    body = (
        "%r = " + rescale("%arg0", "i8", "i8", "i8", "i8") + "\n"
        "  %c = tosa.cast %r : (tensor<1x4xi8>) -> tensor<1x4xsi16>\n"
        "  %d = tosa.cast %c : (tensor<1x4xsi16>) -> tensor<1x4xi8>\n  return %d : tensor<1x4xi8>"
    )
    return module("i8", "i8", body, "0 : tensor<1xi8>", "0 : tensor<1xi8>")


LEGALIZE_LIT = Path(__file__).resolve().parents[1] / "filecheck" / "legalize-unsigned-io"
CHECK_CASES = {
    "uint8 in": UINT8_IN,
    "uint8 out": UINT8_OUT,
    "wide to uint8": WIDE_TO_UINT8,
    "ui8 arg into abs": module(
        "ui8", "ui8",
        "%r = tosa.abs %arg0 : (tensor<1x4xui8>) -> tensor<1x4xui8>\n  return %r : tensor<1x4xui8>",
        "0 : tensor<1xui8>", "0 : tensor<1xi8>",
    ),
    "ui8 arg into an unflagged rescale": module(
        "ui8", "i8",
        "%r = " + rescale("%arg0", "ui8", "i8", "ui8", "i8") + "\n  return %r : tensor<1x4xi8>",
        "0 : tensor<1xui8>", "0 : tensor<1xi8>",
    ),
    "unsigned output read inside": module(
        "i8", "ui8",
        "%r = " + rescale("%arg0", "i8", "ui8", "i8", "ui8", ou=True)
        + "\n  %a = tosa.abs %r : (tensor<1x4xui8>) -> tensor<1x4xui8>\n  return %a : tensor<1x4xui8>",
        "0 : tensor<1xi8>", "0 : tensor<1xui8>",
    ),
    "ui8 constant read by an add": _uint8_const_read_by_add(),
    "signed value inside": _signed_value_inside(),
    **{f"lit {p.name}": p.read_text(encoding="utf-8") for p in sorted(LEGALIZE_LIT.glob("*.mlir"))},
}  # fmt: skip


@pytest.mark.parametrize("text", CHECK_CASES.values(), ids=CHECK_CASES.keys())
def test_the_check_on_the_reported_ops_agrees_with_the_full_check(text, monkeypatch):
    """After step 1, the stage rules run on the ops the scan found and step 1 created
    find something exactly when the full check does (which then gives the diagnostics)."""
    module = typed(text)
    found = signless._scan(module)
    edits = signless._Edits(Changes())
    signless._place(found, edits)
    full = diagnose(module, DEFAULT_SPEC, "typed", groups=("stage",))
    called = []
    monkeypatch.setattr(signless, "check_unsigned_at_boundary", called.append)
    signless._check(module, found, edits)
    assert bool(called) == bool(full), full


def test_the_cases_include_refused_and_legalized_modules():
    outcomes = set()
    for text in CHECK_CASES.values():
        try:
            to_signless(typed(text))
            outcomes.add("legalized")
        except UnsignedIOError:
            outcomes.add("refused")
    assert outcomes == {"legalized", "refused"}


def test_the_stage_rules_are_the_ones_the_check_knows():
    """Another stage rule would make the check walk the whole module again (still
    right): then ``signless._STAGE_RULES`` wants a look."""
    assert signless._known_stage_rules() is not None


@pytest.mark.parametrize("text", CHECK_CASES.values(), ids=CHECK_CASES.keys())
def test_every_op_the_pass_touches_is_reported(text):
    """What ``run_pipeline`` re-verifies: every op reading or defining a signed or
    unsigned tensor or flag before the pass (``touches_signedness``: every op the steps
    modify in place) and every op the pass created."""
    module = typed(text)
    before = list(module.walk())  # held: their ids stay theirs
    suspects = {op for op in before if touches_signedness(op)}
    try:
        changes = LegalizeUnsignedIO().apply_reporting(ir.make_context(), module)
    except UnsignedIOError:
        return
    created = [op for op in module.walk() if op not in set(before)]
    assert suspects <= changes.ops
    assert set(created) <= changes.ops
