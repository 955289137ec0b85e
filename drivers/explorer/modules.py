"""The side file that gives each op its ``nn.Module``: ``<partition>.modules.json``.

The IR's locations name an op's FX node and source line, not the module it ran in (the
locations are in every dump and ``.tosa`` byte, compared with ExecuTorch's). ``tosa-ir
compile`` writes the module of each FX node beside the partition's other files instead,
``{"tosa_conv2d_default": "stem", ...}`` (``bridge.provenance.module_paths``: paths with
``/``, ``features/3/conv/0``; nodes of the root module's own ``forward`` left out), and
``drivers.explorer.graph`` groups the graph by it. Plain JSON: reading it needs neither
torch nor the model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from drivers.explorer.overlays import partition_candidates
from ir.files import write_atomically

SUFFIX = ".modules.json"


class ModulesFileError(ValueError):
    """A modules file that cannot be used: one line, ``FILE: error: ...``."""


def modules_path(folder: Path, partition: str) -> Path:
    """``folder/<partition>.modules.json``."""
    return Path(folder) / f"{partition}{SUFFIX}"


def write_modules_file(folder: Path, partition: str, paths: Mapping[str, str]) -> Path:
    """``paths`` (``{FX node name: module path}``) as ``folder/<partition>.modules.json``."""
    path = modules_path(folder, partition)
    write_atomically(path, json.dumps(dict(paths), indent=1, sort_keys=True) + "\n")
    return path


def find_modules_file(model: Path) -> Path | None:
    """The modules file of ``model``'s partition, where ``tosa-ir compile`` writes it:
    ``out/tag0.modules.json`` for ``out/tag0.tosa``, ``out/tag0.review.mlir`` and the
    stage dumps ``out/tag0/NN-<stage>.mlir``; None when there is none."""
    for folder, partition in partition_candidates(model):
        path = modules_path(folder, partition)
        if path.is_file():
            return path
    return None


def read_modules_file(path: Path) -> dict[str, str]:
    """``{FX node name: module path}`` from ``path``; ``ModulesFileError`` (one line) for
    a file that cannot be read or is not such an object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ModulesFileError(f"{path}: error: cannot read: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise ModulesFileError(f"{path}: error: not UTF-8 text ({err.reason})") from None
    except json.JSONDecodeError as err:
        raise ModulesFileError(
            f"{path}:{err.lineno}:{err.colno}: error: not JSON: {err.msg}"
        ) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ModulesFileError(
            f'{path}: error: not a modules file: expected {{"FX node": "module/path", ...}} '
            f"as tosa-ir compile writes it"
        )
    return data


__all__ = [
    "SUFFIX",
    "ModulesFileError",
    "find_modules_file",
    "modules_path",
    "read_modules_file",
    "write_modules_file",
]
