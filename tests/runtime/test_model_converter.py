"""``runtime.model_converter``: found as ExecuTorch finds it, one-line errors, no partial .vgf.

Fake converters (shell scripts in ``tmp_path``) stand for the real one: one that is too
old, one that fails, one that writes half a file before failing, one that works. The
real converter (the pinned ``ai-ml-sdk-model-converter`` wheel) is tried at the end.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runtime import model_converter
from runtime.model_converter import (
    ModelConverterError,
    convert_to_vgf,
    find_converter,
    find_executable,
)

FLATBUFFER = b"\x18\x00\x00\x00TOSA" + bytes(range(40))  # what the fakes are fed


def _script(folder: Path, name: str, body: str, version: str = "0.11.0") -> Path:
    """An executable ``name`` in ``folder``: ``--version`` prints ``version`` as the real
    converter does (JSON), anything else runs ``body`` with ``$IN`` / ``$OUT`` set from
    ``-i`` / ``-o``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then\n'
        f'  echo \'{{"version": "{version}", "revision": "fake"}}\'; exit 0\n'
        "fi\n"
        'while [ $# -gt 0 ]; do case "$1" in -i) IN="$2"; shift;; -o) OUT="$2"; shift;; '
        '*) echo "$1" >> "$(dirname "$0")/flags.txt";; esac; shift; done\n' + body + "\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


COPY = 'printf VGF > "$OUT"; cat "$IN" >> "$OUT"'
FAIL = 'echo "loading $IN" >&2; echo "error: unsupported operator CUSTOM" >&2; exit 3'
HALF_THEN_FAIL = 'printf HALF > "$OUT"; echo "error: out of memory" >&2; exit 1'


@pytest.fixture
def only(monkeypatch, tmp_path):
    """``only(folder)``: PATH is just ``folder`` (and /bin for the scripts' sh), no
    ``$MODEL_CONVERTER_PATH``, an empty interpreter scripts folder; the scratch folders
    go under ``tmp_path``."""
    monkeypatch.delenv("MODEL_CONVERTER_PATH", raising=False)
    monkeypatch.setattr(model_converter, "interpreter_scripts", lambda: tmp_path / "no-scripts")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()

    def set_path(folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv("PATH", f"{folder}{os.pathsep}/bin{os.pathsep}/usr/bin")

    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    return set_path


def _no_vgf_under(folder: Path) -> bool:
    return not any(folder.rglob("*.vgf"))


def test_missing_converter_is_one_line_naming_where_it_looked(only, tmp_path):
    only(tmp_path / "empty")
    with pytest.raises(ModelConverterError) as missing:
        convert_to_vgf(FLATBUFFER)
    message = str(missing.value)
    assert "\n" not in message
    assert "$MODEL_CONVERTER_PATH" in message and "model-converter / model_converter" in message
    assert str(tmp_path / "no-scripts") in message
    assert "pip install ai-ml-sdk-model-converter==" in message


def test_model_converter_path_that_is_no_executable_is_named(only, tmp_path, monkeypatch):
    only(tmp_path / "empty")
    _script(tmp_path / "bin", "model-converter", COPY)  # on PATH, but the variable wins
    only(tmp_path / "bin")
    not_executable = tmp_path / "converter.txt"
    not_executable.write_text("no")
    monkeypatch.setenv("MODEL_CONVERTER_PATH", str(not_executable))
    with pytest.raises(ModelConverterError, match=r"MODEL_CONVERTER_PATH=.*converter\.txt"):
        find_executable()


def test_found_like_executorch_variable_then_both_names(only, tmp_path, monkeypatch):
    on_path = _script(tmp_path / "bin", "model_converter", COPY)  # the fallback name
    only(tmp_path / "bin")
    assert find_executable() == on_path
    dash = _script(tmp_path / "bin", "model-converter", COPY)
    assert find_executable() == dash  # model-converter first, as ExecuTorch
    chosen = _script(tmp_path / "elsewhere", "my-converter", COPY)
    monkeypatch.setenv("MODEL_CONVERTER_PATH", str(chosen))
    assert find_executable() == chosen
    assert find_converter().version == (0, 11, 0)


def test_too_old_converter_is_one_line_with_both_versions(only, tmp_path):
    _script(tmp_path / "bin", "model-converter", COPY, version="0.9.0")
    only(tmp_path / "bin")
    with pytest.raises(ModelConverterError) as old:
        convert_to_vgf(FLATBUFFER)
    message = str(old.value)
    assert "\n" not in message
    assert "model-converter 0.9.0" in message and ">= 0.10.0" in message
    assert str(tmp_path / "bin" / "model-converter") in message


def test_unreadable_version_is_refused(only, tmp_path):
    _script(tmp_path / "bin", "model-converter", COPY, version="dev build")
    only(tmp_path / "bin")
    with pytest.raises(ModelConverterError, match="cannot read a version"):
        find_converter()


def test_failing_converter_keeps_the_input_and_prints_the_repro(only, tmp_path):
    _script(tmp_path / "bin", "model-converter", FAIL)
    only(tmp_path / "bin")
    with pytest.raises(ModelConverterError) as failed:
        convert_to_vgf(FLATBUFFER, flags=["--require-static-shape"], name="tag0")
    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith("tag0: model-converter 0.11.0 failed (exit 3: error: unsupported")
    kept = Path(message.split("input kept at ")[1].split(";")[0])
    assert kept.name == "tag0.tosa" and kept.read_bytes() == FLATBUFFER
    repro = message.split("repro: ")[1]
    assert repro.split() == [
        str(tmp_path / "bin" / "model-converter"),
        "--require-static-shape",
        "-i",
        str(kept),
        "-o",
        str(kept.with_suffix(".vgf")),
    ]
    assert _no_vgf_under(tmp_path)


def test_failing_converter_on_a_dumped_input_names_that_file(only, tmp_path):
    _script(tmp_path / "bin", "model-converter", FAIL)
    only(tmp_path / "bin")
    dumped = tmp_path / "dumps" / "tag1.tosa"
    dumped.parent.mkdir()
    dumped.write_bytes(FLATBUFFER)
    with pytest.raises(ModelConverterError, match=f"input kept at {dumped};"):
        convert_to_vgf(FLATBUFFER, name="tag1", tosa_path=dumped)
    assert dumped.read_bytes() == FLATBUFFER


def test_half_written_output_never_stays_on_disk(only, tmp_path):
    _script(tmp_path / "bin", "model-converter", HALF_THEN_FAIL)
    only(tmp_path / "bin")
    with pytest.raises(ModelConverterError, match=r"exit 1: error: out of memory"):
        convert_to_vgf(FLATBUFFER)
    assert _no_vgf_under(tmp_path)


def test_working_converter_gives_its_output_bytes_and_gets_the_flags(only, tmp_path):
    _script(tmp_path / "bin", "model-converter", COPY)
    only(tmp_path / "bin")
    vgf = convert_to_vgf(FLATBUFFER, flags=["--emit-debug-info", " ", ""])
    assert vgf == b"VGF" + FLATBUFFER
    assert (tmp_path / "bin" / "flags.txt").read_text().split() == ["--emit-debug-info"]
    assert _no_vgf_under(tmp_path)  # the output came back as bytes; the scratch is gone


def _maximum(element: str) -> bytes:
    import ir
    from tosa_flatbuffer import to_flatbuffer

    t = f"tensor<1x4x{element}>"
    return to_flatbuffer(
        ir.parse_module(
            f"""
            func.func @main(%a: {t}, %b: {t}) -> {t} {{
              %r = tosa.maximum %a, %b : ({t}, {t}) -> {t}
              return %r : {t}
            }}
            """
        )
    )


def test_the_pinned_converter_converts_a_tosa_flatbuffer():
    """The real converter, a dependency of the project (missing is a failure): a small
    INT32 graph in, a VGF file out."""
    assert find_converter().version >= (0, 10, 0)
    assert convert_to_vgf(_maximum("i32"), name="maximum")[:4] == b"VGF1"  # the VGF magic


def test_the_pinned_converter_refusing_a_graph_is_one_line(monkeypatch, tmp_path):
    """An int8 MAXIMUM is legal TOSA the converter's SPIR-V lowering does not take."""
    find_converter()  # the pinned dependency: missing is a failure
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ModelConverterError) as refused:
        convert_to_vgf(_maximum("i8"), name="maximum")
    message = str(refused.value)
    assert "\n" not in message
    assert "'spirv.Tosa.Maximum' op operand #0 must be" in message
    assert (tmp_path / message.split("input kept at ")[1].split(";")[0]).is_file()
    assert _no_vgf_under(tmp_path)


def test_the_pinned_converter_is_found_beside_the_interpreter_without_path(monkeypatch):
    """``.venv/bin/python -m pytest`` (``make test``) has no ``.venv/bin`` on PATH: the
    converter the project installed is found in the interpreter's scripts folder."""
    monkeypatch.delenv("MODEL_CONVERTER_PATH", raising=False)
    monkeypatch.setenv("PATH", f"/bin{os.pathsep}/usr/bin")
    found = find_executable()
    assert found.parent == model_converter.interpreter_scripts()
    assert find_converter().version >= (0, 10, 0)
