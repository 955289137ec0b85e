"""xDSL's structural verifier, the same checks with fewer steps per op.

Replaces three paths that ``module.verify()`` runs on every op of a module, and that the
check after ``legalize-unsigned-io`` runs again on its function (its signature changed):

- ``IsolatedFromAbove.verify`` (a ``func.func``, the module): xDSL asks, for every
  operand of every op nested in the isolated op, ``op.is_ancestor(owner)``, a climb from
  the defining op through block, region and op to the top. Here the blocks nested in the
  isolated op (at any depth, nested isolated ops included, as ``is_ancestor`` counts
  them) are gathered once, and an operand passes when its defining block (a block
  argument's block, an op result's op's block) is one of them: that is exactly "the
  owner is a proper descendant". The ops visited are xDSL's (not those inside a nested
  isolated op, which checks itself). On any failure xDSL's own verify runs, so the error
  is xDSL's, naming the op xDSL names first.
- ``Operation.verify`` on a region-free, successor-free op (every ``tosa`` op but
  cond/while; others go to xDSL's): of xDSL's steps only these apply to such an op:
  no operand is an erased value, the op that ends a block of a single-block region under
  an op without ``NoTerminator`` is a terminator, and the op's own ``verify_``. They run
  in xDSL's order, and any failure is raised by xDSL's ``Operation.verify`` itself, run
  again, so that the exception and its message are xDSL's.
- ``Block.verify``: xDSL compares each op's parent with ``!=`` (a Python ``__eq__``
  call; it is identity) while iterating, then counts the ops (a second pass) to see
  whether the block is empty. Here the ops are followed by ``next_op`` and compared
  with ``is``; an empty block, or an op whose parent is not the block, goes to xDSL's
  ``Block.verify``, which says so in its words.

Off with ``TOSA_IR_NO_SPEEDUPS=1``: xDSL's methods run, unreplaced.
"""

from __future__ import annotations

from collections.abc import Iterable

from xdsl.ir import Block, ErasedSSAValue, Operation, Region
from xdsl.traits import IsolatedFromAbove, IsTerminator, NoTerminator
from xdsl.utils.exceptions import VerifyException

from ir.speedups import ENABLED
from ir.speedups.identity import class_test, trait_test

_XDSL_ISOLATED_VERIFY = IsolatedFromAbove.verify
_XDSL_OP_VERIFY = Operation.verify
_XDSL_BLOCK_VERIFY = Block.verify

_is_block = class_test(Block)
_is_erased = class_test(ErasedSSAValue)
_is_isolated = trait_test(IsolatedFromAbove)
_is_terminator = trait_test(IsTerminator)
_no_terminator = trait_test(NoTerminator)


def _nested_blocks(regions: Iterable[Region], into: set[int]) -> None:
    """The ids of the blocks in ``regions``, at any depth (alive while the caller holds
    the op, so each id is its block's; ``Block.__hash__`` is a Python call)."""
    for region in regions:
        for block in region.blocks:
            into.add(id(block))
            op = block.first_op
            while op is not None:
                if op.regions:
                    _nested_blocks(op.regions, into)
                op = op.next_op


def _uses_only_inside(op: Operation) -> bool:
    """xDSL's ``IsolatedFromAbove`` condition on ``op``, by block membership."""
    inside: set[int] = set()
    _nested_blocks(op.regions, inside)
    regions = list(op.regions)
    while regions:
        region = regions.pop()
        for block in region.blocks:
            child = block.first_op
            while child is not None:
                for operand in child.operands:
                    owner = operand.owner
                    defined_in = owner if _is_block(type(owner)) else owner.parent
                    if id(defined_in) not in inside:
                        return False
                if child.regions and not _is_isolated(type(child)):
                    regions += child.regions
                child = child.next_op
    return True


def _isolated_verify(self: IsolatedFromAbove, op: Operation) -> None:
    if not _uses_only_inside(op):
        _XDSL_ISOLATED_VERIFY(self, op)  # raises xDSL's error


def _op_verify(self: Operation, verify_nested_ops: bool = True) -> None:
    if self.regions or self.successors:
        _XDSL_OP_VERIFY(self, verify_nested_ops)
        return
    for operand in self.operands:
        if _is_erased(type(operand)):
            _XDSL_OP_VERIFY(self, verify_nested_ops)  # raises xDSL's error
    block = self.parent
    region = None if block is None else block.parent
    if (
        block is not None
        and region is not None
        and block.last_op is self
        and not _is_terminator(type(self))
    ):
        blocks = len(region.blocks)
        parent = region.parent
        if blocks > 1 or (blocks == 1 and parent is not None and not _no_terminator(type(parent))):
            _XDSL_OP_VERIFY(self, verify_nested_ops)  # raises xDSL's error
    try:
        self.verify_()
    except VerifyException:
        _XDSL_OP_VERIFY(self, verify_nested_ops)  # raises it as xDSL words it
        raise


def _block_verify(self: Block) -> None:
    if self.first_op is None:
        _XDSL_BLOCK_VERIFY(self)  # the empty block's own check
        return
    op = self.first_op
    while op is not None:
        if op.parent is not self:
            _XDSL_BLOCK_VERIFY(self)  # raises xDSL's error
        op.verify()
        op = op.next_op


def install() -> None:
    """Put the replacements in place (once, below), on xDSL's classes: every op class
    reaches them (the ``tosa`` dialect's ``verify`` calls ``Operation.verify`` first, to
    word its errors), and each hands anything but its fast case to xDSL's own."""
    if not ENABLED:
        return
    IsolatedFromAbove.verify = _isolated_verify
    Block.verify = _block_verify
    Operation.verify = _op_verify


install()

__all__ = ["install"]
