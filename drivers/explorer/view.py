"""``tosa-ir view FILE``: the module in Model Explorer, with its overlays.

``tosa-ir view FILE [--overlay cycles|placement|error|PATH.json ...] [--modules FILE.json]
[--no-browser] [--host HOST] [--port PORT]`` reads FILE (``.mlir`` of any stage or
``.tosa``) through ``drivers.explorer.graph`` first, so bad input is one line and no server
starts; then it starts Model Explorer's local server with the adapter
(``drivers.explorer.main``) and the node data files, prints the URL and serves until Ctrl+C.
Without ``--overlay`` it loads every overlay found next to FILE
(``drivers.explorer.overlays.find_overlays``); with it, exactly those, and a kind that is
not there is an error. The graph's layers are the model's modules from the
``<partition>.modules.json`` beside FILE, or from ``--modules``; the source lines without
one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drivers.common import EXIT_OK, EXIT_USAGE, CliError, _report_error
from drivers.explorer.graph import ModelFileError, file_graphs
from drivers.explorer.overlays import KINDS, find_overlays

DEFAULT_HOST = "localhost"
#: Model Explorer's own default; taken, it tries the next ones up to 8099
DEFAULT_PORT = 8080


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "view",
        help="show a module (.mlir of any stage, .tosa) as a graph in Model Explorer",
        description="Start Model Explorer locally on FILE with the TOSA IR adapter and the "
        "node data overlays written next to it (Vela's placement and cycles by 'compile', "
        "the per-op error by 'debug'); print the URL and serve until Ctrl+C.",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="a .mlir (any stage) or .tosa file")
    parser.add_argument(
        "--overlay",
        action="append",
        metavar="KIND|PATH",
        help=f"node data to load: {', '.join(KINDS)} (the file next to FILE) or a node data "
        ".json; repeatable (default: every overlay found next to FILE)",
    )
    parser.add_argument(
        "--modules",
        type=Path,
        metavar="FILE.json",
        help="the nn.Module of each FX node, for the layers (default: the "
        "<partition>.modules.json 'compile' wrote beside FILE; without one, source lines)",
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="do not open a browser tab (headless use)"
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to serve on (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}, or the next free one up to 8099)",
    )


def run_view(args: argparse.Namespace) -> int:
    """The ``view`` command; returns the exit status (after Ctrl+C, or at once on bad
    input)."""
    try:
        overlays = checked_inputs(args.file, args.overlay, args.modules)
    except CliError as err:
        return _report_error(err)
    serve(
        args.file,
        overlays,
        host=args.host,
        port=args.port,
        open_browser=not args.no_browser,
        modules=args.modules,
    )
    return EXIT_OK


def checked_inputs(
    file: Path, requested: list[str] | None, modules: Path | None = None
) -> list[Path]:
    """Read FILE (grouped by ``modules`` or the modules file beside it) and find the
    overlays before any server starts: the node data files."""
    try:
        file_graphs(file, modules)
    except ModelFileError as err:
        raise CliError(EXIT_USAGE, str(err)) from None
    found = find_overlays(file)
    if requested is None:
        return [found[kind] for kind in KINDS if kind in found]
    overlays = []
    for item in requested:
        if item in KINDS:
            if item not in found:
                raise CliError(
                    EXIT_USAGE,
                    f"{file}: error: no {item} overlay next to it (tosa-ir compile writes "
                    f"<partition>.cycles.json and .placement.json, tosa-ir debug .error.json)",
                )
            overlays.append(found[item])
            continue
        path = Path(item)
        if not path.is_file():
            raise CliError(
                EXIT_USAGE, f"{item}: error: --overlay is {'|'.join(KINDS)} or a node data file"
            )
        overlays.append(path)
    return overlays


def _model_explorer():
    """Model Explorer, imported without torch: it imports torch when it can (1.5 s and
    its PyTorch adapter), which a TOSA file does not need. The block lasts for the
    import only."""
    blocked = "torch" not in sys.modules
    if blocked:
        sys.modules["torch"] = None  # type: ignore[assignment]  # import torch -> ImportError
    try:
        import model_explorer
    finally:
        if blocked:
            del sys.modules["torch"]
    return model_explorer


def serve(
    file: Path,
    overlays: list[Path],
    *,
    host: str,
    port: int,
    open_browser: bool,
    modules: Path | None = None,
) -> None:
    """Model Explorer's server on ``file`` with our adapter and ``overlays`` (and its
    layers from ``modules``, if given); blocks. Model Explorer prints the URL; stdout is
    line-buffered so a pipe sees it at once."""
    model_explorer = _model_explorer()
    from drivers.explorer.main import (
        ADAPTER_ID,
        use_modules_file,
    )  # after: it imports Model Explorer

    if modules is not None:
        use_modules_file(file, modules)
    config = model_explorer.config()
    config.add_model_from_path(str(file), adapterId=ADAPTER_ID)
    for overlay in overlays:
        config.add_node_data_from_path(str(overlay))
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    model_explorer.visualize_from_config(
        config=config,
        host=host,
        port=port,
        extensions=["drivers.explorer"],
        no_open_in_browser=not open_browser,
    )


__all__ = ["add_parser", "checked_inputs", "run_view", "serve"]
