"""Find and run MLIR's ``tosa-opt`` (shipped by the tosa-tools package) as an oracle.

It is looked up next to the running Python first (a virtualenv's ``bin``), then on PATH,
so nothing depends on where this machine keeps it. A missing tool is an error, never a
silent skip.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path


class ToolNotFound(RuntimeError):
    pass


def find_tool(name: str) -> str:
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / name
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise ToolNotFound(f"'{name}' not found: install tosa-tools==2026.5.0 (pip install -e .)")
    return found


def run_tosa_opt(text: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``tosa-opt`` on ``text`` (stdin); stdout is the printed module."""
    proc = subprocess.run(
        [find_tool("tosa-opt"), "-", *args],
        input=text,
        capture_output=True,
        text=True,
    )
    if check and proc.returncode != 0:
        raise RuntimeError(f"tosa-opt {' '.join(args)} failed:\n{proc.stderr}")
    return proc


def deserialize_with_tosa_opt(flatbuffer_path: Path, mlir_path: Path) -> str:
    """MLIR text of a TOSA flatbuffer, by ``tosa-opt``'s own deserializer.

    The flatbuffer is named by ``--tosa-deserialize-filename`` (the pass replaces an empty
    input module); the text goes through ``-o`` because ``tosa-opt`` prints a version
    warning on stdout.
    """
    run_tosa_opt(
        "",
        "--tosa-deserialize",
        f"--tosa-deserialize-filename={flatbuffer_path}",
        "-o",
        str(mlir_path),
    )
    return Path(mlir_path).read_text()


STRICT_VALIDATION = (
    "--tosa-attach-target=profiles=pro_int,pro_fp",
    "--tosa-validate=strict-op-spec-alignment",
)
