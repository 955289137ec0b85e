"""What every rule shares: the state of one verification run, the rule registry and the
small readers rules use to look at types, attributes and constants.

Rules are plain functions registered by decorator, JAX-style: ``@op_rule(RescaleOp)``
for a rule on every op of a class (subclasses included), ``@module_rule`` for a rule that
needs the whole module (function boundaries, nesting). An op rule reads only the op: its
class, operand and result types, properties, which operands are ``tosa.const`` /
``tosa.const_shape`` results and those constants' values, the target, and the stage when
registered with ``reads_stage=True``. ``check_op`` remembers findings by exactly that, and
incremental verification (``ir.verify.incremental``) relies on it. Each belongs to a
group, and each group is one verifier pass:

- ``stage``: where signedness may appear (typed vs signless);
- ``rescale``: RESCALE's ERROR_IF and REQUIRE lines;
- ``spec``: every operator against the spec tables (types per profile, shapes, levels).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TypeVar, cast

import numpy as np
from xdsl.dialects.builtin import (
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    IntegerType,
    ModuleOp,
    Signedness,
    TensorType,
)
from xdsl.ir import Attribute, Operation, SSAValue

from ir.builders import numpy_from_dense
from ir.dialects.syntax import type_text
from ir.dialects.tosa_ext import ConstOp, ConstShapeOp
from ir.spec import CONCRETE_ELEMENT_TYPES
from ir.speedups import ENABLED as SPEEDUPS
from ir.speedups.identity import (
    MemoKey,
    SignatureMemo,
    canonical,
    class_test,
    rules_signature,
)
from ir.speedups.walk import walk_list
from ir.verify.catalog import RULES
from ir.verify.diagnostic import Diagnostic
from ir.verify.target import Target

GROUPS = ("stage", "rescale", "spec")
TYPED, SIGNLESS = "typed", "signless"


class Checker:
    """One run: the target, the stage, the diagnostics found so far."""

    def __init__(self, target: Target, stage: str):
        self.target = target
        self.stage = stage
        self.diagnostics: list[Diagnostic] = []
        self._walked: tuple[ModuleOp, list[Operation]] | None = None
        #: plan -> its findings memo for this run's target and stage (``check_op``)
        self.plan_memos: dict[_Plan, SignatureMemo[_RuleFindings]] = {}

    def walk(self, module: ModuleOp) -> list[Operation]:
        """``module.walk()`` as a list, walked once per run: the rules of one run read
        the same module, which none of them changes."""
        if self._walked is None or self._walked[0] is not module:
            # a real module by ``walk_list``; a view with a ``walk`` of its own (the ops
            # ``legalize-unsigned-io``'s boundary check reads) by that
            ops = walk_list(module) if isinstance(module, Operation) else list(module.walk())
            self._walked = (module, ops)
        return self._walked[1]

    def report(self, rule: str, op: Operation, message: str) -> None:
        if rule not in RULES:
            raise KeyError(f"rule '{rule}' is not in ir.verify.catalog.RULES")
        self.diagnostics.append(Diagnostic.at(rule, op, message))


OpRule = Callable[[Checker, Operation], None]
ModuleRule = Callable[[Checker, ModuleOp], None]
OpT = TypeVar("OpT", bound=Operation)

#: (group, op classes, rule, whether it reads ``check.stage``)
_OP_RULES: list[tuple[str, tuple[type[Operation], ...], OpRule, bool]] = []
_MODULE_RULES: list[ModuleRuleEntry] = []
_STAGE_RULES: set[OpRule] = set()


def op_rule(
    *op_classes: type[OpT], group: str = "spec", reads_stage: bool = False
) -> Callable[[Callable[[Checker, OpT], None]], Callable[[Checker, OpT], None]]:
    """Register a rule for the ops of ``op_classes``; the rule may name the op by their
    class (``op: RescaleOp``), since ``rules_for`` hands it no other op. A rule that reads
    ``check.stage`` says so (``reads_stage``): a pass that changes the stage changes its
    verdict on ops the pass did not touch."""
    assert group in GROUPS, group

    def register(rule: Callable[[Checker, OpT], None]) -> Callable[[Checker, OpT], None]:
        # Stored as a rule on any Operation: rules_for only calls it on instances of op_classes.
        _OP_RULES.append((group, op_classes, cast(OpRule, rule), reads_stage))
        if reads_stage:
            _STAGE_RULES.add(cast(OpRule, rule))
        _PLANS.clear()
        return rule

    return register


class ModuleRuleEntry:
    """A module rule: ``whole(check, module)``, and for a rule that is a loop over the
    ops of the module (``module_rule_each``), ``each(check, op)``, its verdict on one op.

    ``each`` reads the op's class, the types of the values it defines (results, region
    arguments), its ancestors' classes, the target, and the stage when ``reads_stage``;
    in a stage of ``local_stages`` nothing more (in another it may read the uses of the
    op's values). Its findings are made at the op."""

    __slots__ = ("each", "group", "local_stages", "reads_stage", "whole")

    def __init__(
        self,
        group: str,
        whole: ModuleRule,
        each: OpRule | None = None,
        reads_stage: bool = False,
        local_stages: tuple[str, ...] = (),
    ) -> None:
        self.group = group
        self.whole = whole
        self.each = each
        self.reads_stage = reads_stage
        self.local_stages = local_stages


def module_rule(group: str) -> Callable[[ModuleRule], ModuleRule]:
    assert group in GROUPS, group

    def register(rule: ModuleRule) -> ModuleRule:
        _MODULE_RULES.append(ModuleRuleEntry(group, rule))
        return rule

    return register


def module_rule_each(
    group: str, *, reads_stage: bool = False, local_stages: tuple[str, ...] = (TYPED, SIGNLESS)
) -> Callable[[OpRule], OpRule]:
    """Register a module rule that is ``each`` on every op of the module, in walk order
    (see ``ModuleRuleEntry`` for what ``each`` may read)."""
    assert group in GROUPS, group

    def register(each: OpRule) -> OpRule:
        def whole(check: Checker, module: ModuleOp) -> None:
            for op in check.walk(module):
                each(check, op)

        whole.__name__ = whole.__qualname__ = each.__name__
        whole.__doc__ = each.__doc__
        _MODULE_RULES.append(ModuleRuleEntry(group, whole, each, reads_stage, local_stages))
        return each

    return register


class _Plan:
    """The op rules of some groups on one op class (``stage_only``: those that read the
    stage), computed once per class: ``check_op`` looks it up by the class instead of
    testing every registered rule with ``issubclass`` (xDSL's op classes are ABCs)."""

    __slots__ = ("reads_stage", "rules")

    def __init__(self, rules: tuple[OpRule, ...]) -> None:
        self.rules = rules
        self.reads_stage = any(rule in _STAGE_RULES for rule in rules)


_PLANS: dict[tuple[type[Operation], tuple[str, ...], bool], _Plan] = {}


def _plan(op_class: type[Operation], groups: tuple[str, ...], stage_only: bool) -> _Plan:
    plan = _PLANS.get((op_class, groups, stage_only))
    if plan is None:
        plan = _PLANS[(op_class, groups, stage_only)] = _Plan(
            tuple(
                rule
                for group, classes, rule, reads in _OP_RULES
                if group in groups and issubclass(op_class, classes) and (reads or not stage_only)
            )
        )
    return plan


def rules_for(
    op_class: type[Operation], groups: tuple[str, ...], stage_only: bool = False
) -> tuple[OpRule, ...]:
    """The rules of ``groups`` on ``op_class``, in registration order; with
    ``stage_only``, just those that read the stage."""
    return _plan(op_class, groups, stage_only).rules


def reads_stage_for(op_class: type[Operation], groups: tuple[str, ...]) -> bool:
    """Whether some rule of ``groups`` on ``op_class`` reads the stage."""
    return bool(rules_for(op_class, groups, True))


def has_op_rules(groups: tuple[str, ...]) -> bool:
    """Whether any op rule belongs to one of ``groups`` (the stage rules are all module
    rules)."""
    return any(group in groups for group, _, _, _ in _OP_RULES)


#: the constants read (``constant``) by the rule ``check_op`` is running, else None
_reads: list[SSAValue] | None = None
#: a rule's findings are remembered only if the constants it read hold at most this many
#: bytes (the key keeps them; weights are never read)
_MEMO_READ_BYTES = 1 << 14
_MEMO_TABLE_LIMIT = 256


class _RuleFindings:
    """Findings on ops of one ``rules_signature`` (of one rule, or of all the rules of a
    plan together): by which operands' constant values were read (in order) and those
    values."""

    __slots__ = ("held", "tables")

    def __init__(self) -> None:
        self.tables: dict[tuple[int, ...], dict[tuple, tuple[tuple[str, str], ...]]] = {}
        self.held: dict[int, Attribute] = {}  # the value types a key names by id

    def lookup(self, op: Operation) -> tuple[tuple[str, str], ...] | None:
        for indices, table in self.tables.items():
            contents = _contents(op, indices)
            found = table.get(contents) if contents is not None else None
            if found is not None:
                return found
        return None

    def lookup_read(
        self, op: Operation
    ) -> tuple[tuple[int, ...], tuple[tuple[str, str], ...]] | None:
        """(the operands read, the findings), or None."""
        for indices, table in self.tables.items():
            contents = _contents(op, indices)
            found = table.get(contents) if contents is not None else None
            if found is not None:
                return indices, found
        return None

    def add(self, op: Operation, indices: tuple[int, ...], findings) -> None:
        contents = _contents(op, indices, self.held)
        if contents is None:
            return
        table = self.tables.setdefault(indices, {})
        if len(table) >= _MEMO_TABLE_LIMIT:
            table.clear()
        table[contents] = findings


def _contents(op: Operation, indices: tuple[int, ...], held: dict | None = None) -> tuple | None:
    """The values of the constant operands at ``indices`` (their type and bytes), None
    when they hold more than ``_MEMO_READ_BYTES``."""
    if not indices:
        return ()
    operands = op.operands
    contents = []
    size = 0
    for i in indices:
        values = cast(ConstOp, operands[i].owner).values
        values = cast(DenseIntOrFPElementsAttr, values)
        data = values.data.data
        size += len(data)
        if size > _MEMO_READ_BYTES:
            return None
        value_type = canonical(values.type)
        if held is not None:
            held[id(value_type)] = value_type
        contents.append((id(value_type), data))
    return tuple(contents)


def _read_operands(op: Operation, reads: list[SSAValue]) -> tuple[int, ...] | None:
    """The operand indices of the constants a rule read, in order; None if it read a
    value that is no operand of ``op``."""
    indices: list[int] = []
    operands = tuple(op.operands)
    for value in reads:
        index = next((i for i, o in enumerate(operands) if o is value), None)
        if index is None:
            return None
        if index not in indices:
            indices.append(index)
    return tuple(indices)


#: findings of each rule, by the rule, the target, the stage for a rule that reads it,
#: and ``rules_signature``; then by the constants it read (``_RuleFindings``)
_FINDINGS: SignatureMemo[_RuleFindings] = SignatureMemo()
#: findings of all the rules of a plan together, by the plan, the target and the stage
#: for a plan with a rule that reads it; then by ``rules_signature``, then by the
#: constants they read (``_RuleFindings``)
_PLAN_FINDINGS: dict[tuple[_Plan, Target, str | None], SignatureMemo[_RuleFindings]] = {}


def _plan_memo(plan: _Plan, check: Checker) -> SignatureMemo[_RuleFindings]:
    key = (plan, check.target, check.stage if plan.reads_stage else None)
    memo = _PLAN_FINDINGS.get(key)
    if memo is None:
        if len(_PLAN_FINDINGS) >= 1000:
            _PLAN_FINDINGS.clear()
        memo = _PLAN_FINDINGS[key] = SignatureMemo()
    return memo


def check_op(
    check: Checker, op: Operation, groups: tuple[str, ...], *, stage_only: bool = False
) -> None:
    """The op rules of ``groups`` on ``op`` (``stage_only``: those that read the stage),
    in registration order.

    Findings are remembered: for an op without regions or successors, a rule is a
    function of what ``rules_signature`` keys and of the values of the constants it
    reads (``constant`` records them). An op with the same key whose constants at those
    operands hold the same values makes the rule read the same values in the same order,
    so it gets the same findings: a table lookup instead of the rule. The same holds
    for all the rules of the op's class together, keyed by every constant any of them
    read: one lookup for an op like one seen before; when that misses (constants of
    values not seen together before, a RESCALE's multipliers), each rule's own memo."""
    plan = _plan(type(op), groups, stage_only)
    rules = plan.rules
    if not rules:
        return
    key, objects = rules_signature(op) if SPEEDUPS else (None, ())
    if key is None:
        for rule in rules:
            rule(check, op)
        return
    memo = check.plan_memos.get(plan)
    if memo is None:
        memo = check.plan_memos[plan] = _plan_memo(plan, check)
    entry = memo.get(key)
    known = entry.lookup(op) if entry is not None else None
    if known is not None:
        for rule_id, message in known:
            check.report(rule_id, op, message)
        return
    start = len(check.diagnostics)
    read: list[SSAValue] = []
    for rule in rules:
        _check_rule(check, op, rule, key, objects, read)
    indices = _read_operands(op, read)
    if indices is None:
        return
    if entry is None:
        entry = _RuleFindings()
        memo.put(key, entry, objects)
    entry.add(op, indices, tuple((d.rule, d.message) for d in check.diagnostics[start:]))


def _check_rule(
    check: Checker, op: Operation, rule: OpRule, key: MemoKey, objects, read: list[SSAValue]
) -> None:
    """One rule through its own memo; the constants it read (or a hit's, read again
    from the op) are added to ``read``."""
    global _reads
    memo_key = (rule, check.target, check.stage if rule in _STAGE_RULES else None, key)
    entry = _FINDINGS.get(memo_key)
    if entry is not None:
        found = entry.lookup_read(op)
        if found is not None:
            indices, known = found
            operands = op.operands
            read.extend(operands[i] for i in indices)
            for rule_id, message in known:
                check.report(rule_id, op, message)
            return
    start = len(check.diagnostics)
    _reads = []
    try:
        rule(check, op)
    finally:
        reads, _reads = _reads, None
    read.extend(reads)
    indices = _read_operands(op, reads)
    if indices is None:
        return
    if entry is None:
        entry = _RuleFindings()
        _FINDINGS.put(memo_key, entry, objects)
    entry.add(op, indices, tuple((d.rule, d.message) for d in check.diagnostics[start:]))


def module_rules(groups: tuple[str, ...]) -> tuple[ModuleRule, ...]:
    return tuple(entry.whole for entry in _MODULE_RULES if entry.group in groups)


def module_rule_entries(groups: tuple[str, ...]) -> tuple[ModuleRuleEntry, ...]:
    return tuple(entry for entry in _MODULE_RULES if entry.group in groups)


# --------------------------------------------------------------------------- readers

_SPEC_NAME_OF = {mlir: spec for spec, mlir in CONCRETE_ELEMENT_TYPES.items()}


def element_type(t: Attribute) -> Attribute | None:
    return t.element_type if isinstance(t, TensorType) else None


_is_tensor = class_test(TensorType)
_is_integer = class_test(IntegerType)
#: id(type) -> (the type, its ``signedness_of`` kind): types are few and shared
_SIGNEDNESS: dict[int, tuple[Attribute, int]] = {}
SIGNLESS_OR_NONE, SIGNED, UNSIGNED = 0, 1, 2


def signedness_of(t: Attribute) -> int:
    """``SIGNED``/``UNSIGNED`` for a tensor of signed/unsigned integers, else
    ``SIGNLESS_OR_NONE``: ``is_signed_or_unsigned(element_type(t))`` and ``is_unsigned``
    in one, remembered per type object (held, so its id stays its own)."""
    known = _SIGNEDNESS.get(id(t))
    if known is not None and known[0] is t:
        return known[1]
    kind = SIGNLESS_OR_NONE
    if _is_tensor(type(t)):
        element = cast(TensorType, t).element_type
        if _is_integer(type(element)):
            signedness = cast(IntegerType, element).signedness.data
            if signedness == Signedness.SIGNED:
                kind = SIGNED
            elif signedness == Signedness.UNSIGNED:
                kind = UNSIGNED
    if len(_SIGNEDNESS) >= 50_000:
        _SIGNEDNESS.clear()
    _SIGNEDNESS[id(t)] = (t, kind)
    return kind


def defined_values(op: Operation):
    """Results and region block arguments: every value an op introduces."""
    yield from op.results
    for region in op.regions:
        for block in region.blocks:
            yield from block.args


def is_signed_or_unsigned(element: Attribute | None) -> bool:
    return isinstance(element, IntegerType) and element.signedness.data != Signedness.SIGNLESS


def is_unsigned(element: Attribute | None) -> bool:
    return isinstance(element, IntegerType) and element.signedness.data == Signedness.UNSIGNED


def int_width(t: Attribute) -> int | None:
    """Bit width of a tensor's integer element type, None for anything else."""
    element = element_type(t) if isinstance(t, TensorType) else t
    return element.width.data if isinstance(element, IntegerType) else None


@cache
def spec_type_name(element: Attribute) -> str | None:
    """The spec's name for an element type (``i8_t``, ``fp32_t``); an unsigned or signed
    integer reads as the signless one of its width (its signedness is the stage rules'
    business)."""
    if isinstance(element, IntegerType):
        return _SPEC_NAME_OF.get(f"i{element.width.data}")
    return _SPEC_NAME_OF.get(type_text(element))


def shape(value: SSAValue) -> tuple[int, ...] | None:
    """A ranked tensor's dims (-1 where dynamic), None for other types."""
    t = value.type
    return tuple(t.get_shape()) if isinstance(t, TensorType) else None


def ranked_shape(value: SSAValue) -> tuple[int, ...]:
    """The dims of an operand or result the op's definition types as a ranked tensor
    (``AnyTensorType``). Rules run only on a structurally verified module, so any other
    type here is a caller's bug; it fails as indexing ``shape``'s None would."""
    dims = shape(value)
    if dims is None:
        raise TypeError(f"expected a ranked tensor, got {value.type}")
    return dims


def array_prop(op: Operation, name: str) -> tuple[int, ...] | None:
    attr = op.properties.get(name)
    if isinstance(attr, DenseArrayBase):
        return tuple(int(v) for v in attr.get_values())
    return None


def flag(op: Operation, name: str) -> bool:
    attr = op.properties.get(name)
    return bool(getattr(getattr(attr, "value", None), "data", False))


def constant(value: SSAValue) -> np.ndarray | None:
    """The values of a ``tosa.const``/``tosa.const_shape`` result, None if not constant
    (or elided in a review dump)."""
    owner = value.owner
    if not isinstance(owner, ConstOp | ConstShapeOp):
        return None
    values = owner.values
    if not isinstance(values, DenseIntOrFPElementsAttr):
        return None
    if _reads is not None:
        _reads.append(value)  # what check_op's findings memo keys this rule by
    return numpy_from_dense(values)


def is_constant(value: SSAValue) -> bool:
    return isinstance(value.owner, ConstOp | ConstShapeOp)


def constant_ints(value: SSAValue, *, unsigned: bool = False) -> np.ndarray | None:
    """Integer constant values as int64, reading the stored bits as unsigned on request
    (an 8-bit zero point of 200 is stored as the byte 0xC8 = -56 signless)."""
    array = constant(value)
    if array is None or array.dtype.kind not in "iub":
        return None
    flat = np.asarray(array).reshape(-1)
    if unsigned and flat.dtype.kind == "i":
        flat = flat.view(flat.dtype.str.replace("i", "u"))
    return flat.astype(np.int64)


def dims_text(dims: tuple[int, ...] | None) -> str:
    return "x".join("?" if d < 0 else str(d) for d in dims) if dims else "scalar"


__all__ = [
    "GROUPS",
    "SIGNLESS",
    "TYPED",
    "Checker",
    "ModuleRuleEntry",
    "array_prop",
    "check_op",
    "class_test",
    "constant",
    "constant_ints",
    "defined_values",
    "dims_text",
    "element_type",
    "flag",
    "has_op_rules",
    "int_width",
    "is_constant",
    "is_signed_or_unsigned",
    "is_unsigned",
    "module_rule",
    "module_rule_each",
    "module_rule_entries",
    "module_rules",
    "op_rule",
    "ranked_shape",
    "reads_stage_for",
    "rules_for",
    "shape",
    "signedness_of",
    "spec_type_name",
]
