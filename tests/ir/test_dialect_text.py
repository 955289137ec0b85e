"""Every operator: our text is what tosa-opt prints, and what tosa-opt prints we parse."""

import pytest
from conftest import normalize_ssa

import ir
from ir.dialects import tosa_ext as tosa
from tests.support.op_cases import CASES, HAND_BUILT, build_case_module

ALL_OPS = sorted(tosa.OPS_BY_SPEC_NAME)


def test_dialect_has_every_spec_operator():
    from ir.spec import tosa_spec

    ours_1_1 = {op.spec_name() for op in tosa.TOSA_1_1_OPS}
    assert set(tosa.OPS_BY_SPEC_NAME) == set(tosa_spec()["operators"]) | ours_1_1
    assert len(tosa.OPS_BY_SPEC_NAME) == 75 + 4
    assert ours_1_1 <= set(tosa_spec("1.1")["operators"]) and not ours_1_1 & set(
        tosa_spec()["operators"]
    )
    assert set(CASES) | set(HAND_BUILT) == set(ALL_OPS)


@pytest.mark.parametrize("spec_name", ALL_OPS)
def test_op_text_matches_tosa_opt(spec_name, tosa_opt):
    module = build_case_module(spec_name)
    module.verify()
    ours = ir.print_module(module)
    assert tosa.OPS_BY_SPEC_NAME[spec_name].name in ours

    theirs = tosa_opt(ours).stdout
    assert normalize_ssa(theirs) == normalize_ssa(ours)
    # With MLIR's own numbering the texts are identical, not just equivalent.
    assert theirs.strip() == ours.strip()

    reparsed = ir.parse_module(theirs)
    assert ir.print_module(reparsed).strip() == theirs.strip()


@pytest.mark.parametrize("spec_name", ALL_OPS)
def test_op_generic_form_parses(spec_name, tosa_opt):
    """tosa-opt's generic form (every property spelled out) reads back into our ops."""
    generic = tosa_opt(
        ir.print_module(build_case_module(spec_name)), "--mlir-print-op-generic"
    ).stdout
    module = ir.parse_module(generic)
    assert ir.print_module(module).strip() == tosa_opt(generic).stdout.strip()


@pytest.mark.parametrize("input_unsigned", [False, True])
@pytest.mark.parametrize("output_unsigned", [False, True])
def test_rescale_unsigned_flags(input_unsigned, output_unsigned, tosa_opt):
    in_t = "ui8" if input_unsigned else "i8"
    out_t = "ui8" if output_unsigned else "i8"
    flags = (
        f"input_unsigned = {str(input_unsigned).lower()}, "
        f"output_unsigned = {str(output_unsigned).lower()}"
    )
    text = f"""module {{
  func.func @rescale(%arg0: tensor<1x4x{in_t}>) -> tensor<1x4x{out_t}> {{
    %0 = "tosa.const"() <{{values = dense<1073741824> : tensor<1xi32>}}> : () -> tensor<1xi32>
    %1 = "tosa.const"() <{{values = dense<30> : tensor<1xi8>}}> : () -> tensor<1xi8>
    %2 = "tosa.const"() <{{values = dense<{128 if input_unsigned else -128}> : tensor<1x{in_t}>}}> : () -> tensor<1x{in_t}>
    %3 = "tosa.const"() <{{values = dense<{200 if output_unsigned else 3}> : tensor<1x{out_t}>}}> : () -> tensor<1x{out_t}>
    %4 = tosa.rescale %arg0, %0, %1, %2, %3 {{{flags}, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true}} : (tensor<1x4x{in_t}>, tensor<1xi32>, tensor<1xi8>, tensor<1x{in_t}>, tensor<1x{out_t}>) -> tensor<1x4x{out_t}>
    return %4 : tensor<1x4x{out_t}>
  }}
}}
"""
    module = ir.parse_module(text)
    (rescale,) = [op for op in module.walk() if isinstance(op, tosa.RescaleOp)]
    assert bool(rescale.input_unsigned.value.data) is input_unsigned
    assert bool(rescale.output_unsigned.value.data) is output_unsigned
    ours = ir.print_module(module)
    assert ours.strip() == text.strip()
    assert tosa_opt(ours).stdout.strip() == ours.strip()


CONTROL_FLOW_WITH_ATTRIBUTES = """
func.func @main(%c: tensor<i1>, %x: tensor<2xf32>) -> tensor<2xf32> {
  %0 = "tosa.cond_if"(%c, %x) ({
  ^bb0(%a: tensor<2xf32>):
    tosa.yield %a : tensor<2xf32>
  }, {
  ^bb0(%a: tensor<2xf32>):
    tosa.yield %a : tensor<2xf32>
  }) {tosa.tensor_name = "n"} : (tensor<i1>, tensor<2xf32>) -> tensor<2xf32>
  %1 = "tosa.while_loop"(%0) ({
  ^bb0(%a: tensor<2xf32>):
    %t = "tosa.const"() <{values = dense<true> : tensor<i1>}> : () -> tensor<i1>
    tosa.yield %t : tensor<i1>
  }, {
  ^bb0(%a: tensor<2xf32>):
    tosa.yield %a : tensor<2xf32>
  }) {tosa.tensor_name = "w"} : (tensor<2xf32>) -> tensor<2xf32>
  return %1 : tensor<2xf32>
}
"""


def test_control_flow_attributes_print_after_the_regions_like_tosa_opt(tosa_opt):
    """cond_if's attr-dict follows its else region; while_loop's is `attributes {...}`."""
    expected = tosa_opt(CONTROL_FLOW_WITH_ATTRIBUTES).stdout
    ours = ir.print_module(ir.parse_module(CONTROL_FLOW_WITH_ATTRIBUTES))
    assert ours.strip() == expected.strip()
    assert ir.print_module(ir.parse_module(expected)).strip() == expected.strip()
