"""Verification after a pass of what the pass changed, not of the whole module again.

``run_pipeline`` verifies its input in full, then after each pass only the ops the pass
reports (a ``Changes``) and the ops whose checks read those; with ``verify_each=True`` it
verifies in full after every pass instead (MLIR's ``mlir-opt`` default). A pass reports
by having ``apply_reporting(ctx, module) -> Changes`` (``ReportsChanges``); a pass that
does not is verified in full after it.

Why the output is still verified against every rule. Each check has a footprint, what
its verdict reads:

1. structure, xDSL's verifier of one op without its nested ops
   (``Operation.verify(verify_nested_ops=False)``, which ``module.verify()`` runs on every
   op): the op itself (operands, result types, properties, attributes, successors, its
   regions' argument types), whether it is the last op of its block, its parent op
   (``HasParent``; ``func.return`` reads its function's type), and for an
   ``IsolatedFromAbove`` op (``func.func``) the operands of the ops nested in it; per block,
   that a block needing a terminator is not empty;
2. op rules (``ir.verify.core.op_rule``): the op's class, operand and result types and
   properties, which operands are ``tosa.const``/``tosa.const_shape`` results and their
   values, the target, and the stage for rules registered with ``reads_stage``;
3. module rules (``ir.verify.core.module_rule``): anything; they run on the whole module
   after every pass that changed something. A module rule that is a loop over the ops
   (``ir.verify.core.module_rule_each``) has, in its ``local_stages``, the footprint of
   an op rule on each op, plus the op's region arguments and its ancestors' classes.

A pass reports every op it created, modified (an operand, a result type, a property or
attribute, a region's argument, a block inserted into or erased from a region) or
erased; an op it moves counts as erased and created. An operand re-pointed to an equal
constant (same op, result type and values: ``canonicalize`` merging duplicates) is no
modification any check can see, since it reads of an operand only its type, whether a
constant defines it, and that constant's values; the erased duplicate is reported. After
it, the ops re-checked (``_dirty``) are the reported ops still in the module and, around
them: the readers of their results and of the erased ops' results (their constants, or
their operands' liveness, may have changed), the terminators of the blocks in their
regions (a return reads its function's type), their neighbours in the block, and the
last op of each block a reported op is or was in (position: an op becomes the last one
only by an erasure or insertion in its block), all with the checks 1, 2 and the local
module rules. Their ancestors (and the erased ops') are re-checked with 2 and the local
module rules, and for 1 only where their nested ops decide it: an ancestor is itself
unchanged (its operands, types, properties, regions' arguments and blocks, position and
parent), so of xDSL's verifier only ``IsolatedFromAbove`` can read something new,
whether a nested op uses a value from outside; it is checked for every re-checked op
against its nearest isolated ancestor (``_isolated_where_changed``; a farther one
contains that one). An op nested in an isolated op and not re-checked reads the values
it read, defined where they were (a moved definition is a created op, whose readers are
re-checked). When the pass changed the stage (``typed`` to ``signless``), every op with
a stage-reading op rule is re-checked with those, and the module rules that read the
stage run in full; a module rule outside its ``local_stages`` (it reads uses: a lost use
is not reported) runs in full after every pass.

An op outside that set has the footprint it had before the pass: it is unchanged itself,
the constants it reads are unchanged (their ops are unchanged, or it would be their
reader), its parent's type and its place in the block are unchanged, and for an isolated
op nothing nested reads from outside it. Its verdict is then the one it had, and by
induction that is clean: the input was verified in full before the first pass, and no
pass runs on a module that failed. So "clean on the re-checked ops, and the module
rules clean" is exactly "the whole module clean", and the pipeline's output is verified
as fully as with ``verify_each``.

When the re-check finds anything, the module is diagnosed in full (the error path has
no hurry): the error lists every violation, the same diagnostics ``verify_each`` gives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import FuncOp
from xdsl.ir import Block, Operation
from xdsl.pattern_rewriter import PatternRewriterListener
from xdsl.traits import IsolatedFromAbove
from xdsl.utils.exceptions import VerifyException

from ir.dialects.tosa_ext import RescaleOp
from ir.speedups.identity import held_signatures, trait_test
from ir.speedups.walk import walk_list
from ir.verify.core import (
    GROUPS,
    Checker,
    check_op,
    defined_values,
    element_type,
    flag,
    has_op_rules,
    is_signed_or_unsigned,
    module_rule_entries,
    reads_stage_for,
)
from ir.verify.target import Target

#: RESCALE's flags that carry unsigned meaning (``ir.verify.stage_rules``)
_UNSIGNED_FLAGS = ("input_unsigned", "output_unsigned")


class Changes:
    """What a pass did to a module, as far as verification cares: the ops it created or
    modified, the readers and ancestors of the ops it erased, and the blocks it inserted
    into or erased from. ``everything`` when the pass cannot say (verify in full)."""

    def __init__(self, *, everything: bool = False) -> None:
        self.everything = everything
        self.ops: set[Operation] = set()
        #: readers and block neighbours of erased ops (maybe erased themselves since)
        self.around_erased: set[Operation] = set()
        #: ancestors of erased ops (maybe erased themselves since)
        self.erased_from: set[Operation] = set()
        self.blocks: set[Block] = set()

    def __bool__(self) -> bool:
        return self.everything or bool(
            self.ops or self.around_erased or self.erased_from or self.blocks
        )

    def created(self, op: Operation) -> None:
        """``op`` (with what is nested in it) was inserted."""
        self.ops.update(walk_list(op))
        if op.parent is not None:
            self.blocks.add(op.parent)

    def modified(self, op: Operation) -> None:
        self.ops.add(op)

    def erased(self, op: Operation) -> None:
        """``op`` is about to be erased: its readers, ancestors and block are still
        reachable (the op that becomes its block's last, if any, is found from the
        block)."""
        for nested in walk_list(op):
            for result in nested.results:
                self.around_erased.update(use.operation for use in result.uses)
        parent = op.parent_op()
        while parent is not None:
            self.erased_from.add(parent)
            parent = parent.parent_op()
        if op.parent is not None:
            self.blocks.add(op.parent)

    def listener(self) -> PatternRewriterListener:
        """An xDSL rewriter listener that records into these changes (for a
        ``PatternRewriteWalker`` or a ``PatternRewriter``)."""
        return PatternRewriterListener(
            operation_insertion_handler=[self.created],
            operation_modification_handler=[self.modified],
            operation_removal_handler=[self.erased],
        )


class Watched:
    """A module before a pass that modifies in place only the ops ``suspect`` picks,
    and may create ops: ``changes()`` after the pass reports those suspects and every op
    that was not there before as created. For a pass whose edits are not made through
    an xDSL rewriter (no listener sees them) but are confined to a kind of op."""

    def __init__(self, module: ModuleOp, suspect: Callable[[Operation], bool]) -> None:
        self._before = walk_list(module)  # held: their ids stay theirs
        self.suspects = [op for op in self._before if suspect(op)]
        # every block: an op the pass erases (a suspect, or one no other op reads) leaves
        # its block with a new last op, or none
        self._blocks = {op.parent for op in self._before if op.parent is not None}

    def changes(self, module: ModuleOp) -> Changes:
        changes = Changes()
        changes.ops.update(self.suspects)
        changes.blocks.update(self._blocks)
        old = {id(op) for op in self._before}
        for op in walk_list(module):
            if id(op) not in old:
                changes.created(op)
        return changes


@runtime_checkable
class ReportsChanges(Protocol):
    """A pass that says what it changed, so that only that is verified again."""

    def apply_reporting(self, ctx: Context, op: ModuleOp) -> Changes: ...


def touches_signedness(op: Operation) -> bool:
    """Whether ``op`` defines or reads a signed or unsigned integer value, has one in a
    function signature, or is a RESCALE with an unsigned flag: everything the stage rules
    look at, and everything ``legalize-unsigned-io`` changes."""
    for value in (*op.operands, *defined_values(op)):
        if is_signed_or_unsigned(element_type(value.type)):
            return True
    if isinstance(op, FuncOp):
        ftype = op.function_type
        if any(is_signed_or_unsigned(element_type(t)) for t in (*ftype.inputs, *ftype.outputs)):
            return True
    return isinstance(op, RescaleOp) and any(flag(op, name) for name in _UNSIGNED_FLAGS)


_is_isolated = trait_test(IsolatedFromAbove)


def _in_module(module: ModuleOp, op: Operation) -> bool:
    top = op
    while (parent := top.parent_op()) is not None:
        top = parent
    return top is module


def _dirty(module: ModuleOp, changes: Changes) -> tuple[list[Operation], list[Operation]]:
    """(the ops to check again, the ancestors of changes to check again only for what
    their nested ops decide); see the module docstring."""
    around: set[Operation] = set(changes.around_erased)
    ancestors: set[Operation] = set(changes.erased_from)
    blocks: set[Block] = set(changes.blocks)
    for op in changes.ops:
        around.update(use.operation for result in op.results for use in result.uses)
        parent = op.parent_op()
        while parent is not None:
            ancestors.add(parent)
            parent = parent.parent_op()
        for region in op.regions:
            around.update(block.last_op for block in region.blocks if block.last_op is not None)
        for neighbour in (op.prev_op, op.next_op):
            if neighbour is not None:
                around.add(neighbour)
    around |= changes.ops
    blocks.update(op.parent for op in around if op.parent is not None)
    around.update(block.last_op for block in blocks if block.last_op is not None)
    dirty = [op for op in around if _in_module(module, op)]
    return dirty, [op for op in ancestors - around if _in_module(module, op)]


def _isolated_where_changed(dirty: list[Operation], verified: set[Operation]) -> bool:
    """``IsolatedFromAbove`` of the isolated ops not verified again (``verified``), on
    the changed ops it reads: each op of ``dirty`` uses only values defined inside its
    nearest isolated ancestor (xDSL's condition: the owner is a proper descendant)."""
    for op in dirty:
        isolated = op.parent_op()
        while isolated is not None and not _is_isolated(type(isolated)):
            isolated = isolated.parent_op()
        if isolated is None or isolated in verified:
            continue
        for operand in op.operands:
            owner = operand.owner
            if owner is isolated or not isolated.is_ancestor(owner):
                return False
    return True


def clean_after(
    module: ModuleOp,
    target: Target,
    stage: str,
    changes: Changes,
    *,
    stage_changed: bool = False,
    groups: tuple[str, ...] = GROUPS,
    unverified: tuple[str, ...] = (),
) -> bool:
    """Whether ``module``, clean before a pass that made ``changes``, is clean after it:
    the re-checked ops' structure and op rules, and every module rule. ``unverified``:
    groups of ``groups`` the module was not held to before the pass (the pipeline's input
    skips the stage rules in front of ``legalize-unsigned-io``); their rules run on
    every op."""
    if changes.everything:
        raise ValueError("changes of unknown extent: verify the module in full")
    if not changes and not stage_changed and not unverified:
        return True
    if any(block.first_op is None for block in changes.blocks if block.parent is not None):
        return False  # an emptied block: Block.verify's business, in the full check
    with held_signatures():
        return _clean_after(module, target, stage, changes, stage_changed, groups, unverified)


def _clean_after(
    module: ModuleOp,
    target: Target,
    stage: str,
    changes: Changes,
    stage_changed: bool,
    groups: tuple[str, ...],
    unverified: tuple[str, ...],
) -> bool:
    dirty, ancestors = _dirty(module, changes)
    for op in dirty:
        try:
            op.verify(verify_nested_ops=False)
        except (VerifyException, ValueError):
            return False
    if not _isolated_where_changed(dirty, set(dirty)):
        return False
    checker = Checker(target, stage)
    rechecked = [*dirty, *ancestors]
    for entry in module_rule_entries(groups):
        local = (
            entry.each is not None
            and stage in entry.local_stages
            and not (stage_changed and entry.reads_stage)
            and entry.group not in unverified
        )
        if local:
            for op in rechecked:
                entry.each(checker, op)  # pyright: ignore[reportOptionalCall]
        else:
            entry.whole(checker, module)
        if checker.diagnostics:
            return False
    for op in rechecked:
        check_op(checker, op, groups)
        if checker.diagnostics:
            return False
    if stage_changed:
        again = set(rechecked)
        for op in checker.walk(module):
            if op not in again and reads_stage_for(type(op), groups):
                check_op(checker, op, groups, stage_only=True)
                if checker.diagnostics:
                    return False
    if has_op_rules(unverified):
        for op in checker.walk(module):
            check_op(checker, op, unverified)
            if checker.diagnostics:
                return False
    return True


__all__ = ["Changes", "ReportsChanges", "Watched", "clean_after", "touches_signedness"]
