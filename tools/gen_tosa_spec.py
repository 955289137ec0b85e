"""Generate ``ir/spec/tosa_<major>_<minor>_<patch>.json`` from a TOSA specification's
``tosa.xml`` (1.0.2: ``tosa_1_0_2.json``; the 1.1 draft: ``tosa_1_1_0.json``).

The project carries the machine-readable facts of the spec it implements (operator
arguments, ranks, type-support modes per profile/extension, levels, enums) as data, so
neither the dialect nor the verifiers keep hand-written lists, and nobody running the
tests needs the spec checkout.

Usage: python tools/gen_tosa_spec.py PATH/TO/tosa.xml [OUT.json]   (default: by the xml's version)
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

SPEC_DIR = Path(__file__).resolve().parent.parent / "ir" / "spec"


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
    """Each requirement is [profile_or_extension, and_name, and_name2...]: all must be
    enabled (1.1 needs three: ``EXT-MXFP-CONV`` and a format and ``EXT-MX-COMMON``)."""
    reqs = []
    for prof in node.findall("op_profile"):
        extra = sorted(
            (k for k in prof.attrib if k.startswith("and_name")), key=lambda k: (len(k), k)
        )
        reqs.append([prof.get("name"), *(prof.get(k) for k in extra)])
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
        "level_limits": [[lim.get("value"), lim.get("limit")] for lim in arg.findall("levellimit")],
    }


#: 1.1 draft, introduction "Composite Block-Scaled Type Mapping": the payload of each
#: ``bs32_fp8ue8m0_<payload>_t`` and the extensions it deduces (with EXT-MX-COMMON)
_BLOCK_SCALED_PAYLOADS = {
    "fp8e4m3_t": "EXT-MX-FP8E4M3",
    "fp8e5m2_t": "EXT-MX-FP8E5M2",
    "fp6e3m2_t": "EXT-MX-FP6E3M2",
    "fp6e2m3_t": "EXT-MX-FP6E2M3",
    "fp4e2m1_t": "EXT-MX-FP4E2M1",
    "mxint8_t": "EXT-MX-INT8",
}
_BLOCK_SCALED_SET = "bs32_fp8ue8m0_set_t"


def _block_scaled_modes(ts: ET.Element, types: dict) -> list[dict] | None:
    """A ``DEDUCE-EXT`` mode whose type variables all range over the block-scaled set
    (CONST, IDENTITY, RESHAPE... of MX data) as one mode per payload format, with the
    extensions the spec deduces for it; None for any other mode."""
    if [p.get("name") for p in ts.findall("op_profile")] != ["DEDUCE-EXT"]:
        return None
    sets = {t.get("name"): t.get("values", "").split() for t in ts.findall("type_set")}
    binds = ts.findall("type_bind")
    if not binds or any(sets.get(b.get("set")) != [_BLOCK_SCALED_SET] for b in binds):
        return None
    return [
        {
            "mode": f"{ts.get('mode')} {payload.removesuffix('_t')}",
            "types": {**types, **{b.get("type"): payload for b in binds}},
            "profiles": [["EXT-MX-COMMON", extension]],
        }
        for payload, extension in _BLOCK_SCALED_PAYLOADS.items()
    ]


def _operator(op: ET.Element, group: str) -> dict:
    modes = []
    for ts in op.findall("typesupport"):
        types = {k: v for k, v in ts.attrib.items() if k.endswith("_t")}
        expanded = _block_scaled_modes(ts, types)
        if expanded is not None:
            modes.extend(expanded)
            continue
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
            e.get("name"): {
                v.get("name"): v.get("extension")
                for v in e.findall("enumval")
                if v.get("extension")
            }
            for e in root.findall("enum")
            if any(v.get("extension") for v in e.findall("enumval"))
        },
        "operators": operators,
    }


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    table = generate(Path(argv[1]))
    out = (
        Path(argv[2])
        if len(argv) > 2
        else SPEC_DIR / f"tosa_{table['version'].replace('.', '_')}.json"
    )
    out.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}: {len(table['operators'])} operators, TOSA {table['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
