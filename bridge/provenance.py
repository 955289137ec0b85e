"""Where an FX node came from: its name, the user's own source line, its ``nn.Module``.

After the Arm passes, a node's ``stack_trace`` usually ends in pass code (the frame that
created the rewritten node), with the user's ``forward`` further up. The frame a reviewer
wants is the innermost one outside torch, torchao and executorch.

The module a node was traced in (``meta["nn_module_stack"]``, which the Arm passes keep)
is not in the IR's locations: changing them would change every dump and ``.tosa`` byte.
``module_paths`` gives it per node for a side file instead (``tosa-ir compile`` writes
``<partition>.modules.json``, which ``tosa-ir view`` groups the graph by).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from xdsl.dialects.builtin import FileLineColLoc, IntAttr, NameLoc, NoneAttr, StringAttr
from xdsl.ir import Attribute

from ir.diagnostics import format_place
from ir.speedups.prechecked import name_loc
from ir.speedups.shared_attrs import shared

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')
_LIBRARY_PARTS = ("site-packages", "dist-packages")
_LIBRARY_PACKAGES = ("torch", "torchao", "executorch", "functorch")
#: the root module in a Dynamo-style path: ``L['self']``, ``L["self"]``, ``self``
_ROOT = re.compile(r"""^(?:L\[(['"])self\1\]|self)(?=[.\[]|$)""")
#: ``getattr(X, '3')`` (how Dynamo spells a child whose name is not an identifier) -> ``X.3``
_GETATTR = re.compile(r"""getattr\(([^(),]+),\s*(['"])([^'"]*)\2\)""")
#: ``[3]`` or ``['conv']`` after a name -> ``.3`` / ``.conv``
_INDEX = re.compile(r"""\[(?:(['"])([^'"]*)\1|(\d+))\]""")


@lru_cache(maxsize=4096)
def _is_library(path: str) -> bool:
    if path.startswith(
        "<"
    ):  # generated code: "<eval_with_key>.14", "<string>"; its number changes per run
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
        trace = (
            getattr(source, "stack_trace", None)
            if not isinstance(source, dict)
            else source.get("stack_trace")
        )
        found = user_frame(trace)
        if found is not None:
            return found
    return None


def node_location(name: str, meta: dict) -> NameLoc:
    """``loc("node_name"("file.py":12:0))``, or ``loc("node_name")`` without a source."""
    source = source_of(meta)
    child = _no_source() if source is None else _file_line(*source)
    return name_loc(name, child)


def _no_source() -> Attribute:
    return shared("NoneAttr", NoneAttr)


def _file_line(file: str, line: int) -> Attribute:
    """One location object per source line (a model's nodes share a few dozen)."""
    return shared(
        ("FileLineColLoc", file, line),
        lambda: FileLineColLoc(StringAttr(file), IntAttr(line), IntAttr(0)),
    )


def describe_source(meta: dict) -> str:
    source = source_of(meta)
    return "" if source is None else format_place(source)


def module_path(meta: dict) -> str:
    """The innermost ``nn.Module`` a node was traced in, as ``stem/conv`` (a list index is
    a step too: ``features.3.conv.0`` -> ``features/3/conv/0``); ``""`` for a node of the
    root module's own ``forward`` or one without a module stack (a constant, an input).

    ``nn_module_stack`` maps a key to ``(path, type)``, outermost first; the path is a
    qualified name (``features.3``, what ``torch.export`` writes) or, from Dynamo, an
    expression on the root (``L['self'].features[3]``, ``getattr(L['self'].features, '3')``).
    """
    stack = meta.get("nn_module_stack")
    if not stack:
        return ""
    innermost = list(stack.values())[-1]
    path = innermost[0] if isinstance(innermost, tuple | list) else innermost
    return _slash_path(str(path))


@lru_cache(maxsize=1024)
def _slash_path(path: str) -> str:
    while (spelled := _GETATTR.sub(r"\1.\3", path)) != path:  # nested getattr: inner first
        path = spelled
    path = _ROOT.sub("", path)
    path = _INDEX.sub(lambda m: "." + (m[2] if m[3] is None else m[3]), path)
    return "/".join(part for part in path.split(".") if part)


def module_paths(graph_module, name_of: Callable) -> dict[str, str]:
    """``{node name: module path}`` for the nodes of ``graph_module`` and of its
    control-flow submodules that ran inside a submodule of the model (``module_path``);
    ``name_of(node)`` is the name the IR records for a node (``bridge.fx_context.node_name``,
    its location's name). Sorted by name, so the file written from it is stable."""
    found: dict[str, str] = {}
    for graph in (m for m in graph_module.modules() if hasattr(m, "graph")):
        for node in graph.graph.nodes:
            path = module_path(node.meta)
            if path:
                found.setdefault(name_of(node), path)
    return dict(sorted(found.items()))
