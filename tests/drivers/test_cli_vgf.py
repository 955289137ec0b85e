"""``tosa-ir compile --target vgf``: the README's example through ExecuTorch's VGF
partitioning and passes, the IR, and the model converter.

The ``.vgf`` written is the delegate ``bridge.Partitioner(VgfCompileSpec(...))`` puts in
the program (the same converter run on the same ``.tosa``); a missing converter is one
usage error before any slow work; a failing one is one error naming the kept ``.tosa``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from drivers import cli
from runtime import model_converter
from runtime.model_converter import find_converter

EXAMPLE = "drivers/example.py:ExampleCNN"
ROOT = Path(__file__).resolve().parents[2]


def _compile(*argv: str) -> int:
    cwd = Path.cwd()
    os.chdir(ROOT)  # the README's command is typed from the checkout
    try:
        return cli.main(["compile", EXAMPLE, *argv])
    finally:
        os.chdir(cwd)


@pytest.mark.slow
def test_compile_target_vgf_writes_the_delegates_vgf(tmp_path):
    converter = find_converter()  # the pinned dependency: missing is a failure
    from bridge.capture import edge_compile_config, quantize_and_export, quiet
    from bridge.partitioner import Partitioner, VgfCompileSpec
    from drivers.example import ExampleCNN, example_inputs
    from runtime.pte import delegates

    out = tmp_path / "out"
    assert _compile("--target", "vgf", "--out", str(out)) == 0
    report = (out / "report.txt").read_text()
    vgf = (out / "tag0.vgf").read_bytes()
    assert vgf[:4] == b"VGF1"
    assert f"tag0.vgf: {len(vgf)} bytes (model-converter {converter.version_text})" in report
    assert "Vela" not in report and not (out / "tag0.vela.bin").exists()

    with quiet():
        from executorch.exir import to_edge_transform_and_lower

        exported = quantize_and_export(ExampleCNN(), example_inputs(), "TOSA-1.0+INT", False)
        edge = to_edge_transform_and_lower(
            exported,
            partitioner=[Partitioner(VgfCompileSpec("TOSA-1.0+INT"))],
            compile_config=edge_compile_config(),
        )
    (delegate,) = delegates(edge)
    assert bytes(delegate.processed_bytes) == vgf


def test_compile_target_vgf_without_a_converter_is_one_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MODEL_CONVERTER_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(model_converter, "interpreter_scripts", lambda: tmp_path / "empty")
    out = tmp_path / "out"
    assert _compile("--target", "vgf", "--out", str(out)) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("error: --target vgf: the VGF model converter was not found")
    assert not out.exists()


@pytest.mark.slow
def test_compile_target_vgf_failing_converter_names_the_kept_tosa(tmp_path, monkeypatch, capsys):
    converter = tmp_path / "model-converter"
    converter.write_text(
        "#!/bin/sh\n"
        '[ "$1" = "--version" ] && { echo "model-converter 0.11.0"; exit 0; }\n'
        'echo "error: cannot lower" >&2; exit 2\n'
    )
    converter.chmod(converter.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("MODEL_CONVERTER_PATH", str(converter))
    out = tmp_path / "out"
    assert _compile("--target", "vgf", "--out", str(out)) == cli.EXIT_VIOLATION
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    tosa = out / "tag0.tosa"
    assert err.startswith(f"{tosa}: error: tag0: model-converter 0.11.0 failed (exit 2: error:")
    assert f"repro: {converter} -i {tosa} -o" in err
    assert tosa.is_file() and not (out / "tag0.vgf").exists()
