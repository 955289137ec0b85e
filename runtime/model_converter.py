"""The ML SDK Model Converter: a TOSA flatbuffer in, a ``.vgf`` out (the VGF delegate's bytes).

ExecuTorch's VGF backend hands each partition's TOSA flatbuffer to ``model-converter``
and takes the ``.vgf`` it writes as the delegate payload; ``convert_to_vgf`` is that
step for our flatbuffer. The converter is found as ExecuTorch finds it:
``$MODEL_CONVERTER_PATH``, else ``model-converter`` or ``model_converter`` on PATH (the
``ai-ml-sdk-model-converter`` wheel installs both), and last in the running
interpreter's scripts folder, where the project's pinned wheel is installed even when
its virtual environment is not on PATH (``.venv/bin/python -m pytest``, as ``make test``
runs it); ``$MODEL_CONVERTER_LIB_DIR``, if set, is put in front of the converter's
``LD_LIBRARY_PATH``. It must be at least ``MIN_VERSION``, ExecuTorch 1.5.1's minimum.

Each way it can go wrong is one ``ModelConverterError`` line: no converter, one too old
(or one whose ``--version`` cannot be read), one that fails on the input. When it fails,
the ``.tosa`` it read stays on disk and the message holds the command line that repeats
the failure. The ``.vgf`` is written in a private temporary folder and only its bytes come
back, so no partial ``.vgf`` is ever left where a caller looks. Torch-free: the
converter is a plain executable.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: ExecuTorch 1.5.1's minimum converter (``executorch.backends.arm.vgf.model_converter``)
MIN_VERSION = (0, 10, 0)
PATH_VARIABLE = "MODEL_CONVERTER_PATH"
LIB_DIR_VARIABLE = "MODEL_CONVERTER_LIB_DIR"
EXECUTABLE_NAMES = ("model-converter", "model_converter")
#: the pinned wheel, for the message that says how to get a converter
INSTALL_HINT = "pip install ai-ml-sdk-model-converter==0.11.0"

_VERSION_NUMBER = re.compile(r"\b(\d+)\.(\d+)\.(\d+)")


class ModelConverterError(RuntimeError):
    """The converter is missing, too old, or failed; the message is one line."""


@dataclass(frozen=True)
class ModelConverter:
    """A converter executable found and checked: its path and version."""

    path: Path
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


def _environment() -> dict[str, str]:
    """The converter's environment: ours, with ``$MODEL_CONVERTER_LIB_DIR`` in front of
    ``LD_LIBRARY_PATH`` (a converter built against a newer libstdc++ than the system's)."""
    env = dict(os.environ)
    lib_dir = env.pop(LIB_DIR_VARIABLE, None)
    if lib_dir:
        existing = env.get("LD_LIBRARY_PATH")
        env["LD_LIBRARY_PATH"] = f"{lib_dir}:{existing}" if existing else lib_dir
    return env


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_executable() -> Path:
    """The converter executable ExecuTorch would run, or a ``ModelConverterError``.

    A ``$MODEL_CONVERTER_PATH`` that names no executable is an error of its own rather
    than a silent fall-back to PATH: whoever set it meant that converter.
    """
    configured = os.environ.get(PATH_VARIABLE)
    if configured:
        path = Path(configured)
        if not _is_executable(path):
            raise ModelConverterError(
                f"${PATH_VARIABLE}={configured}: not an executable file (the VGF model "
                "converter); fix it or unset it to use model-converter on PATH"
            )
        return path
    for name in EXECUTABLE_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    scripts = interpreter_scripts()
    for name in EXECUTABLE_NAMES:
        if _is_executable(scripts / name):
            return scripts / name
    raise ModelConverterError(
        f"the VGF model converter was not found: neither ${PATH_VARIABLE} nor "
        f"{' / '.join(EXECUTABLE_NAMES)} on PATH or in {scripts} ({INSTALL_HINT})"
    )


def interpreter_scripts() -> Path:
    """The running interpreter's scripts folder (a virtual environment's ``bin``): where
    ``pip install`` put the converter's wheel, whether or not that folder is on PATH."""
    return Path(sysconfig.get_path("scripts"))


def _parse_version(text: str) -> tuple[int, int, int] | None:
    """The version of ``model-converter --version``: its JSON ``"version"`` (0.11.0
    prints JSON), else the first ``X.Y.Z`` in the text."""
    try:
        value = json.loads(text).get("version", "")
    except (ValueError, AttributeError):
        value = text
    match = _VERSION_NUMBER.search(str(value)) or _VERSION_NUMBER.search(text)
    return tuple(int(part) for part in match.groups()) if match else None  # type: ignore[return-value]


@cache
def _checked(path: Path, mtime_ns: int) -> ModelConverter:
    """``path --version``, checked against ``MIN_VERSION``; once per executable file."""
    try:
        run = subprocess.run(
            [str(path), "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            env=_environment(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ModelConverterError(f"{path}: cannot run the VGF model converter: {err}") from None
    output = (run.stdout or run.stderr).strip()
    if run.returncode != 0:
        raise ModelConverterError(
            f"{path} --version exited with {run.returncode}: {_first_line(output)}"
        )
    version = _parse_version(output)
    minimum = ".".join(map(str, MIN_VERSION))
    if version is None:
        raise ModelConverterError(
            f"{path}: cannot read a version in its --version output "
            f"({_first_line(output)}); VGF needs model-converter >= {minimum}"
        )
    if version < MIN_VERSION:
        found = ".".join(map(str, version))
        raise ModelConverterError(
            f"{path} is model-converter {found}; VGF needs >= {minimum} ({INSTALL_HINT})"
        )
    return ModelConverter(path, version)


def find_converter() -> ModelConverter:
    """The converter found (``find_executable``) and its version checked."""
    path = find_executable()
    return _checked(path, path.stat().st_mtime_ns)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no output"


def _failure_line(stderr: str) -> str:
    """The converter's complaint: the first line that says error, else its first line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower():
            return line
    return lines[0] if lines else "no output"


def convert_to_vgf(
    flatbuffer: bytes,
    *,
    flags: tuple[str, ...] | list[str] = (),
    name: str = "graph",
    tosa_path: str | Path | None = None,
) -> bytes:
    """The converter's ``.vgf`` of a TOSA flatbuffer, as ExecuTorch runs it
    (``model-converter FLAGS -i IN.tosa -o OUT.vgf``).

    ``flags`` are ``VgfCompileSpec.compiler_flags``; ``name`` (the delegation tag) names
    the files. ``tosa_path`` is where the flatbuffer already is on disk (a dump): the
    converter reads it there. Without one the input is written to a temporary folder,
    which is kept only when the converter fails, so the message can name the input.
    """
    converter = find_converter()
    with tempfile.TemporaryDirectory(prefix="tosa-ir-vgf-") as scratch:
        if tosa_path is None:
            input_path = Path(scratch) / f"{name}.tosa"
            input_path.write_bytes(flatbuffer)
        else:
            input_path = Path(tosa_path)
        output_path = Path(scratch) / f"{name}.vgf"
        flags = [flag for flag in flags if flag and flag.strip()]
        command = [str(converter.path), *flags, "-i", str(input_path), "-o", str(output_path)]
        try:
            run = subprocess.run(
                command, capture_output=True, text=True, env=_environment(), check=False
            )
        except OSError as err:
            raise ModelConverterError(f"{converter.path}: cannot run: {err}") from None
        if run.returncode == 0 and output_path.is_file():
            return output_path.read_bytes()
        kept = input_path if tosa_path is not None else _keep(input_path)
        command[command.index("-i") + 1] = str(kept)
        command[command.index("-o") + 1] = str(kept.with_suffix(".vgf"))
        why = (
            f"exit {run.returncode}: {_failure_line(run.stderr or run.stdout)}"
            if run.returncode != 0
            else "exit 0 but no .vgf written"
        )
        raise ModelConverterError(
            f"{name}: model-converter {converter.version_text} failed ({why}); "
            f"input kept at {kept}; repro: {shlex.join(command)}"
        )


def _keep(input_path: Path) -> Path:
    """Move a failed input out of the temporary folder that is about to go."""
    kept_dir = Path(tempfile.mkdtemp(prefix="tosa-ir-vgf-failed-"))
    kept = kept_dir / input_path.name
    shutil.copyfile(input_path, kept)
    return kept


__all__ = [
    "MIN_VERSION",
    "ModelConverter",
    "ModelConverterError",
    "convert_to_vgf",
    "find_converter",
    "find_executable",
]
