"""Generate ``ir/spec/tosa_1_0_2.json`` from the TOSA specification's ``tosa.xml``.

The project carries the machine-readable facts of the spec it implements (operator
arguments, ranks, type-support modes per profile/extension, levels, enums) as data, so
neither the dialect nor the verifiers keep hand-written lists, and nobody running the
tests needs the spec checkout.

Usage: python tools/gen_tosa_spec.py PATH/TO/tosa.xml [OUT.json]
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "ir" / "spec" / "tosa_1_0_2.json"


def _rank(arg: ET.Element) -> list[int | str] | None:
    rank = arg.find("rank")
    if rank is None:
        return None
    return [_int_or_name(rank.get("min")), _int_or_name(rank.get("max"))]


def _int_or_name(text: str | None) -> int | str | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _profiles(node: ET.Element) -> list[list[str]]:
    """Each requirement is [profile_or_extension, and_name...]: all must be enabled."""
    reqs = []
    for prof in node.findall("op_profile"):
        req = [prof.get("name")]
        if prof.get("and_name"):
            req.append(prof.get("and_name"))
        reqs.append(req)
    return reqs


def _argument(arg: ET.Element) -> dict:
    ctc = arg.find("ctc")
    return {
        "name": arg.get("name"),
        "category": arg.get("category"),
        "type": arg.get("type"),
        "shape": arg.get("shape"),
        "element_type": arg.get("tensor-element-type"),
        "rank": _rank(arg),
        "optional": arg.get("optional") == "true",
        "ctc": _profiles(ctc) if ctc is not None else [],
        "level_limits": [
            [lim.get("value"), lim.get("limit")] for lim in arg.findall("levellimit")
        ],
    }


def _operator(op: ET.Element, group: str) -> dict:
    modes = []
    for ts in op.findall("typesupport"):
        types = {k: v for k, v in ts.attrib.items() if k.endswith("_t")}
        modes.append({"mode": ts.get("mode"), "types": types, "profiles": _profiles(ts)})
    return {
        "group": group,
        "arguments": [_argument(a) for a in op.find("arguments").findall("argument")],
        "type_variables": [t.get("name") for t in op.findall("types/type")],
        "type_support": modes,
    }


def generate(xml_path: Path) -> dict:
    root = ET.parse(xml_path).getroot()
    version = root.find("version").attrib
    operators = {}
    for group in root.find("operators").findall("operatorgroup"):
        for op in group.findall("operator"):
            operators[op.findtext("name")] = _operator(op, group.get("name"))
    return {
        "version": f"{version['major']}.{version['minor']}.{version['patch']}",
        "profiles": [p.get("name") for p in root.find("profiles")],
        "extensions": {
            e.get("name"): [p.text for p in e.findall("profile_supported")]
            for e in root.find("profile_extensions")
        },
        "levels": {
            lvl.get("name"): {k: int(v) for k, v in lvl.attrib.items() if k != "name"}
            for lvl in root.find("levels")
        },
        "enums": {
            e.get("name"): {v.get("name"): int(v.get("value")) for v in e.findall("enumval")}
            for e in root.findall("enum")
        },
        # enum values only legal with an extension (RESCALE's DOUBLE_ROUND, INEXACT_ROUND)
        "enum_extensions": {
            e.get("name"): {v.get("name"): v.get("extension") for v in e.findall("enumval") if v.get("extension")}
            for e in root.findall("enum")
            if any(v.get("extension") for v in e.findall("enumval"))
        },
        "operators": operators,
    }


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    table = generate(Path(argv[1]))
    out.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}: {len(table['operators'])} operators, TOSA {table['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
