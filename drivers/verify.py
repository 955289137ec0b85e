"""``tosa-ir-verify FILE.mlir|FILE.tosa [--spec SPEC] [--stage typed|signless]``

Prints every violation as ``file:line: error: [rule-id] message`` and exits 1, or says
the module is clean and exits 0. Input that cannot be read (a missing file, text that
does not parse, bytes that are no TOSA flatbuffer) is one ``error:`` line and exit 2.
``--list-rules`` prints the rule catalog.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ir.defaults import DEFAULT_SPEC
from ir.verify import RULES, STAGES, SpecError, diagnose, parse_spec


def _read(path: Path):
    """The module in ``path``, or the one line saying why not."""
    import ir

    try:
        if path.suffix == ".tosa":
            from tosa_flatbuffer import from_flatbuffer

            return from_flatbuffer(path.read_bytes())
        return ir.parse_module(path.read_text(encoding="utf-8"), name=str(path))
    except ir.IRParseError as err:
        raise _BadInput(err.error_line()) from None
    except OSError as err:
        raise _BadInput(f"{path}: error: cannot read: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise _BadInput(f"{path}: error: not UTF-8 text ({err.reason})") from None
    except ValueError as err:  # FlatbufferError
        first = (str(err).splitlines() or [type(err).__name__])[0]
        raise _BadInput(f"{path}: error: {first}") from None


class _BadInput(Exception):
    """Input that is not a module: its one line, exit 2."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tosa-ir-verify", description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument(
        "--spec", default=DEFAULT_SPEC, help=f"TOSA spec string (default {DEFAULT_SPEC})"
    )
    parser.add_argument("--stage", choices=STAGES, help="default: from the function signatures")
    parser.add_argument("--list-rules", action="store_true")
    args = parser.parse_args(argv)
    if args.list_rules:
        for rule in RULES.values():
            print(f"{rule.id:24} {rule.summary}  [{rule.origin}]")
        return 0
    if args.file is None:
        parser.error("a FILE is required")
    try:
        target = parse_spec(args.spec)
    except SpecError as err:
        print(f"error: --spec {args.spec!r}: {err}", file=sys.stderr)
        return 2
    try:
        module = _read(args.file)
    except _BadInput as err:
        print(err, file=sys.stderr)
        return 2
    try:
        found = diagnose(module, target, args.stage)
    except Exception as err:
        first = (str(err).splitlines() or [""])[0]
        print(
            f"{args.file}: error: internal error ({type(err).__name__}: {first}); please report it "
            "with the input",
            file=sys.stderr,
        )
        return 2
    for diagnostic in found:
        print(diagnostic)
    if found:
        print(f"{args.file}: {len(found)} violation(s) of {target.text}", file=sys.stderr)
        return 1
    print(f"{args.file}: clean under {target.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
