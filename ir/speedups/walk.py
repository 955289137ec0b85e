"""An op and every op nested in it, as a list, in ``Operation.walk()``'s order.

Replaces: ``list(op.walk())``, xDSL's walk of nested generators (an op's, each region's,
each block's), several Python frames resumed per op. A verification run, the check after
each pass and the flatbuffer writer each walk the module once or more. Here one loop
per block follows ``first_op``/``next_op`` and descends into an op's regions right after
the op: preorder, regions and blocks in order, the order ``walk()`` yields (its default,
not ``region_first`` or ``reverse``).

Off with ``TOSA_IR_NO_SPEEDUPS=1``: ``list(op.walk())``.
"""

from __future__ import annotations

from xdsl.ir import Block, Operation

from ir.speedups import ENABLED


def walk_list(op: Operation) -> list[Operation]:
    """``list(op.walk())``."""
    if not ENABLED:
        return list(op.walk())
    found = [op]
    for region in op.regions:
        for block in region.blocks:
            _add_block(block, found)
    return found


def _add_block(block: Block, found: list[Operation]) -> None:
    op = block.first_op
    while op is not None:
        found.append(op)
        if op.regions:
            for region in op.regions:
                for nested in region.blocks:
                    _add_block(nested, found)
        op = op.next_op


__all__ = ["walk_list"]
