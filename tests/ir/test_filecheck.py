"""The text tests, lit style: every ``tests/filecheck/**/*.mlir`` runs its ``// RUN:`` lines.

A RUN line is a pipeline of the project's own command-line tools, as a user types it::

    // RUN: tosa-ir-opt %s -p legalize-unsigned-io | filecheck %s
    // RUN: not tosa-ir-opt %s -p legalize-unsigned-io 2>&1 | filecheck %s --check-prefix=ERR

``%s`` is the file, ``%t`` a scratch path of its own (shared by the file's RUN lines);
``not CMD`` must fail, every other command must succeed (lit's ``pipefail``); ``2>&1``
at the end of a command sends its stderr down the pipe. The tools are the installed
console scripts next to this Python (``tosa-ir-opt``, and ``filecheck`` from PyPI, the
LLVM FileCheck clone xDSL tests with): a missing tool fails the test, never skips it.
No shell is involved, so a RUN line means the same on every machine.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "filecheck"
FILES = sorted(ROOT.rglob("*.mlir"))
RUN = re.compile(r"^//\s*RUN:\s*(.*\S)\s*$", re.MULTILINE)
TOOLS = ("tosa-ir-opt", "filecheck")
MERGE_STDERR = "2>&1"


def tool_path(name: str) -> Path:
    """A console script installed with this Python (``.venv/bin``), found without PATH."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is not installed next to {sys.executable}: pip install -e '.[test]'")
    return path


def run_lines(file: Path) -> list[str]:
    lines = RUN.findall(file.read_text(encoding="utf-8"))
    assert lines, f"{file}: no '// RUN:' line"
    return lines


def run_pipeline(line: str, file: Path, scratch: Path) -> None:
    """One RUN line: its commands in order, each fed the previous one's stdout."""
    text = line.replace("%s", str(file)).replace("%t", str(scratch))
    piped = b""
    for command in text.split(" | "):
        words = shlex.split(command)
        must_fail = words[0] == "not"
        words = words[1:] if must_fail else words
        merge = words[-1] == MERGE_STDERR
        words = words[:-1] if merge else words
        assert words[0] in TOOLS, f"{file}: RUN uses {words[0]!r}; known tools: {TOOLS}"
        done = subprocess.run(
            [str(tool_path(words[0])), *words[1:]],
            input=piped,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge else subprocess.PIPE,
            timeout=120,
        )
        failed = done.returncode != 0
        if failed != must_fail:
            said = (done.stderr or b"").decode()
            output = done.stdout.decode()
            expectation = "fail" if must_fail else "succeed"
            pytest.fail(
                f"{file}: RUN: {line}\n'{command}' should {expectation}, exit {done.returncode}\n"
                f"--- stdout\n{output}\n--- stderr\n{said}"
            )
        piped = done.stdout


@pytest.mark.parametrize("file", FILES, ids=[str(f.relative_to(ROOT)) for f in FILES])
def test_run_lines(file: Path, tmp_path: Path):
    for line in run_lines(file):
        run_pipeline(line, file, tmp_path / file.stem)


def test_every_stage_has_text_tests():
    """Each pass a pipeline can name in the lowering has a folder of its own."""
    from ir.lowering.pipeline import STAGE_PIPELINES

    folders = {p.name for p in ROOT.iterdir() if p.is_dir()}
    assert set(STAGE_PIPELINES.values()) | {"to-flatbuffer"} <= folders


def test_a_failing_check_fails(tmp_path: Path):
    """The runner itself: a CHECK that does not match is a failure, not a pass."""
    bad = tmp_path / "bad.mlir"
    bad.write_text(
        "// RUN: tosa-ir-opt %s | filecheck %s\n"
        "// CHECK: tosa.sub\n"
        "func.func @main(%arg0: tensor<2xi8>) -> tensor<2xi8> {\n"
        "  %0 = tosa.reverse %arg0 {axis = 0 : i32} : (tensor<2xi8>) -> tensor<2xi8>\n"
        "  return %0 : tensor<2xi8>\n"
        "}\n"
    )
    run_pipeline("tosa-ir-opt %s", bad, tmp_path / "bad")  # the module itself is fine
    with pytest.raises(pytest.fail.Exception, match=r"'filecheck .*' should succeed"):
        run_pipeline(run_lines(bad)[0], bad, tmp_path / "bad")
    with pytest.raises(pytest.fail.Exception, match="should fail"):
        run_pipeline("not tosa-ir-opt %s", bad, tmp_path / "bad")
