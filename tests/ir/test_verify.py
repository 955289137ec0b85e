"""ir.verify on small hand-written modules: the API (spec strings, stages, diagnostics,
passes) and the stage, RESCALE and spec-table rules, one fault at a time.

Each fault is a substitution on a clean base module, so the table reads as the diff a
reviewer would see. Faults injected into real zoo graphs are tests/ir/test_verify_faults.py.
"""

from __future__ import annotations

import pytest
from xdsl.passes import PassPipeline

import ir
import ir.verify as v
from ir.verify import VerificationError, diagnose, parse_spec, verify

ATTRS = "per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true"

#: uint8 in, uint8 out: the seed's graph in the typed stage
UINT8_IO = """
module {
  func.func @main(%arg0: tensor<1x4xui8>) -> tensor<1x4xui8> {
    %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
    %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
    %zu = "tosa.const"() <{values = dense<128> : tensor<1xui8>}> : () -> tensor<1xui8>
    %z = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
    %0 = tosa.rescale %arg0, %m, %s, %zu, %z {input_unsigned = true, output_unsigned = false, ATTRS} : (tensor<1x4xui8>, tensor<1xi32>, tensor<1xi8>, tensor<1xui8>, tensor<1xi8>) -> tensor<1x4xi8> loc("quantize_in"("model.py":3:0))
    %1 = tosa.clamp %0 {max_val = 100 : i8, min_val = -100 : i8} : (tensor<1x4xi8>) -> tensor<1x4xi8> loc("relu"("model.py":4:0))
    %2 = tosa.rescale %1, %m, %s, %z, %zu {input_unsigned = false, output_unsigned = true, ATTRS} : (tensor<1x4xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xui8>) -> tensor<1x4xui8> loc("quantize_out"("model.py":5:0))
    return %2 : tensor<1x4xui8>
  }
}
""".replace("ATTRS", ATTRS)

#: int8 -> int32 ADD -> int8, signless
INT8 = """
module {
  func.func @main(%arg0: tensor<1x4xi8>, %arg1: tensor<1x4xi32>) -> tensor<1x4xi8> {
    %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
    %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
    %z8 = "tosa.const"() <{values = dense<-3> : tensor<1xi8>}> : () -> tensor<1xi8>
    %z32 = "tosa.const"() <{values = dense<0> : tensor<1xi32>}> : () -> tensor<1xi32>
    %0 = tosa.rescale %arg0, %m, %s, %z8, %z32 {input_unsigned = false, output_unsigned = false, ATTRS} : (tensor<1x4xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xi32>) -> tensor<1x4xi32> loc("widen"("model.py":7:0))
    %1 = tosa.add %0, %arg1 : (tensor<1x4xi32>, tensor<1x4xi32>) -> tensor<1x4xi32> loc("add"("model.py":8:0))
    %2 = tosa.rescale %1, %m, %s, %z32, %z8 {input_unsigned = false, output_unsigned = false, ATTRS} : (tensor<1x4xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x4xi8> loc("narrow"("model.py":9:0))
    return %2 : tensor<1x4xi8>
  }
}
""".replace("ATTRS", ATTRS)


def _single_op(args: str, op: str, result: str) -> str:
    """A function of one op: ``args`` the signature, ``op`` its text naming %arg*."""
    return f"""
module {{
  func.func @main({args}) -> {result} {{
    %0 = {op} loc("the_op"("model.py":2:0))
    return %0 : {result}
  }}
}}
"""


CONV_ZP = '%zi = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>'
CONV = f"""
module {{
  func.func @main(%arg0: tensor<1x8x8x4xi8>, %w: tensor<2x3x3x4xi8>, %b: tensor<2xi32>) -> tensor<1x6x6x2xi32> {{
    {CONV_ZP}
    %0 = tosa.conv2d %arg0, %w, %b, %zi, %zi {{acc_type = i32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>}} : (tensor<1x8x8x4xi8>, tensor<2x3x3x4xi8>, tensor<2xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x6x6x2xi32> loc("conv"("model.py":2:0))
    return %0 : tensor<1x6x6x2xi32>
  }}
}}
"""


def _nested_cond(depth: int) -> str:
    """``depth`` cond_ifs, each in the then-branch of the one outside it (the predicate
    passed in as an input: a region is isolated from above)."""
    t = "tensor<4xi32>"

    def cond(level: int, indent: str) -> str:
        c, x = f"%c{level + 1}", f"%x{level + 1}"
        args = f"{c}: tensor<i1>, {x}: {t}"
        then = (
            f"{cond(level + 1, indent + '  ')}\n{indent}  tosa.yield %r{level + 1} : {t}"
            if level + 1 < depth
            else f"{indent}  tosa.yield {x} : {t}"
        )
        return (
            f"{indent}%r{level} = tosa.cond_if %c{level} ({c} = %c{level}, {x} = %x{level}) : "
            f"tensor<i1> (tensor<i1>, {t}) -> {t} {{\n"
            f"{indent}^bb0({args}):\n{then}\n{indent}}} else {{\n"
            f"{indent}^bb0({args}):\n{indent}  tosa.yield {x} : {t}\n{indent}}}"
        )

    return f"""
module {{
  func.func @main(%c0: tensor<i1>, %x0: {t}) -> {t} {{
{cond(0, "    ")}
    return %r0 : {t}
  }}
}}
"""


def _rescale(base: str, name: str, old: str, new: str) -> str:
    """Substitute inside the RESCALE whose location is ``name`` only."""
    lines = base.splitlines()
    for i, line in enumerate(lines):
        if f'loc("{name}"' in line:
            assert old in line, (old, line)
            lines[i] = line.replace(old, new)
            return "\n".join(lines)
    raise AssertionError(name)


def _sub(base: str, old: str, new: str) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


@pytest.mark.parametrize(
    "text", [UINT8_IO, INT8, CONV, _nested_cond(2)], ids=["uint8-io", "int8", "conv", "cond"]
)
def test_base_modules_are_clean(text, tosa_opt):
    verify(ir.parse_module(text), "TOSA-1.0+INT+cf+8k")
    tosa_opt(text)  # and MLIR reads them


# --------------------------------------------------------------------------- API


def test_spec_strings():
    target = parse_spec("TOSA-1.0+INT+int16+cf+8k")
    assert target.profiles == {"PRO-INT"}
    assert target.extensions == {"EXT-INT16", "EXT-CONTROLFLOW"}
    assert target.level == "8K" and target.limits["max_rank"] == 6
    assert parse_spec("TOSA-1.0+FP").level == "none"
    assert parse_spec("TOSA-1.0+INT+u55").extensions == frozenset()


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("TOSA-1.0+INT+bf16", "EXT-BF16 extends FP"),
        ("TOSA-2.0+INT", "version 2.0"),
        ("TOSA-1.0+int16", "no profile"),
        ("TOSA-1.0+INT+int17", "unknown token 'int17'"),
        ("INT", "starts with 'TOSA-"),
    ],
)
def test_bad_spec_strings_name_the_token(text, fragment):
    with pytest.raises(v.SpecError, match=fragment):
        parse_spec(text)


def test_stage_follows_the_signature():
    assert v.detect_stage(ir.parse_module(UINT8_IO)) == "typed"
    assert v.detect_stage(ir.parse_module(INT8)) == "signless"


def test_every_violation_is_listed_with_rule_op_and_source_line():
    text = _sub(INT8, "dense<30> : tensor<1xi8>", "dense<70> : tensor<1xi8>")
    with pytest.raises(VerificationError) as caught:
        verify(ir.parse_module(text))
    error = caught.value
    # both RESCALEs read the bad shift constant: two diagnostics, not the first only
    assert [(d.rule, d.fx_node, d.source) for d in error.diagnostics] == [
        ("rescale-shift", "widen", ("model.py", 7)),
        ("rescale-shift", "narrow", ("model.py", 9)),
    ]
    assert str(error.diagnostics[0]) == (
        "model.py:7: error: [rescale-shift] 'tosa.rescale' (FX node 'widen'): shift 70 outside [2, 62]"
    )
    assert str(error).splitlines()[0] == "2 violations of TOSA-1.0+INT (signless stage):"


def test_structure_errors_are_diagnostics_too():
    t, bad = "tensor<4xi32>", "tensor<5xi32>"
    text = f"""
module {{
  func.func @main(%a: {t}) -> {t} {{
    %0 = tosa.add %a, %a : ({t}, {t}) -> {bad} loc("first"("model.py":2:0))
    %1 = tosa.sub %a, %a : ({t}, {t}) -> {bad} loc("second"("model.py":3:0))
    return %a : {t}
  }}
}}
"""
    found = diagnose(ir.parse_module(text, verify=False))
    assert [(d.rule, d.fx_node) for d in found] == [("structure", "first"), ("structure", "second")]
    assert "broadcast" in found[0].message


def test_verifier_passes_in_a_pipeline():
    module = ir.parse_module(_sub(INT8, "dense<30> : tensor<1xi8>", "dense<1> : tensor<1xi8>"))
    available = {p.name: p for p in v.VERIFY_PASSES}
    context = ir.make_context()
    # shift 1 breaks a RESCALE rule only: the stage and spec passes let it through
    PassPipeline.parse_spec(
        available, 'verify-stage,verify-spec{tosa_spec="TOSA-1.0+INT+8k"}'
    ).apply(context, module)
    for spec in ("verify-rescale", 'verify{tosa_spec="TOSA-1.0+INT" stage="signless"}'):
        with pytest.raises(VerificationError, match=r"\[rescale-shift\]"):
            PassPipeline.parse_spec(available, spec).apply(context, module)


@pytest.mark.parametrize("text", [UINT8_IO, CONV], ids=["uint8-io", "conv"])
def test_works_on_what_tosa_opt_prints(text, tosa_opt):
    """tosa-opt's own printing (generic zero points, its attribute order) reads and verifies
    the same; a fault made after its round trip is still caught."""
    printed = tosa_opt(text, "--mlir-print-debuginfo", "--mlir-print-local-scope").stdout
    module = ir.parse_module(printed)
    verify(module, "TOSA-1.0+INT")
    if text is not UINT8_IO:
        return
    assert "dense<30>" in printed
    faulted = ir.parse_module(printed.replace("dense<30>", "dense<63>"))
    with pytest.raises(VerificationError, match=r"model.py:\d+: error: \[rescale-shift\]"):
        verify(faulted, "TOSA-1.0+INT")


def test_unknown_stage_is_refused():
    with pytest.raises(ValueError, match="stage must be one of"):
        verify(ir.parse_module(INT8), stage="canonical")


# --------------------------------------------------------------------------- faults

I32_4 = "tensor<4xi32>"
FAULTS: dict[str, tuple[str, str, str | None, str, str | None]] = {
    # id: (module text, spec, stage, rule, FX node named)
    # -- stage
    "inner ui8 value": (
        _sub(UINT8_IO, "    return %2", '    %9 = tosa.identity %arg0 : (tensor<1x4xui8>) -> tensor<1x4xui8> '
             'loc("copy"("model.py":6:0))\n    return %2'),
        "TOSA-1.0+INT", None, "uint8-io-only", "copy"),
    "missing input_unsigned": (
        _rescale(UINT8_IO, "quantize_in", "input_unsigned = true", "input_unsigned = false"),
        "TOSA-1.0+INT", None, "unsigned-input-flag", "quantize_in"),
    "missing output_unsigned": (
        _rescale(UINT8_IO, "quantize_out", "output_unsigned = true", "output_unsigned = false"),
        "TOSA-1.0+INT", None, "unsigned-output-flag", "quantize_out"),
    "input_unsigned on an inner rescale": (
        _rescale(INT8, "narrow", "input_unsigned = false", "input_unsigned = true"),
        "TOSA-1.0+INT", None, "unsigned-flag-placement", "narrow"),
    "output_unsigned feeding an op": (
        _rescale(INT8, "widen", "output_unsigned = false", "output_unsigned = true"),
        "TOSA-1.0+INT", None, "unsigned-flag-placement", "widen"),
    "signed type": (_single_op("%arg0: tensor<4xsi32>",
                               "tosa.add %arg0, %arg0 : (tensor<4xsi32>, tensor<4xsi32>) -> tensor<4xsi32>",
                               "tensor<4xsi32>"), "TOSA-1.0+INT", None, "signless-int8", "the_op"),
    "ui8 in the signless stage": (UINT8_IO, "TOSA-1.0+INT", "signless", "signless-int8", "quantize_out"),
    # -- RESCALE
    "both flags": (
        _rescale(UINT8_IO, "quantize_in", "output_unsigned = false", "output_unsigned = true"),
        "TOSA-1.0+INT", None, "rescale-unsigned", "quantize_in"),
    "unsigned with i32": (
        _rescale(INT8, "widen", "output_unsigned = false", "output_unsigned = true"),
        "TOSA-1.0+INT", None, "rescale-unsigned", "widen"),
    "zero point on a 32-bit side": (
        _sub(INT8, "dense<0> : tensor<1xi32>", "dense<5> : tensor<1xi32>"),
        "TOSA-1.0+INT", None, "rescale-zero-point", "widen"),
    "shift below 2": (_sub(INT8, "dense<30> : tensor<1xi8>", "dense<1> : tensor<1xi8>"),
                      "TOSA-1.0+INT", None, "rescale-shift", "widen"),
    "negative multiplier": (_sub(INT8, "dense<1073741824>", "dense<-5>"),
                            "TOSA-1.0+INT", None, "rescale-multiplier", "widen"),
    "i32 multiplier without scale32": (_rescale(INT8, "widen", "scale32 = true", "scale32 = false"),
                                       "TOSA-1.0+INT", None, "rescale-scale32", "widen"),
    "DOUBLE_ROUND without its extension": (
        _rescale(INT8, "widen", "SINGLE_ROUND", "DOUBLE_ROUND"), "TOSA-1.0+INT", None, "rescale-rounding", "widen"),
    "per-channel with one multiplier": (
        _rescale(INT8, "widen", "per_channel = false", "per_channel = true"),
        "TOSA-1.0+INT", None, "rescale-per-channel", "widen"),
    # -- spec tables
    "int8 ADD": (_single_op("%arg0: tensor<4xi8>", "tosa.add %arg0, %arg0 : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>",
                            "tensor<4xi8>"), "TOSA-1.0+INT", None, "type-support", "the_op"),
    "fp ADD under INT": (_single_op("%arg0: tensor<4xf32>",
                                    "tosa.add %arg0, %arg0 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>",
                                    "tensor<4xf32>"), "TOSA-1.0+INT", None, "profile", "the_op"),
    "int16 CLAMP without int16": (
        _single_op("%arg0: tensor<4xi16>",
                   "tosa.clamp %arg0 {max_val = 9 : i16, min_val = 0 : i16} : (tensor<4xi16>) -> tensor<4xi16>",
                   "tensor<4xi16>"), "TOSA-1.0+INT", None, "profile", "the_op"),
    "cond_if without cf": (_nested_cond(1), "TOSA-1.0+INT", None, "profile", None),
    # what tosa-opt's strict validation calls "requires the 'then' region is isolated from above"
    "cond_if reads an outer value": (
        _nested_cond(2).replace("tosa.cond_if %c1 (", "tosa.cond_if %c0 ("),
        "TOSA-1.0+INT+cf", None, "region-isolated", None),
    "zero point not constant": (
        _sub(_sub(CONV, "%b: tensor<2xi32>)", "%b: tensor<2xi32>, %zi: tensor<1xi8>)"), CONV_ZP, ""),
        "TOSA-1.0+INT", None, "compile-time-constant", "conv"),
    "conv channels disagree": (
        CONV.replace("tensor<2x3x3x4xi8>", "tensor<2x3x3x5xi8>"), "TOSA-1.0+INT", None, "shape", "conv"),
    "rank 7 at level 8K": (
        _single_op("%arg0: tensor<1x1x1x1x1x1x2xi32>",
                   "tosa.add %arg0, %arg0 : (tensor<1x1x1x1x1x1x2xi32>, tensor<1x1x1x1x1x1x2xi32>) -> "
                   "tensor<1x1x1x1x1x1x2xi32>", "tensor<1x1x1x1x1x1x2xi32>"),
        "TOSA-1.0+INT+8k", None, "level", "the_op"),
    "kernel over level 8K": (
        _single_op("%arg0: tensor<1x9000x1x1xi8>",
                   "tosa.max_pool2d %arg0 {kernel = array<i64: 9000, 1>, pad = array<i64: 0, 0, 0, 0>, "
                   "stride = array<i64: 1, 1>} : (tensor<1x9000x1x1xi8>) -> tensor<1x1x1x1xi8>",
                   "tensor<1x1x1x1xi8>"), "TOSA-1.0+INT+8k", None, "level", "the_op"),
    "tensor over 2 GiB at level 8K": (
        _single_op("%arg0: tensor<65536x32768xi8>",
                   "tosa.identity %arg0 : (tensor<65536x32768xi8>) -> tensor<65536x32768xi8>",
                   "tensor<65536x32768xi8>"), "TOSA-1.0+INT+8k", None, "level", "the_op"),
    "cond_if nested 7 deep at level 8K": (_nested_cond(7), "TOSA-1.0+INT+cf+8k", None, "level", None),
    "TOSA 1.1 operator under a 1.0 spec": (
        _single_op("%arg0: tensor<1x2x32xf8E4M3FN>, %arg1: tensor<1x2x1xf8E8M0FNU>",
                   "tosa.matmul_t_block_scaled %arg0, %arg1, %arg0, %arg1 {block_size = BLOCK_SIZE_32} : "
                   "(tensor<1x2x32xf8E4M3FN>, tensor<1x2x1xf8E8M0FNU>, tensor<1x2x32xf8E4M3FN>, "
                   "tensor<1x2x1xf8E8M0FNU>) -> tensor<1x2x2xf32>", "tensor<1x2x2xf32>"),
        "TOSA-1.0+FP+fp8e4m3", None, "spec-version", "the_op"),
}  # fmt: skip


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_is_caught_with_its_rule(fault):
    text, spec, stage, rule, fx_node = FAULTS[fault]
    found = diagnose(ir.parse_module(text), spec, stage)
    hits = [d for d in found if d.rule == rule]
    assert hits, f"{fault}: expected [{rule}], got:\n" + "\n".join(map(str, found))
    if fx_node:
        assert any(d.fx_node == fx_node and d.source == ("model.py", d.source[1]) for d in hits), (
            hits
        )


LEVEL_FAULTS = [k for k, (_, spec, *_rest) in FAULTS.items() if spec.endswith("+8k")]


@pytest.mark.parametrize("fault", LEVEL_FAULTS)
def test_level_faults_are_legal_without_a_level(fault):
    text, spec, stage, *_ = FAULTS[fault]
    verify(ir.parse_module(text), spec.removesuffix("+8k"), stage)


def test_every_rule_has_a_fault_here_or_in_the_op_rules_tests():
    covered = {rule for *_, rule, _node in FAULTS.values()} | {"structure"}
    op_rule_ids = {"output-shape", "attribute-range", "zero-point"}  # tests/ir/test_verify_ops.py
    assert set(v.RULES) - covered - op_rule_ids == set()


def test_command_line(tmp_path, capsys):
    from drivers.verify import main

    bad = tmp_path / "bad.mlir"
    bad.write_text(_sub(INT8, "dense<30> : tensor<1xi8>", "dense<70> : tensor<1xi8>"))
    assert main([str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("model.py:7: error: [rescale-shift] 'tosa.rescale' (FX node 'widen')")
    good = tmp_path / "good.mlir"
    good.write_text(INT8)
    assert main([str(good), "--spec", "TOSA-1.0+INT+8k"]) == 0
    assert main([str(good), "--spec", "TOSA-1.0+int16"]) == 2
    assert "no profile" in capsys.readouterr().err
    assert main(["--list-rules"]) == 0
    assert set(v.RULES) <= {line.split()[0] for line in capsys.readouterr().out.splitlines()}


def test_convolution_bias_is_one_or_one_per_output_channel():
    three = CONV.replace("%b: tensor<2xi32>", "%b: tensor<3xi32>").replace(
        "tensor<2xi32>, tensor<1xi8>", "tensor<3xi32>, tensor<1xi8>"
    )
    assert [d.rule for d in diagnose(ir.parse_module(three))] == ["output-shape"]
    one = CONV.replace("%b: tensor<2xi32>", "%b: tensor<1xi32>").replace(
        "tensor<2xi32>, tensor<1xi8>", "tensor<1xi32>, tensor<1xi8>"
    )
    verify(ir.parse_module(one))
