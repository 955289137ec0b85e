"""The TOSA specification as data: ``tosa_1_0_2.json`` is generated from the spec's
``tosa.xml`` by ``tools/gen_tosa_spec.py`` and read once, on first use."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

SPEC_VERSION = "1.0.2"

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
}


@cache
def tosa_spec() -> dict[str, Any]:
    """The whole table: version, profiles, extensions, levels, enums, operators."""
    text = resources.files(__package__).joinpath("tosa_1_0_2.json").read_text()
    return json.loads(text)


def operator_spec(spec_name: str) -> dict[str, Any] | None:
    """The spec entry of one operator (``"CONV2D"``), or None for MLIR-only ops."""
    return tosa_spec()["operators"].get(spec_name)
