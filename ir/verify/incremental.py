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
   after every pass that changed something.

A pass reports every op it created, modified (an operand, a result type, a property or
attribute, a region's argument) or erased. After it, the ops re-checked (``_dirty``) are
the reported ops still in the module and, around them: the readers of their results and
of the erased ops' results (their constants, or their operands' liveness, may have
changed), their ancestors (``HasParent``, ``IsolatedFromAbove``), the terminators of the
blocks in their regions (a return reads its function's type), their neighbours in the
block and the last op of every block (position), and, when the pass changed the stage
(``typed`` to ``signless``), every op with a stage-reading rule. An op outside that set
has the footprint it had before the pass: it is unchanged itself, the constants it reads
are unchanged (their ops are unchanged, or it would be their reader), its parent's type
and its place in the block are unchanged, and for an isolated op nothing nested changed
(a change below it makes it an ancestor). Its verdict is then the one it had, and by
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
from xdsl.utils.exceptions import VerifyException

from ir.dialects.tosa_ext import RescaleOp
from ir.verify.core import (
    GROUPS,
    Checker,
    check_op,
    defined_values,
    element_type,
    flag,
    has_op_rules,
    is_signed_or_unsigned,
    module_rules,
    reads_stage_for,
)
from ir.verify.target import Target

#: RESCALE's flags that carry unsigned meaning (``ir.verify.stage_rules``)
_UNSIGNED_FLAGS = ("input_unsigned", "output_unsigned")


class Changes:
    """What a pass did to a module, as far as verification cares: the ops it created or
    modified, the readers and neighbours of the ops it erased, and the blocks it inserted
    into or erased from. ``everything`` when the pass cannot say (verify in full)."""

    def __init__(self, *, everything: bool = False) -> None:
        self.everything = everything
        self.ops: set[Operation] = set()
        #: readers and block neighbours of erased ops (maybe erased themselves since)
        self.around_erased: set[Operation] = set()
        self.blocks: set[Block] = set()

    def __bool__(self) -> bool:
        return self.everything or bool(self.ops or self.around_erased or self.blocks)

    def created(self, op: Operation) -> None:
        """``op`` (with what is nested in it) was inserted."""
        self.ops.update(op.walk())
        if op.parent is not None:
            self.blocks.add(op.parent)

    def modified(self, op: Operation) -> None:
        self.ops.add(op)

    def erased(self, op: Operation) -> None:
        """``op`` is about to be erased: its readers and neighbours are still reachable."""
        for nested in op.walk():
            for result in nested.results:
                self.around_erased.update(use.operation for use in result.uses)
        for neighbour in (op.prev_op, op.next_op):
            if neighbour is not None:
                self.around_erased.add(neighbour)
        parent = op.parent_op()
        while parent is not None:
            self.around_erased.add(parent)
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
        self._before = list(module.walk())  # held: their ids stay theirs
        self.suspects = [op for op in self._before if suspect(op)]
        self._blocks = {op.parent for op in self.suspects if op.parent is not None}

    def changes(self, module: ModuleOp) -> Changes:
        changes = Changes()
        changes.ops.update(self.suspects)
        changes.blocks.update(self._blocks)
        old = {id(op) for op in self._before}
        for op in module.walk():
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


def _dirty(
    module: ModuleOp, changes: Changes, stage_changed: bool, groups
) -> tuple[list[Operation], list[Operation]]:
    """The ops to check again, in walk order (see the module docstring), and the ops
    whose stage-reading rules only are to run again (the stage changed, they did not)."""
    around: set[Operation] = set(changes.around_erased)
    for op in changes.ops:
        around.update(use.operation for result in op.results for use in result.uses)
        parent = op.parent_op()
        while parent is not None:
            around.add(parent)
            parent = parent.parent_op()
        for region in op.regions:
            around.update(block.last_op for block in region.blocks if block.last_op is not None)
        for neighbour in (op.prev_op, op.next_op):
            if neighbour is not None:
                around.add(neighbour)
    around |= changes.ops
    dirty: list[Operation] = []
    stage_only: list[Operation] = []
    for op in module.walk():
        if op in around or op.next_op is None:
            dirty.append(op)
        elif stage_changed and reads_stage_for(type(op), groups):
            stage_only.append(op)
    return dirty, stage_only


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
    skips the stage rules in front of ``legalize-unsigned-io``); their op rules run on
    every op."""
    if changes.everything:
        raise ValueError("changes of unknown extent: verify the module in full")
    unverified_op_rules = has_op_rules(unverified)
    if not changes and not stage_changed and not unverified:
        return True
    if any(block.first_op is None for block in changes.blocks if block.parent is not None):
        return False  # an emptied block: Block.verify's business, in the full check
    dirty, stage_only = _dirty(module, changes, stage_changed, groups)
    for op in dirty:
        try:
            op.verify(verify_nested_ops=False)
        except (VerifyException, ValueError):
            return False
    checker = Checker(target, stage)
    for rule in module_rules(groups):
        rule(checker, module)
        if checker.diagnostics:
            return False
    for op in dirty:
        check_op(checker, op, groups)
        if checker.diagnostics:
            return False
    for op in stage_only:
        check_op(checker, op, groups, stage_only=True)
        if checker.diagnostics:
            return False
    if unverified_op_rules:
        for op in module.walk():
            check_op(checker, op, unverified)
            if checker.diagnostics:
                return False
    return True


__all__ = ["Changes", "ReportsChanges", "Watched", "clean_after", "touches_signedness"]
