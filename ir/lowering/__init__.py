"""The stages (typed -> signless -> canonical -> flatbuffer) as xDSL module passes."""

from __future__ import annotations

from xdsl.dialects.func import FuncOp
from xdsl.ir import Block, Operation


def entry_block(func: FuncOp) -> Block:
    """``func``'s first block. A declaration has none; it fails here with the
    AttributeError that reading ``None``'s attributes gave before this helper."""
    block = func.body.blocks.first
    if block is None:
        raise AttributeError(f"function @{func.sym_name.data} has no body")
    return block


def terminator(block: Block | None) -> Operation:
    """The last op of a function's block (its ``func.return``). A missing or empty block
    fails with the AttributeError that reading ``None``'s attributes gave before."""
    op = block.last_op if block is not None else None
    if op is None:
        raise AttributeError("function body has no terminator")
    return op


__all__ = ["entry_block", "terminator"]
