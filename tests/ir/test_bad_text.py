"""Bad text never hangs or crashes: one ``file:line:col: message`` error, naming the op.

One regression test per failure kind measured on mutated dumps (issue 17): a hang (xDSL's
string-literal regex on an unterminated string), library exceptions (a value out of
range for its type, bad hex in the fast path), errors without a position (structural
errors on ops that carry no location), and a false positive (an ``i8`` zero point on a
``ui8`` RESCALE side). Then the CLIs on the same inputs (exit 1/2, one line, no traceback,
no output file), and a seeded fuzz run over the lit texts and every operator's module
(``bench/fuzz.py`` is the long one).
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ir
from ir.verify import VerificationError, verify
from tests.support.mutations import POSITIONED, error_is_positioned, mutate, outcome
from tests.support.op_cases import CASES, build_case_module

ROOT = Path(__file__).resolve().parents[2]
LIT_TEXTS = sorted((ROOT / "tests" / "filecheck").glob("*/*.mlir"))

RESCALE_OF_ARG = """func.func @main(%arg0: tensor<1x4xui8>) -> tensor<1x4xi8> {{
  %m = "tosa.const"() <{{values = dense<1073741824> : tensor<1xi32>}}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{{values = dense<30> : tensor<1xi8>}}> : () -> tensor<1xi8>
  %izp = "tosa.const"() <{{values = dense<{izp}> : tensor<1x{zp_type}>}}> : () -> tensor<1x{zp_type}>
  %ozp = "tosa.const"() <{{values = dense<-3> : tensor<1xi8>}}> : () -> tensor<1xi8>
  %r = tosa.rescale %arg0, %m, %s, %izp, %ozp {{input_unsigned = true, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true}} : (tensor<1x4xui8>, tensor<1xi32>, tensor<1xi8>, tensor<1x{zp_type}>, tensor<1xi8>) -> tensor<1x4xi8>
  return %r : tensor<1x4xi8>
}}
"""


def _const(value: str, type_text: str) -> str:
    return (
        f"func.func @main() -> tensor<1x{type_text}> {{\n"
        f'  %0 = "tosa.const"() <{{values = dense<{value}> : tensor<1x{type_text}>}}> : () -> tensor<1x{type_text}>\n'
        f"  return %0 : tensor<1x{type_text}>\n}}\n"
    )


def _error(text: str, name: str = "edit.mlir") -> str:
    with pytest.raises(ir.IRParseError) as info:
        ir.parse_module(text, name=name)
    first = str(info.value).splitlines()[0]
    assert POSITIONED.match(first), first
    return first


# ----------------------------------------------------------------------------- hang


def test_unterminated_string_is_rejected_in_one_pass():
    """xDSL's lexer tried 2^n splits of an unterminated string's n characters: 14 words
    took 8 s, 5,000 would not finish before the sun burns out."""
    words = " ".join(["a"] * 5000)
    text = f'func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {{\n  return %a : tensor<2xf32> loc("{words}\n}}\n'
    first = _error(text)
    assert first.startswith("edit.mlir:2:33: ") and "string literal" in first


def test_linear_lexer_reads_every_string_xdsls_reads():
    from xdsl.utils.mlir_lexer import MLIRLexer

    from ir.parsing import LinearLexer

    for literal in [
        '""',
        '"plain"',
        r'"esc\"aped\n\t\\"',
        r'"\0A\ff"',
        '"unicode é"',
        '"a"b"',
        '"open',
        r'"bad\q"',
    ]:
        ours = LinearLexer._unescaped_characters_regex.match(literal)
        xdsl = MLIRLexer._unescaped_characters_regex.match(literal)
        assert (ours and ours.group()) == (xdsl and xdsl.group()), literal


# ----------------------------------------------------------------------------- library exceptions


@pytest.mark.parametrize(
    "value, type_text",
    [
        ("428", "ui8"),
        ("-1", "ui8"),
        ("16", "i4"),
        ("-9", "i4"),
        ("128", "ui7"),
        ("1", "ui0"),
        ("4294967296", "i32"),
    ],
)
def test_value_out_of_range_for_its_type_is_a_positioned_parse_error(value, type_text):
    first = _error(_const(value, type_text))
    assert re.match(r"edit\.mlir:2:(39|40): 'tosa.const' op: ", first), first  # at dense<...>
    assert "out of range" in first or "non-negative" in first


def test_bad_hex_in_a_fast_path_constant_is_a_positioned_parse_error():
    """``ir/fast_parse.py`` raised ``non-hexadecimal number found in fromhex()``."""
    hex_body = "0x" + "AB" * 199 + "ZZ"
    first = _error(_const(f'"{hex_body}"', "i8").replace("1xi8", "200xi8"))
    assert re.match(r"edit\.mlir:2:\d+: 'tosa.const' op: Hex string in denseAttr is invalid", first)


def test_a_mistyped_shape_cannot_expand_a_splat_into_all_memory():
    first = _error(_const("0", "i8").replace("1xi8", "100000000000xi8"))
    assert first.startswith("edit.mlir:2:") and "splat" in first


def test_an_unsupported_integer_width_is_a_positioned_parse_error():
    first = _error(_const("1", "i99999"))
    assert first.startswith("edit.mlir:2:") and "i99999" in first


# ----------------------------------------------------------------------------- positions


def test_return_not_last_is_placed_at_the_return():
    text = (
        "func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {\n"
        "  return %a : tensor<2xf32>\n"
        "  %0 = tosa.abs %a : (tensor<2xf32>) -> tensor<2xf32>\n"
        "}\n"
    )
    first = _error(text)
    assert first.startswith("edit.mlir:2:3: 'func.return'") and "last operation" in first


def test_return_types_differing_from_the_signature_are_placed_at_the_return():
    text = "func.func @main(%a: tensor<2xf32>) -> tensor<3xf32> {\n  return %a : tensor<2xf32>\n}\n"
    first = _error(text)
    assert first.startswith("edit.mlir:2:3: 'func.return'") and "function output types" in first


def test_op_that_ends_a_block_without_being_a_terminator_is_placed_at_it():
    text = "func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {\n  %0 = tosa.abs %a : (tensor<2xf32>) -> tensor<2xf32>\n}\n"
    first = _error(text)
    assert first.startswith("edit.mlir:2:3: 'tosa.abs' op") and "not a terminator" in first


def test_rule_violation_on_an_op_with_a_name_only_location_points_at_its_line():
    """``loc("x")`` names no file: the diagnostic takes the line the op was read from."""
    text = (
        RESCALE_OF_ARG.format(izp=200, zp_type="ui8")
        .replace(
            "dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>",
            'dense<70> : tensor<1xi8>}> : () -> tensor<1xi8> loc("shift")',
        )
        .replace("-> tensor<1x4xi8>\n  return", '-> tensor<1x4xi8> loc("rescale")\n  return')
    )
    with pytest.raises(VerificationError) as info:
        verify(ir.parse_module(text, name="edit.mlir"))
    assert [d.format() for d in info.value.diagnostics] == [
        "edit.mlir:6: error: [rescale-shift] 'tosa.rescale' (FX node 'rescale'): shift 70 outside [2, 62]"
    ]


# ----------------------------------------------------------------------------- false positive


@pytest.mark.parametrize("izp, zp_type", [(200, "ui8"), (-56, "i8")])
def test_ui8_argument_rescale_takes_a_ui8_or_an_i8_zero_point(izp, zp_type, tosa_opt):
    """Both spell the byte 0xC8, read unsigned because of input_unsigned; MLIR accepts
    both. Our typed stage writes ``ui8``; legalize-unsigned-io gives the same bytes."""
    from ir.lowering.pipeline import run_pipeline

    text = RESCALE_OF_ARG.format(izp=izp, zp_type=zp_type)
    assert tosa_opt(text).returncode == 0
    module = ir.parse_module(text, name="typed.mlir")
    verify(module)
    run_pipeline(module, "legalize-unsigned-io")
    zero_points = [op for op in module.walk() if op.name == "tosa.const"]
    assert "dense<-56> : tensor<1xi8>" in ir.print_module(zero_points[2])


def test_i8_zero_point_is_still_refused_on_a_signless_side_of_another_type():
    text = RESCALE_OF_ARG.format(izp=0, zp_type="i16")
    first = _error(text)
    assert (
        first.startswith("edit.mlir:6:3: 'tosa.rescale' op")
        and "input_zp element type i16" in first
    )


# ----------------------------------------------------------------------------- CLIs


BAD_TEXTS = {
    "unterminated": 'func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {\n  return %a : tensor<2xf32> loc("a a a a a a a a a a a a a a a a a a a a\n}\n',
    "out-of-range": _const("428", "ui8"),
    "return-not-last": "func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {\n  return %a : tensor<2xf32>\n  %0 = tosa.abs %a : (tensor<2xf32>) -> tensor<2xf32>\n}\n",
}


def _tool(name: str) -> str:
    tool = Path(sys.executable).parent / name
    assert tool.exists(), f"{name} is not installed next to {sys.executable}"
    return str(tool)


@pytest.mark.parametrize("kind", list(BAD_TEXTS))
def test_clis_give_one_positioned_line_exit_2_and_no_file(kind, tmp_path):
    path, out = tmp_path / f"{kind}.mlir", tmp_path / "out.tosa"
    path.write_text(BAD_TEXTS[kind])
    commands = {
        "tosa-ir-opt": [_tool("tosa-ir-opt"), str(path), "-o", str(out)],
        "tosa-ir opt": [_tool("tosa-ir"), "opt", str(path), "-o", str(out)],
        "tosa-ir-verify": [_tool("tosa-ir-verify"), str(path)],
    }
    for what, command in commands.items():
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert done.returncode == 2, (what, done.stderr)
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and re.match(
            rf"{re.escape(str(path))}:\d+:\d+: error: \S", lines[0]
        ), (what, lines)
        assert "Traceback" not in done.stderr and done.stdout == "" and not out.exists(), what


# ----------------------------------------------------------------------------- seeded fuzz


def _fuzz_sources() -> dict[str, str]:
    texts = {p.name: p.read_text() for p in LIT_TEXTS}
    for name in CASES:
        texts[name] = ir.print_module(build_case_module(name), debuginfo=True)
    return texts


def test_seeded_mutations_give_a_module_or_one_positioned_error():
    """300 careless edits of the lit texts and every operator's module: no crash, every
    error placed (``bench/fuzz.py`` runs 10k over the stage dumps too)."""
    texts = _fuzz_sources()
    names = sorted(texts)
    rng = random.Random(17)
    kinds, bad = {}, []
    for _ in range(300):
        name = rng.choice(names)
        mutation, text = mutate(texts[name], rng)
        found = outcome(text)
        kinds[found.kind] = kinds.get(found.kind, 0) + 1
        if found.kind not in ("ok", "error"):
            bad.append((name, mutation, found.kind, found.message))
    assert not bad, bad[:5]
    assert kinds.get("error", 0) > 150  # the edits do break things


def test_error_positions_are_checked_for_real():
    """The fuzz test's oracle: an error without ``file:line:col`` is not positioned."""
    assert not error_is_positioned(ir.IRParseError("edit.mlir: 'func.return' must be last"))
    assert error_is_positioned(ir.IRParseError("edit.mlir:3:5: 'func.return' must be last"))


def test_flatbuffer_location_with_an_unterminated_string_is_read_in_one_pass():
    """The flatbuffer reader parses each op's location text: with xDSL's lexer a
    corrupted quote hung it as it hung text (seen in the corruption run)."""
    from xdsl.dialects.builtin import NameLoc, StringAttr, UnknownLoc

    from tosa_flatbuffer import FlatbufferError, from_flatbuffer, to_flatbuffer

    module = build_case_module("ABS")
    op = next(o for o in module.walk() if o.name == "tosa.abs")
    words = "w" + " a" * 3000
    op.location = NameLoc(StringAttr(words), UnknownLoc())
    data = to_flatbuffer(module)
    assert data.count(f'"{words}"'.encode()) == 1
    broken = data.replace(f'"{words}"'.encode(), f'"{words}a'.encode())
    try:
        back = from_flatbuffer(broken)
    except FlatbufferError:
        return
    abs_op = next(o for o in back.walk() if o.name == "tosa.abs")
    assert isinstance(abs_op.location, UnknownLoc)  # unreadable, so unknown


def test_compile_places_an_fx_import_error_at_the_users_line():
    from bridge.fx_import import FxImportError
    from drivers.cli import _placed

    err = FxImportError(
        "dimension 1 is dynamic", node="add", target="tosa.ADD.default", source="model.py:12"
    )
    assert (
        _placed(err, "tag0")
        == "model.py:12: error: FX node 'add' (tosa.ADD.default): dimension 1 is dynamic"
    )
    assert _placed(ValueError("no place"), "tag0") == "tag0: error: no place"


def test_an_unexpected_exception_in_tosa_ir_opt_is_one_line_not_a_traceback(
    tmp_path, monkeypatch, capsys
):
    from drivers import cli

    path = tmp_path / "ok.mlir"
    path.write_text(
        "func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {\n  return %a : tensor<2xf32>\n}\n"
    )

    def broken(*args):
        raise KeyError("oops")

    monkeypatch.setattr(cli, "_render", broken)
    assert cli.opt_main([str(path), "-o", str(tmp_path / "out.mlir")]) == cli.EXIT_USAGE
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"{path}: error: internal error (KeyError: 'oops'); please report it with the input"
    ]
    assert not (tmp_path / "out.mlir").exists()
