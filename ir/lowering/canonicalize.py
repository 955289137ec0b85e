"""``canonicalize``: clean-ups that keep every output bit and shrink dumps and flatbuffers.

Each pattern below folds only where the TOSA 1.0.2 pseudo-code gives the very same
values, ERROR_IF and REQUIRE outcomes included, for every possible input; each class
says why its fold is exact. The patterns are xDSL ``RewritePattern``s; ``Canonicalize``
applies them in three sweeps (constants, folds in walk order, dead code from the end)
that reach what a greedy ``PatternRewriteWalker`` reaches offering each op the patterns
whose ``ROOTS`` it is an instance of (``ByOpType``), with work for the ops that have some:

1. ``MergeIdenticalConstants``: ``tosa.const``/``tosa.const_shape`` with the same type and
   the same bytes in one block become one (ExecuTorch writes one zero-point constant per
   use, so a small graph repeats ``dense<0>``/``dense<-128>`` dozens of times);
2. ``FoldIdentityTranspose``: ``tosa.transpose`` with perms ``0..rank-1``;
3. ``FoldIdentityReshape``, ``FoldReshapeOfReshape``: a reshape to its own type, and a
   reshape of a reshape;
4. ``FoldUnityRescale``: a ``tosa.rescale`` by exactly 1.0 between equal types and zero
   points;
5. ``EraseDeadPureOps``: ``Pure`` ops, constants among them, whose results are unused.

Tensor names: the flatbuffer writer (``tosa_flatbuffer.writer``) names a returned value
after the function's result (or its own ``tosa.tensor_name``) and every other value after
its op, and needs them unique per block. No pattern invents a name: folds replace a
value by one that already has its name, and a value read by ``func.return``/``tosa.yield``
is never replaced, so the graph's outputs keep their tensors and names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, IntegerType, ModuleOp, TensorType
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint
from xdsl.traits import IsTerminator, Pure
from xdsl.transforms.dead_code_elimination import is_trivially_dead

from ir.dialects.tosa_ext import (
    ConstOp,
    ConstShapeOp,
    RescaleOp,
    ReshapeOp,
    RoundingMode,
    TransposeOp,
)
from ir.speedups.identity import class_test, trait_test
from ir.speedups.walk import walk_list
from ir.verify.core import constant_ints, flag
from ir.verify.incremental import Changes

CONST_OPS = (ConstOp.name, ConstShapeOp.name)

#: apply_scale_32 REQUIREs ``shift`` in [2, 62]; the multiplier operand is i32 (scale32) or
#: i16, so ``multiplier == 1 << shift`` can only hold up to shift 30 or 14
_SHIFT_MIN, _SHIFT_MAX = 2, 62
#: integer widths a unity RESCALE may fold at; i48 is left alone (apply_scale_16 REQUIREs
#: |value| < 2^47 and an int32 result, which a 48-bit input need not meet)
_FOLDABLE_WIDTHS = (8, 16, 32)
#: rounding modes whose result is the exact quotient whenever that is an integer;
#: INEXACT_ROUND promises only an approximation, so it is not folded
_EXACT_ROUNDING = (RoundingMode.SINGLE_ROUND, RoundingMode.DOUBLE_ROUND)
_INT32_RANGE = (-(1 << 31), (1 << 31) - 1)


def feeds_terminator(value: SSAValue) -> bool:
    """Whether ``func.return``/``tosa.yield`` reads ``value``: a graph (or region) output,
    whose tensor and name the flatbuffer keeps."""
    return any(_is_terminator_class(type(use.operation)) for use in value.uses)


_is_terminator_class = trait_test(IsTerminator)


def _forward(
    op: Operation, value: SSAValue, rewriter: PatternRewriter, *, equal_constant: bool = False
) -> None:
    """Replace ``op``'s only result by ``value`` unless the result is an output: what
    ``rewriter.replace(op, [], [value])`` does (the readers re-pointed and reported as
    modified, the name hint carried over, ``op`` erased), without inserting no ops.

    ``equal_constant``: ``op`` and ``value``'s op are equal constants (same op, result
    type, values type and bytes), and the readers are re-pointed without being reported
    (only ``op``'s erasure is): what a reader's checks read of an operand
    (``ir.verify.incremental``: its type, whether a constant defines it, the constant's
    values) is the same of both, so re-checking the readers could only repeat their
    verdicts. In a large model they are most of the ops ``canonicalize`` touches."""
    result = op.results[0]
    if feeds_terminator(result):
        return
    if equal_constant:
        result.replace_all_uses_with(value)  # the SSA value's own: no listener hears it
    else:
        rewriter.replace_all_uses_with(result, value)
    rewriter.erase(op)


# --------------------------------------------------------------------------- 1. constants


class MergeIdenticalConstants(RewritePattern):
    """Equal constants in a block become the first of them.

    Exact: a constant's value is its type and its bytes, so two with equal keys are the
    same tensor, and every reader gets the same values from the first one (which
    dominates the later ones' readers: a block is in order). Keyed by (op, result type,
    values type, bytes) in one dict: one pass over the block, no Python lists of numbers.
    Bytes are compared as stored: a splat against its expanded form, or ``true`` stored as
    0xFF against 0x01, stays apart (missed, never wrong). Elided ``dense_resource``
    values have no bytes here and are left alone. Matched on the op owning the blocks
    (``func.func``, ``tosa.cond_if``, ``tosa.while_loop``): blocks are isolated in TOSA,
    so only constants of one block may merge.
    """

    ROOTS: ClassVar[tuple[type[Operation], ...]] = (Operation,)

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        for region in op.regions:
            for block in region.blocks:
                _merge_constants(block, rewriter)


#: constants of up to this many bytes are keyed by their bytes; a longer one (a weight)
#: is compared only with the constants of its op and types, so no weight is hashed
_KEYED_BYTES = 64


def _merge_constants(block: Block, rewriter: PatternRewriter) -> None:
    """``MergeIdenticalConstants`` on one block: every constant forwarded to the first
    one with its key (op name, result type, values type, bytes)."""
    small: dict[tuple, SSAValue] = {}
    large: dict[tuple, list[tuple[bytes, SSAValue]]] = {}
    types = _EqualTypes()
    op = block.first_op
    while op is not None:
        const, op = op, op.next_op  # a forwarded constant is erased
        if not _is_constant_class(type(const)):
            continue
        values = const.properties.get("values")
        if not isinstance(values, DenseIntOrFPElementsAttr):
            continue
        output = const.results[0]
        data = values.data.data
        key = (const.name, types.id(output.type), types.id(values.type))
        if len(data) <= _KEYED_BYTES:
            kept = small.setdefault((*key, data), output)
        else:
            same = large.setdefault(key, [])
            kept = next((value for stored, value in same if stored == data), None)
            if kept is None:
                same.append((data, output))
                kept = output
        if kept is not output:
            _forward(const, kept, rewriter, equal_constant=True)


_is_constant_class = class_test(ConstOp, ConstShapeOp)


class _EqualTypes:
    """One id per class of equal types: a key by ``id`` that compares types by value,
    hashing each type object once (an xDSL type hashes through all its parameters)."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[Attribute, int]] = {}  # holds the type: its id stays
        self._by_value: dict[Attribute, int] = {}

    def id(self, t: Attribute) -> int:
        known = self._by_id.get(id(t))
        if known is None:
            known = self._by_id[id(t)] = (t, self._by_value.setdefault(t, id(t)))
        return known[1]


# --------------------------------------------------------------------------- 2. transpose


class FoldIdentityTranspose(RewritePattern):
    """``tosa.transpose`` with perms ``0, 1, ..., rank-1`` is its input.

    Exact: TRANSPOSE writes ``output[index] = input[perms applied to index]``, which for
    the identity permutation is ``input[index]``; the result type equals the input type.
    """

    ROOTS: ClassVar[tuple[type[Operation], ...]] = (TransposeOp,)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: TransposeOp, rewriter: PatternRewriter, /) -> None:
        perms = tuple(op.perms.get_values())
        if perms != tuple(range(len(perms))) or op.output.type != op.input1.type:
            return
        _forward(op, op.input1, rewriter)


# --------------------------------------------------------------------------- 3. reshape


def _static(t) -> bool:
    return isinstance(t, TensorType) and all(dim >= 0 for dim in t.get_shape())


class FoldIdentityReshape(RewritePattern):
    """``tosa.reshape`` whose result type is its input type, a static shape, is its input.

    Exact: RESHAPE copies the elements in row-major order; with the same shape every
    element stays where it is. Only static shapes: ``tensor<?x?xi8>`` to
    ``tensor<?x?xi8>`` may still turn 2x3 into 3x2 (the shape operand decides).
    """

    ROOTS: ClassVar[tuple[type[Operation], ...]] = (ReshapeOp,)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: ReshapeOp, rewriter: PatternRewriter, /) -> None:
        out_type = op.output.type
        if out_type != op.input1.type or not _static(out_type):
            return
        _forward(op, op.input1, rewriter)


class FoldReshapeOfReshape(RewritePattern):
    """``reshape(reshape(x, s1), s2)`` reads ``x`` directly: ``reshape(x, s2)``.

    Exact: both reshapes keep the row-major element order, so their composition is the
    one reshape to the outer shape; ``s2`` already is that shape (its ``tosa.const_shape``
    is reused, so no new constant and no new tensor name). The outer op keeps its name
    and stays in place; the inner one dies if nothing else reads it.
    """

    ROOTS: ClassVar[tuple[type[Operation], ...]] = (ReshapeOp,)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: ReshapeOp, rewriter: PatternRewriter, /) -> None:
        inner = op.input1.owner
        if not isinstance(inner, ReshapeOp):
            return
        op.operands[0] = inner.input1
        rewriter.notify_op_modified(op)


# --------------------------------------------------------------------------- 4. rescale


def _passes_error_ifs(op: RescaleOp) -> bool:
    """The RESCALE ERROR_IFs a fold could hide, on flags and types: DOUBLE_ROUND needs
    scale32; the multiplier is i32 with scale32, i16 without; INEXACT_ROUND (an
    approximation by definition) is not folded at all."""
    scale32 = flag(op, "scale32")
    mode = op.rounding_mode.data
    if mode not in _EXACT_ROUNDING or (mode == RoundingMode.DOUBLE_ROUND and not scale32):
        return False
    multiplier = op.multiplier.type
    want = 32 if scale32 else 16
    return isinstance(multiplier, TensorType) and multiplier.element_type == IntegerType(want)


def _channels(op: RescaleOp, in_type: TensorType) -> int:
    """How many (multiplier, shift) pairs RESCALE reads: the last dimension per channel,
    one otherwise (ERROR_IF on any other length); -1, matching no length, for the
    ERROR_IF of per_channel on a rank-0 input."""
    if not flag(op, "per_channel"):
        return 1
    shape = in_type.get_shape()
    return shape[-1] if shape else -1


def _value_range_after_zp(width: int, zp: int) -> tuple[int, int]:
    """The range of ``value - input_zp`` over a signed ``width``-bit input."""
    return -(1 << (width - 1)) - zp, (1 << (width - 1)) - 1 - zp


class FoldUnityRescale(RewritePattern):
    """``tosa.rescale`` by exactly 1.0 between equal types and equal zero points is its
    input.

    Folded only when: input and output have the same type, an i8/i16/i32 element (not
    i48); neither ``input_unsigned`` nor ``output_unsigned``; both zero points constant
    and equal; every (multiplier, shift) pair constant with ``multiplier == 1 << shift``;
    rounding SINGLE_ROUND or DOUBLE_ROUND. Then, per the TOSA 1.0.2 pseudo-code, with
    ``v`` the input and ``zp`` the common zero point:

    - ``value = v - zp`` (signed: no unsigned flag);
    - scale32, ``apply_scale_32(value, 2^s, s)``: ``(value * 2^s + round) >> s`` with
      ``round = 2^(s-1)``, plus ``±2^30`` for DOUBLE_ROUND only when ``s > 31``, which a
      32-bit multiplier ``2^s`` rules out; ``0 <= round < 2^s``, so the floor is exactly
      ``value``. Its REQUIRE ``-2^(s-1) <= value < 2^(s-1)`` must hold for every input
      (the reference model fails otherwise), so the fold also needs the input range
      minus ``zp`` inside it for the smallest shift: i8 from shift 9 on (ExecuTorch's
      unit scale is 2^30 >> 30), never i32;
    - scale16, ``apply_scale_16(value, 2^s, s)``: the same floor, so ``value``; it
      REQUIREs an int32 result, so the input range minus ``zp`` must lie in int32;
    - ``value + zp = v``, which is in the output type's range (the same type), so the
      clip changes nothing.

    The result is ``v`` bit for bit, and no REQUIRE or ERROR_IF of the original can fire.
    """

    ROOTS: ClassVar[tuple[type[Operation], ...]] = (RescaleOp,)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: RescaleOp, rewriter: PatternRewriter, /) -> None:
        if is_unity_rescale(op):
            _forward(op, op.input, rewriter)


def is_unity_rescale(op: RescaleOp) -> bool:
    """``FoldUnityRescale``'s condition: the output is the input, bit for bit, and no
    ERROR_IF or REQUIRE can fire (see there)."""
    in_type = op.input.type
    if in_type != op.output.type or not isinstance(in_type, TensorType):
        return False
    element = in_type.element_type
    if not isinstance(element, IntegerType) or element.width.data not in _FOLDABLE_WIDTHS:
        return False
    if flag(op, "input_unsigned") or flag(op, "output_unsigned") or not _passes_error_ifs(op):
        return False
    width = element.width.data
    in_zp, out_zp = constant_ints(op.input_zp), constant_ints(op.output_zp)
    if (
        in_zp is None
        or out_zp is None
        or in_zp.size != 1
        or out_zp.size != 1
        or in_zp[0] != out_zp[0]
    ):
        return False
    zp = int(in_zp[0])
    if zp and width != 8:  # ERROR_IF: only 8-bit signed sides have non-zero zero points
        return False
    multipliers, shifts = constant_ints(op.multiplier), constant_ints(op.shift)
    if multipliers is None or shifts is None or multipliers.shape != shifts.shape:
        return False
    if multipliers.size != _channels(op, in_type):
        return False
    if shifts.min() < _SHIFT_MIN or shifts.max() > _SHIFT_MAX or (multipliers != 1 << shifts).any():
        return False
    low, high = _value_range_after_zp(width, zp)
    if flag(op, "scale32"):
        half = 1 << (int(shifts.min()) - 1)
        return -half <= low and high < half
    return _INT32_RANGE[0] <= low and high <= _INT32_RANGE[1]


# --------------------------------------------------------------------------- 5. dead code


class EraseDeadPureOps(RewritePattern):
    """A ``Pure`` op none of whose results is read is erased.

    Exact: a pure op has no effect but its results, and a flatbuffer's outputs are only
    what ``func.return`` reads. Terminators (``tosa.yield`` is pure) and ops without
    results are kept; ops without the trait (variables, custom ops, control flow) too.
    """

    ROOTS: ClassVar[tuple[type[Operation], ...]] = (Operation,)

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        if not op.results or any(result.first_use is not None for result in op.results):
            return
        if op.has_trait(IsTerminator) or not op.has_trait(Pure):
            return
        rewriter.erase(op)


# --------------------------------------------------------------------------- the pass

PATTERNS: tuple[type[RewritePattern], ...] = (
    MergeIdenticalConstants,
    FoldIdentityTranspose,
    FoldIdentityReshape,
    FoldReshapeOfReshape,
    FoldUnityRescale,
    EraseDeadPureOps,
)

#: the patterns that rewrite the op they match, by its class (``ROOTS``)
FOLDS: tuple[type[RewritePattern], ...] = (
    FoldIdentityTranspose,
    FoldIdentityReshape,
    FoldReshapeOfReshape,
    FoldUnityRescale,
)


class ByOpType(RewritePattern):
    """xDSL's ``GreedyRewritePatternApplier`` (as ``canonicalize`` configures it: no
    folding, trivially dead ops erased first, then the patterns in order until one acts),
    but an op is offered only the patterns whose ``ROOTS`` it is an instance of, looked
    up once per op class. ``Canonicalize`` reaches what ``PatternRewriteWalker`` reaches
    with it (see there); the tests hold the two to the same output."""

    def __init__(self, patterns: Sequence[RewritePattern]) -> None:
        self._patterns = tuple(patterns)
        self._by_class: dict[type[Operation], tuple[RewritePattern, ...]] = {}

    def _for(self, op_class: type[Operation]) -> tuple[RewritePattern, ...]:
        found = self._by_class.get(op_class)
        if found is None:
            found = self._by_class[op_class] = tuple(
                p for p in self._patterns if issubclass(op_class, getattr(p, "ROOTS", Operation))
            )
        return found

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        if is_trivially_dead(op):
            rewriter.erase(op)
            return
        for pattern in self._for(type(op)):
            pattern.match_and_rewrite(op, rewriter)
            if rewriter.has_done_action:
                return


def _erased(op: Operation) -> bool:
    """Erasing an op (and what is nested in it) drops its parent; every op of a module
    has one."""
    return op.parent is None


@dataclass(frozen=True)
class Canonicalize(ModulePass):
    """Apply every pattern above, greedily, until the module no longer changes.

    What xDSL's greedy ``PatternRewriteWalker(ByOpType(PATTERNS))`` reaches, in three
    sweeps over the ops of the classes that have work, instead of offering every op
    every pattern on every walk until a walk changes nothing:

    1. constants: ``MergeIdenticalConstants`` on each op that has regions;
    2. folds: each op of a class with ``FOLDS``, in walk order, offered its folds in
       ``PATTERNS``' order until none acts (a reshape of a reshape may then be an
       identity), unless it is trivially dead;
    3. dead code: in reverse walk order (readers before what they read), every op whose
       results are all unused that is trivially dead or ``EraseDeadPureOps`` erases.

    The same result, because of what the walker does (forward, an op before its regions,
    a stack where an op already on it keeps its place): it visits the op owning a block
    before any op in the block and merges there first (nothing outside an op's regions
    defines what they read); it visits every other op once in walk order, with every op
    defining its operands already visited, and again at once when a fold modified it;
    replacing an op's result changes only its readers, which come later, so an op's
    operands, their defining ops and their types are final when it is visited, and no
    fold can act on a later walk; whether an op is trivially dead when visited is
    whether it was before the pass (its readers come later, nothing erases them
    earlier); and no fold reads how often a value is used (``_forward`` reads whether a
    terminator does, and no rewrite changes a terminator's operands), so erasing the
    dead earlier or later changes nothing but when: what dies is the ops that are
    trivially dead once their dead readers are gone, one sweep from the last op up.
    """

    name = "canonicalize"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        self.apply_reporting(ctx, op)

    def apply_reporting(self, ctx: Context, op: ModuleOp) -> Changes:
        """Apply, and return what changed (every edit goes through one rewriter, whose
        listener records it) for ``run_pipeline``'s verification."""
        changes = Changes()
        rewriter = PatternRewriter(InsertPoint.at_start(op.body.block))
        rewriter.extend_from_listener(changes.listener())
        ops = walk_list(op)[1:]  # every op nested in the module, an op before its regions
        _merge_sweep(ops, rewriter)
        _fold_sweep(ops, rewriter)
        _dead_code_sweep(ops, rewriter)
        return changes


def _merge_sweep(ops: list[Operation], rewriter: PatternRewriter) -> None:
    merge = MergeIdenticalConstants()
    for op in ops:
        if op.regions and not _erased(op):
            merge.match_and_rewrite(op, rewriter)


_FOLDS_BY_CLASS: dict[type[Operation], tuple[RewritePattern, ...]] = {}


def _folds_for(op_class: type[Operation]) -> tuple[RewritePattern, ...]:
    found = _FOLDS_BY_CLASS.get(op_class)
    if found is None:
        found = _FOLDS_BY_CLASS[op_class] = tuple(
            fold() for fold in FOLDS if issubclass(op_class, getattr(fold, "ROOTS", Operation))
        )
    return found


def _fold_sweep(ops: list[Operation], rewriter: PatternRewriter) -> None:
    for op in ops:
        folds = _folds_for(type(op))
        if not folds:
            continue
        while not _erased(op) and not is_trivially_dead(op):
            rewriter.has_done_action = False
            for fold in folds:
                fold.match_and_rewrite(op, rewriter)
                if rewriter.has_done_action:
                    break
            if not rewriter.has_done_action:
                break


def _dead_code_sweep(ops: list[Operation], rewriter: PatternRewriter) -> None:
    erase_dead_pure = EraseDeadPureOps()
    for op in reversed(ops):
        if _erased(op) or any(result.first_use is not None for result in op.results):
            continue
        if is_trivially_dead(op):
            rewriter.erase(op)
        else:
            erase_dead_pure.match_and_rewrite(op, rewriter)


def canonicalize(module: ModuleOp) -> ModuleOp:
    """Apply ``canonicalize`` in place and verify the structure; returns the module."""
    from ir import make_context

    Canonicalize().apply(make_context(), module)
    module.verify()
    return module


# --------------------------------------------------------------------------- counts


def op_counts(module: ModuleOp) -> dict[str, int]:
    """TOSA operators (``tosa.yield`` included, as ``tests/support/zoo.py`` counts them) other
    than constants, and the ``tosa.const``/``tosa.const_shape`` ops, regions included."""
    names = Counter(op.name for op in module.walk() if op.name.startswith("tosa."))
    consts = {name: names[name] for name in CONST_OPS}
    return {"ops": sum(names.values()) - sum(consts.values()), **consts}


def canonicalize_stats(before: ModuleOp, after: ModuleOp) -> dict[str, tuple[int, int]]:
    """``{"ops" | "tosa.const" | "tosa.const_shape": (before, after)}``."""
    counts = op_counts(before), op_counts(after)
    return {key: (counts[0][key], counts[1][key]) for key in counts[0]}


__all__ = [
    "PATTERNS",
    "ByOpType",
    "Canonicalize",
    "EraseDeadPureOps",
    "FoldIdentityReshape",
    "FoldIdentityTranspose",
    "FoldReshapeOfReshape",
    "FoldUnityRescale",
    "MergeIdenticalConstants",
    "canonicalize",
    "canonicalize_stats",
    "feeds_terminator",
    "is_unity_rescale",
    "op_counts",
]
