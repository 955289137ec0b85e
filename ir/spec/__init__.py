"""The TOSA specification as data, one table per version ExecuTorch 1.5.1 targets:
``tosa_1_0_2.json`` (TOSA 1.0) and ``tosa_1_1_0.json`` (the 1.1 draft: block-scaled
MXFP operators, shape operators, fp4/fp6/e8m0 types), each generated from the spec's
``tosa.xml`` by ``tools/gen_tosa_spec.py`` and read once, on first use."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

SPEC_VERSION = "1.0.2"
#: a spec string's major.minor -> its table
SPEC_TABLES = {"1.0": "tosa_1_0_2.json", "1.1": "tosa_1_1_0.json"}

#: Spec element-type names that denote one concrete MLIR element type.
CONCRETE_ELEMENT_TYPES = {
    "bool_t": "i1",
    "i4_t": "i4",
    "i8_t": "i8",
    "i16_t": "i16",
    "i32_t": "i32",
    "i48_t": "i48",
    "fp16_t": "f16",
    "bf16_t": "bf16",
    "fp32_t": "f32",
    "fp8e4m3_t": "f8E4M3FN",
    "fp8e5m2_t": "f8E5M2",
    "fp8ue8m0_t": "f8E8M0FNU",
    "fp6e2m3_t": "f6E2M3FN",
    "fp6e3m2_t": "f6E3M2FN",
    "fp4e2m1_t": "f4E2M1FN",
    "i64_t": "i64",
}


@cache
def tosa_spec(version: str = "1.0") -> dict[str, Any]:
    """The whole table of ``version`` (``"1.0"``, ``"1.1"``): version, profiles,
    extensions, levels, enums, operators."""
    text = resources.files(__name__).joinpath(SPEC_TABLES[version]).read_text()
    return json.loads(text)


def operator_spec(spec_name: str, version: str | None = None) -> dict[str, Any] | None:
    """The spec entry of one operator (``"CONV2D"``) in ``version``'s table, or None for
    MLIR-only ops. Without a version (structure checks on parse, which know no target):
    the 1.0 entry, and the 1.1 one for an operator 1.1 added."""
    if version is not None:
        return tosa_spec(version)["operators"].get(spec_name)
    return tosa_spec()["operators"].get(spec_name) or tosa_spec("1.1")["operators"].get(spec_name)
