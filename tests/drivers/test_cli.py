"""The command-line tools as a user runs them: ``tosa-ir compile`` on the README's example
model (once per session, in process), ``tosa-ir-opt`` as the installed console script.

- compile writes per partition the numbered stage dumps, the ``.tosa``, the annotated
  review dump, Vela's command stream and summary, and a report whose figures are checked
  against the files (reference model vs torch, Vela's NPU/CPU split);
- opt converts ``.tosa -> .mlir -> .tosa`` byte-identically, runs a pipeline from the
  command line to the same bytes compile wrote, and its dumps are byte-stable;
- errors are one line each with the right exit status, and leave no output file.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import ir
from drivers import cli
from tests.support.ir_compare import assert_same_graph
from tosa_flatbuffer import from_flatbuffer

EXAMPLE = "drivers/example.py:ExampleCNN"
ROOT = Path(__file__).resolve().parents[2]
STAGES = ["00-input.mlir", "01-legalize-unsigned-io.mlir", "02-canonicalize.mlir"]


def opt(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess:
    """The installed ``tosa-ir-opt`` (next to this Python), as a shell would run it."""
    tool = Path(sys.executable).parent / "tosa-ir-opt"
    assert tool.exists(), f"tosa-ir-opt is not installed next to {sys.executable}"
    done = subprocess.run([str(tool), *map(str, args)], capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="session")
def compiled(tmp_path_factory) -> tuple[Path, str]:
    """``tosa-ir compile drivers/example.py:ExampleCNN --uint8-io --out DIR``: the folder
    and what it printed."""
    out = tmp_path_factory.mktemp("compile")
    cwd = Path.cwd()
    os.chdir(ROOT)  # the README's command is typed from the checkout
    try:
        code = cli.main(["compile", EXAMPLE, "--uint8-io", "--out", str(out)])
    finally:
        os.chdir(cwd)
    assert code == 0
    return out, (out / "report.txt").read_text()


# ----------------------------------------------------------------------------- compile


def test_compile_writes_every_stage_the_tosa_and_vela(compiled):
    out, _ = compiled
    assert sorted(p.name for p in (out / "tag0").iterdir()) == STAGES
    typed, signless, canonical = ((out / "tag0" / s).read_text() for s in STAGES)
    assert "ui8" in typed and "ui8" not in signless
    assert len(canonical) < len(signless)  # zero points merged
    module = from_flatbuffer((out / "tag0.tosa").read_bytes())
    assert_same_graph(module, ir.parse_module(canonical), context="tag0.tosa vs 02-canonicalize")
    assert (out / "tag0.vela.bin").stat().st_size > 0


def test_compile_report_states_what_the_files_show(compiled):
    out, report = compiled
    lines = report.splitlines()
    assert lines[0] == f"tosa-ir compile {EXAMPLE} (TOSA-1.0+INT, uint8 IO): 1 partition(s)"
    assert lines[1] == "on the CPU: no compute op"  # the whole example is delegated
    assert f"tag0.tosa: {(out / 'tag0.tosa').stat().st_size} bytes" in report
    npu, cpu = map(int, re.search(r"(\d+) NPU / (\d+) CPU ops", report).groups())
    summary = (out / "tag0.vela.txt").read_text()
    assert f"{npu} NPU / {cpu} CPU TOSA ops" in summary and npu > 0
    lsb = int(re.search(r"max \|diff\| = (\d+) LSB", report).group(1))
    assert lsb <= 1  # the example's measured agreement (tests/bridge/test_zoo.py bounds the zoo)


def test_review_dump_carries_vela_placement(compiled):
    """One ``// NPU ...`` comment per op Vela placed, right above that op's line; the
    dump is the final stage with constants elided and locations shown."""
    out, _ = compiled
    review = (out / "tag0.review.mlir").read_text().splitlines()
    placed = [i for i, line in enumerate(review) if re.match(r"\s*// (NPU|CPU) ", line)]
    npu = int(re.search(r"(\d+) NPU", (out / "tag0.vela.txt").read_text()).group(1))
    assert len(placed) == npu
    for i in placed:
        assert re.match(r"\s*%\S+ = tosa\.(?!const)", review[i + 1]), review[i + 1]
    text = "\n".join(review)
    assert (
        "dense_resource<sha256_" in text
        and 'loc("tosa_conv2d_default"("drivers/example.py":' in text
    )


def test_compile_errors_are_one_line(tmp_path, capsys):
    cases = {
        ("compile", "no/such/model.py:Net", "--out", str(tmp_path)): "no/such/model.py: error: no such file",
        ("compile", f"{ROOT / 'drivers/example.py'}:Nope", "--out", str(tmp_path)): "error: no callable 'Nope'",
        ("compile", EXAMPLE, "--spec", "TOSA-1.0+FP", "--uint8-io", "--out", str(tmp_path)):
            "error: --uint8-io needs an integer spec",
        ("compile", EXAMPLE, "-p", "fold-everything", "--out", str(tmp_path)): "available passes:",
        ("compile", EXAMPLE, "--out", __file__): "error: --out must be a folder",
    }  # fmt: skip
    for argv, message in cases.items():
        assert cli.main(list(argv)) == cli.EXIT_USAGE, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert not list(tmp_path.iterdir())


# ----------------------------------------------------------------------------- opt


def test_opt_converts_tosa_to_text_and_back_byte_identically(compiled, tmp_path):
    out, _ = compiled
    text, back = tmp_path / "tag0.mlir", tmp_path / "back.tosa"
    opt(out / "tag0.tosa", "-o", text)
    opt(text, "-o", back)
    assert back.read_bytes() == (out / "tag0.tosa").read_bytes()
    assert text.read_text().endswith("}\n")
    assert stat.S_IMODE(back.stat().st_mode) == 0o666 & ~_umask()


def test_opt_runs_the_pipeline_to_compiles_bytes_with_stable_dumps(compiled, tmp_path):
    """From the typed dump, ``-p legalize-unsigned-io,canonicalize`` gives the very file
    compile wrote, and dumps equal to compile's, byte for byte."""
    out, _ = compiled
    dumps, result = tmp_path / "dumps", tmp_path / "x.tosa"
    typed = out / "tag0" / STAGES[0]
    opt(
        typed,
        "-p",
        "legalize-unsigned-io,canonicalize",
        "--print-ir-after-each",
        dumps,
        "-o",
        result,
    )
    assert result.read_bytes() == (out / "tag0.tosa").read_bytes()
    for stage in STAGES:
        assert (dumps / stage).read_bytes() == (out / "tag0" / stage).read_bytes(), stage


def test_opt_review_elides_and_verifies(compiled):
    out, _ = compiled
    done = opt(out / "tag0.tosa", "--review")
    assert "dense_resource<sha256_" in done.stdout and done.stderr == ""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


BAD_MODULE = """func.func @main(%arg0: tensor<1x4xi32>) -> tensor<1x4xi8> {
  %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{values = dense<70> : tensor<1xi8>}> : () -> tensor<1xi8>
  %izp = "tosa.const"() <{values = dense<0> : tensor<1xi32>}> : () -> tensor<1xi32>
  %ozp = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %r = tosa.rescale %arg0, %m, %s, %izp, %ozp {input_unsigned = false, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x4xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x4xi8>
  return %r : tensor<1x4xi8>
}
"""


def test_opt_errors_have_exit_status_and_leave_no_file(tmp_path):
    bad = tmp_path / "bad.mlir"
    bad.write_text(BAD_MODULE)
    garbage = tmp_path / "garbage.tosa"
    garbage.write_bytes(b"\x00" * 64)
    syntax = tmp_path / "syntax.mlir"
    syntax.write_text("func.func @main( {\n")
    broadcast = tmp_path / "broadcast.mlir"
    broadcast.write_text(
        "func.func @main(%a: tensor<2xi32>, %b: tensor<3xi32>) -> tensor<2xi32> {\n"
        "  %0 = tosa.add %a, %b : (tensor<2xi32>, tensor<3xi32>) -> tensor<2xi32>\n"
        "  return %0 : tensor<2xi32>\n}\n"
    )
    out = tmp_path / "out.tosa"
    cases = [
        (
            (broadcast, "-o", out),
            cli.EXIT_USAGE,
            rf"^{re.escape(str(broadcast))}:2:3: error: 'tosa.add' op \[broadcast\] ",
        ),
        (
            (bad, "-o", out),
            cli.EXIT_VIOLATION,
            rf"^{re.escape(str(bad))}:6: error: \[rescale-shift\] ",
        ),
        (
            (tmp_path / "missing.mlir", "-o", out),
            cli.EXIT_USAGE,
            r"missing\.mlir: error: cannot read",
        ),
        ((garbage, "-o", out), cli.EXIT_USAGE, r"garbage\.tosa: error: "),
        ((syntax, "-o", out), cli.EXIT_USAGE, r"syntax\.mlir:1:\d+: error: "),
        ((bad, "-p", "nonsense", "-o", out), cli.EXIT_USAGE, r"available passes: .*canonicalize"),
        (
            (bad, "-p", ",canonicalize", "-o", out),
            cli.EXIT_USAGE,
            r"pipeline ',canonicalize': column 1: ",
        ),
        ((bad, "-p", 'verify{tosa_spec="TOSA-9"}', "-o", out), cli.EXIT_USAGE, r"TOSA version 9"),
        ((bad, "--verify", "TOSA-9", "-o", out), cli.EXIT_USAGE, r"--verify 'TOSA-9'"),
    ]
    for args, code, pattern in cases:
        done = opt(*args, check=False)
        assert done.returncode == code, (args, done.stderr)
        assert re.search(pattern, done.stderr, re.MULTILINE), (args, done.stderr)
        assert "Traceback" not in done.stderr and done.stdout == ""
        assert len(done.stderr.splitlines()) <= 2, done.stderr  # the error, and which pass
        assert not out.exists(), args
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.mlir",
        "broadcast.mlir",
        "garbage.tosa",
        "syntax.mlir",
    ]


def test_progress_bar_only_when_asked():
    import io

    shown, silent = io.StringIO(), io.StringIO()
    bar = cli.Progress(enabled=True, total=4, width=8, stream=shown)
    for label in ("quantize", "partition", "tag0: import", "tag0: Vela"):
        bar.step(label)
        cli.Progress(enabled=False, stream=silent).step(label)
    bar.finish()
    frames = shown.getvalue().split("\r\033[K")[1:]
    assert frames[0] == "[--------] 1/4 quantize" and frames[3] == "[######--] 4/4 tag0: Vela"
    assert frames[-1] == "[########] done\n" and silent.getvalue() == ""
