"""Verifiers beyond op structure: signless int8 inside, uint8 only at IO, RESCALE's
ERROR_IF/REQUIRE lines, and every operator against the TOSA 1.0.2 tables.

``verify(module, spec="TOSA-1.0+INT", stage=None)`` runs every rule and raises
``VerificationError`` whose ``.diagnostics`` lists each violation (rule id, message, op,
FX node, source line). ``stage=None`` takes the stage the module is in: ``typed`` when a
function argument or result is ``ui8``/``ui16``, ``signless`` otherwise. The rule ids are
``ir.verify.RULES``; the same checks run as passes (``verify``, ``verify-stage``,
``verify-rescale``, ``verify-spec``) in a pipeline.

The spec string follows ExecuTorch (``TOSA-1.0+INT+int16+cf``, ``+8k`` for level 8K); it
chooses the profiles, extensions and level that are legal (``ir.verify.target``).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import FuncOp
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import VerifyException

from ir.defaults import DEFAULT_SPEC
from ir.diagnostics import failing_ops
from ir.speedups.identity import held_signatures
from ir.speedups.walk import walk_list
from ir.verify import op_rules, rescale_rules, spec_rules, stage_rules  # noqa: F401  (register rules)
from ir.verify.catalog import RULES
from ir.verify.core import GROUPS, SIGNLESS, TYPED, Checker, check_op, is_unsigned, module_rules
from ir.verify.diagnostic import Diagnostic, Rule, VerificationError
from ir.verify.target import SpecError, Target, as_target, parse_spec

STAGES = (TYPED, SIGNLESS)


def detect_stage(module: ModuleOp) -> str:
    """``typed`` when any function signature carries ``ui8``/``ui16``, else ``signless``."""
    for op in walk_list(module):
        if not isinstance(op, FuncOp):
            continue
        ftype = op.function_type
        for t in (*ftype.inputs, *ftype.outputs):
            if is_unsigned(getattr(t, "element_type", None)):
                return TYPED
    return SIGNLESS


def _structure(module: ModuleOp) -> list[Diagnostic]:
    """xDSL's own verifier; when it fails, again op by op, so every malformed op is named
    (not just the first)."""
    try:
        module.verify()
        return []
    except VerifyException as err:
        first = Diagnostic.at("structure", module, str(err).splitlines()[0])
    found = [
        Diagnostic.at("structure", op, str(err).splitlines()[0].removeprefix(f"'{op.name}' op "))
        for op, err in failing_ops(module)
    ]
    return found or [first]


def diagnose(
    module: ModuleOp,
    spec: str | Target = DEFAULT_SPEC,
    stage: str | None = None,
    groups: tuple[str, ...] = GROUPS,
) -> list[Diagnostic]:
    """Every violation, without raising. A structurally broken module reports only its
    structure errors: the other rules read operands the structure promises."""
    target = as_target(spec)
    stage = stage or detect_stage(module)
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES} or None, got {stage!r}")
    with held_signatures():
        broken = _structure(module)
        if broken:
            return broken
        checker = Checker(target, stage)
        for rule in module_rules(groups):
            rule(checker, module)
        for op in checker.walk(module):
            check_op(checker, op, groups)
    return checker.diagnostics


def verify(
    module: ModuleOp,
    spec: str | Target = DEFAULT_SPEC,
    stage: str | None = None,
    groups: tuple[str, ...] = GROUPS,
) -> None:
    """Raise ``VerificationError`` listing every violation; return None when clean."""
    target = as_target(spec)
    stage = stage or detect_stage(module)
    found = diagnose(module, target, stage, groups)
    if found:
        raise VerificationError(found, target.text, stage)


# --------------------------------------------------------------------------- passes


@dataclass(frozen=True)
class VerifyPass(ModulePass):
    """All rules: ``verify{tosa_spec="TOSA-1.0+INT+int16" stage=typed}``."""

    name = "verify"
    tosa_spec: str = DEFAULT_SPEC
    stage: str | None = None
    GROUPS = GROUPS

    def __post_init__(self) -> None:
        """Options are checked when the pass is built, so that a pipeline string with a
        bad spec or stage fails before any input is read."""
        parse_spec(self.tosa_spec)
        if self.stage not in (*STAGES, None, ""):
            raise ValueError(f"stage must be one of {', '.join(STAGES)}, got {self.stage!r}")

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        verify(op, self.tosa_spec, self.stage or None, self.GROUPS)


@dataclass(frozen=True)
class VerifyStagePass(VerifyPass):
    """Signedness where the stage allows it: signless-int8, uint8-io-only, the flags."""

    name = "verify-stage"
    GROUPS = ("stage",)


@dataclass(frozen=True)
class VerifyRescalePass(VerifyPass):
    """RESCALE's ERROR_IF and REQUIRE lines."""

    name = "verify-rescale"
    GROUPS = ("rescale",)


@dataclass(frozen=True)
class VerifySpecPass(VerifyPass):
    """Every operator against the spec tables: types per profile, shapes, levels."""

    name = "verify-spec"
    GROUPS = ("spec",)


VERIFY_PASSES: tuple[type[VerifyPass], ...] = (
    VerifyPass,
    VerifyStagePass,
    VerifyRescalePass,
    VerifySpecPass,
)

__all__ = [
    "RULES",
    "STAGES",
    "VERIFY_PASSES",
    "Diagnostic",
    "Rule",
    "SpecError",
    "Target",
    "VerificationError",
    "VerifyPass",
    "VerifyRescalePass",
    "VerifySpecPass",
    "VerifyStagePass",
    "as_target",
    "detect_stage",
    "diagnose",
    "parse_spec",
    "verify",
]
