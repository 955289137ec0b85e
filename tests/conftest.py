import re

import pytest

from ir.mlir_tools import run_tosa_opt


def normalize_ssa(text: str) -> str:
    """Rename SSA values and block arguments by order of first appearance, so two
    printings compare equal "modulo SSA names"."""
    mapping: dict[str, str] = {}

    def rename(match: re.Match) -> str:
        name = match.group(0)
        return mapping.setdefault(name, f"%v{len(mapping)}")

    return re.sub(r"%[A-Za-z_0-9$.]+", rename, text).strip()


@pytest.fixture
def tosa_opt():
    """``tosa-opt`` over text; failing loudly when the tool is missing."""
    return run_tosa_opt
