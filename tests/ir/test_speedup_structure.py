"""``ir.speedups.structure`` takes fewer steps than xDSL's structural verifier, never
another verdict: on modules broken in each way its fast paths look at, the error (class
and message) is the one xDSL's own methods give, and a sound module passes both."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation
from xdsl.traits import IsolatedFromAbove

import ir
from ir.speedups import ENABLED, structure

TEXT = """\
func.func @main(%x: tensor<2xi8>) -> tensor<2xi8> {
  %n = tosa.negate %x, %zp, %zp : (tensor<2xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<2xi8>
  return %n : tensor<2xi8>
}
func.func @other(%y: tensor<2xi8>) -> tensor<2xi8> {
  return %y : tensor<2xi8>
}
"""


def _sound() -> ModuleOp:
    zp = '%zp = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>\n'
    text = TEXT.replace("  %n = ", "  " + zp + "  %n = ")
    return ir.parse_module(text)


def _funcs(module: ModuleOp) -> list[Operation]:
    return list(module.body.block.ops)


def _outside_value(module: ModuleOp) -> None:
    """@other returns @main's argument: a value from outside its IsolatedFromAbove."""
    main, other = _funcs(module)
    ret = other.body.block.last_op
    ret.operands = [main.body.block.args[0]]


def _no_terminator(module: ModuleOp) -> None:
    """@main's return dropped: its block ends in a negate."""
    main, _ = _funcs(module)
    main.body.block.last_op.detach()


def _foreign_parent(module: ModuleOp) -> None:
    """An op of @main whose parent pointer names @other's block."""
    main, other = _funcs(module)
    main.body.block.first_op.parent = other.body.block


def _failing_verify_(module: ModuleOp) -> None:
    """A negate that lost its output zero point (IRDL: an operand count)."""
    main, _ = _funcs(module)
    negate = main.body.block.first_op.next_op
    negate.operands = negate.operands[:2]


BREAKS: dict[str, Callable[[ModuleOp], None]] = {
    "value from outside an isolated op": _outside_value,
    "block without a terminator": _no_terminator,
    "parent pointer elsewhere": _foreign_parent,
    "op verifier fails": _failing_verify_,
}


@contextmanager
def _xdsl_methods():
    """xDSL's own methods in place of the speed-up's, for the block."""
    replaced = (IsolatedFromAbove.verify, Block.verify, Operation.verify)
    IsolatedFromAbove.verify = structure._XDSL_ISOLATED_VERIFY  # pyright: ignore[reportPrivateUsage]
    Block.verify = structure._XDSL_BLOCK_VERIFY  # pyright: ignore[reportPrivateUsage]
    Operation.verify = structure._XDSL_OP_VERIFY  # pyright: ignore[reportPrivateUsage]
    try:
        yield
    finally:
        IsolatedFromAbove.verify, Block.verify, Operation.verify = replaced


def _outcome(module: ModuleOp) -> tuple[str, str] | None:
    try:
        module.verify()
    except Exception as err:  # the class and words are what is compared
        return type(err).__name__, str(err)
    return None


def test_the_speed_up_is_installed():
    assert ENABLED, "run without TOSA_IR_NO_SPEEDUPS: this compares the speed-up with xDSL"
    assert Operation.verify is structure._op_verify  # pyright: ignore[reportPrivateUsage]
    assert Block.verify is structure._block_verify  # pyright: ignore[reportPrivateUsage]


def test_a_sound_module_passes_both_ways():
    module = _sound()
    assert _outcome(module) is None
    with _xdsl_methods():
        assert _outcome(module) is None


@pytest.mark.parametrize("break_", sorted(BREAKS))
def test_a_broken_module_fails_as_xdsl_says(break_):
    module = _sound()
    BREAKS[break_](module)
    fast = _outcome(module)
    with _xdsl_methods():
        slow = _outcome(module)
    assert slow is not None, f"the break '{break_}' is no break for xDSL"
    assert fast == slow
