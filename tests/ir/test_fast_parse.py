"""``ir.fast_parse`` is a second reader of our printer's op lines: it must build exactly
what xDSL's own parser builds, on every text the project reads.

Each text is parsed twice, with the fast path and with it switched off (every line then
goes through xDSL), and the two modules are compared by their generic, debuginfo
printing: op names, operand wiring, properties, attributes, types and locations. Texts:
every operator of ``tests/support/op_cases.py`` in our printing (custom and generic form, with
and without locations) and every lit test under ``tests/filecheck``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ir
import ir.parsing
import ir.speedups
from tests.support.op_cases import CASES, HAND_BUILT, build_case_module

FILECHECK = sorted((Path(__file__).resolve().parents[1] / "filecheck").rglob("*.mlir"))


def _exact(module: ir.ModuleOp) -> str:
    return ir.print_module(module, generic=True, debuginfo=True)


def _both_ways(text: str, monkeypatch) -> tuple[str, str]:
    fast = ir.parse_module(text, name="t.mlir")
    with monkeypatch.context() as patch:
        patch.setattr(ir.parsing, "parse_op_line", lambda parser, cache: None)
        slow = ir.parse_module(text, name="t.mlir")
    return _exact(fast), _exact(slow)


def _op_texts() -> dict[str, str]:
    texts = {}
    for name in [*CASES, *HAND_BUILT]:
        module = build_case_module(name)
        texts[f"{name} custom"] = ir.print_module(module)
        texts[f"{name} locations"] = ir.print_module(module, debuginfo=True)
        texts[f"{name} generic"] = ir.print_module(module, generic=True)
    return texts


OP_TEXTS = _op_texts()


@pytest.mark.parametrize("key", OP_TEXTS, ids=OP_TEXTS)
def test_every_operator_reads_the_same_both_ways(key, monkeypatch):
    fast, slow = _both_ways(OP_TEXTS[key], monkeypatch)
    assert fast == slow


@pytest.mark.parametrize("file", FILECHECK, ids=[f.name for f in FILECHECK])
def test_lit_texts_read_the_same_both_ways(file, monkeypatch):
    fast, slow = _both_ways(file.read_text(), monkeypatch)
    assert fast == slow


@pytest.mark.skipif(not ir.speedups.ENABLED, reason="TOSA_IR_NO_SPEEDUPS: no fast path to take")
def test_the_switch_really_switches(monkeypatch):
    """Guard for the tests above: the fast path is taken on our printing, and turning it
    off really sends the lines to xDSL."""
    calls = []
    real = ir.parsing.parse_op_line

    def counting(parser, cache):
        op = real(parser, cache)
        calls.append(op is not None)
        return op

    monkeypatch.setattr(ir.parsing, "parse_op_line", counting)
    ir.parse_module(OP_TEXTS["ADD custom"])
    assert any(calls)
