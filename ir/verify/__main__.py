"""``python -m ir.verify FILE.mlir|FILE.tosa [--spec SPEC] [--stage typed|signless]``

Prints every violation as ``file:line: error: [rule-id] message`` and exits 1, or says
the module is clean and exits 0. ``--list-rules`` prints the rule catalog.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ir.verify import DEFAULT_SPEC, RULES, STAGES, SpecError, diagnose, parse_spec


def _read(path: Path):
    import ir

    if path.suffix == ".tosa":
        from bridge.flatbuffer import from_flatbuffer

        return from_flatbuffer(path.read_bytes())
    return ir.parse_module(path.read_text(), name=str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ir.verify", description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--spec", default=DEFAULT_SPEC, help=f"TOSA spec string (default {DEFAULT_SPEC})")
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
        module = _read(args.file)
    except (SpecError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    found = diagnose(module, target, args.stage)
    for diagnostic in found:
        print(diagnostic)
    if found:
        print(f"{args.file}: {len(found)} violation(s) of {target.text}", file=sys.stderr)
        return 1
    print(f"{args.file}: clean under {target.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
