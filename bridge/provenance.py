"""Where an FX node came from: its name and the user's own source line.

After the Arm passes, a node's ``stack_trace`` usually ends in pass code (the frame that
created the rewritten node), with the user's ``forward`` further up. The frame a reviewer
wants is the innermost one outside torch, torchao and executorch.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from xdsl.dialects.builtin import FileLineColLoc, IntAttr, NameLoc, NoneAttr, StringAttr
from xdsl.ir import Attribute

from ir.diagnostics import format_place

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')
_LIBRARY_PARTS = ("site-packages", "dist-packages")
_LIBRARY_PACKAGES = ("torch", "torchao", "executorch", "functorch")


@lru_cache(maxsize=4096)
def _is_library(path: str) -> bool:
    if path.startswith("<"):  # generated code: "<eval_with_key>.14", "<string>"; its number changes per run
        return True
    parts = Path(path).parts
    if any(p in _LIBRARY_PARTS for p in parts):
        return True
    return any(f"{os.sep}{pkg}{os.sep}" in path for pkg in _LIBRARY_PACKAGES)


@lru_cache(maxsize=4096)
def _display_path(path: str, cwd: str) -> str:
    """Relative to the working directory when the file is under it: dumps stay short and
    do not change from one checkout to another."""
    try:
        return os.path.relpath(path, cwd) if Path(path).resolve().is_relative_to(cwd) else path
    except (OSError, ValueError):
        return path


def user_frame(stack_trace: str | None) -> tuple[str, int] | None:
    """The innermost non-library ``(file, line)`` of an FX stack trace, if any."""
    if not stack_trace:
        return None
    return _user_frame(stack_trace, os.getcwd())


@lru_cache(maxsize=4096)
def _user_frame(stack_trace: str, cwd: str) -> tuple[str, int] | None:
    """Cached: the nodes of one model share a few dozen traces (a node made by a pass
    carries the trace of the op it replaced), and each holds tens of frames."""
    frames = [(m["file"], int(m["line"])) for m in _FRAME.finditer(stack_trace)]
    user = [f for f in frames if not _is_library(f[0])]
    if not user:
        return None
    path, line = user[-1]
    return _display_path(path, cwd), line


def source_of(meta: dict) -> tuple[str, int] | None:
    """User source of a node, from its own stack trace or, failing that, from the node
    it was made from (``from_node``), which keeps the trace of the original aten op."""
    found = user_frame(meta.get("stack_trace"))
    if found is not None:
        return found
    for source in meta.get("from_node") or ():
        trace = getattr(source, "stack_trace", None) if not isinstance(source, dict) else source.get("stack_trace")
        found = user_frame(trace)
        if found is not None:
            return found
    return None


def node_location(name: str, meta: dict) -> Attribute:
    """``loc("node_name"("file.py":12:0))``, or ``loc("node_name")`` without a source."""
    source = source_of(meta)
    child: Attribute = NoneAttr()
    if source is not None:
        child = FileLineColLoc(StringAttr(source[0]), IntAttr(source[1]), IntAttr(0))
    return NameLoc(StringAttr(name), child)


def describe_source(meta: dict) -> str:
    source = source_of(meta)
    return "" if source is None else format_place(source)
