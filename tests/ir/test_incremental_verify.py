"""Incremental verification (``ir.verify.incremental``): after each pass ``run_pipeline``
re-checks only what the pass reported, and that must be as good as verifying everything.

- a pass that breaks a rule in an op it reports (or in a reader of a constant it
  reports) is caught by the incremental check itself, with the diagnostics
  ``verify_each`` gives;
- the check is really partial: a break the pass does not report is not seen by it (the
  contract a reporting pass signs), while ``verify_each`` sees it;
- on the lit texts and on real zoo modules, both modes give the same output text and
  the same diagnostics, and after each stage ``clean_after`` agrees with a full
  ``diagnose``;
- every op rule that reads the stage says so (``reads_stage``), since a stage change
  re-checks only those on the ops no pass touched.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from xdsl.context import Context
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, IntegerAttr, ModuleOp
from xdsl.passes import ModulePass

import ir
from ir.dialects.tosa_ext import ConstOp, NegateOp, RescaleOp
from ir.lowering.canonicalize import Canonicalize
from ir.lowering.pipeline import run_pipeline
from ir.lowering.signless import LegalizeUnsignedIO
from ir.verify import VerificationError, as_target, detect_stage, diagnose
from ir.verify import core as verify_core
from ir.verify.incremental import Changes, clean_after
from tests.support.zoo_runs import capture

LIT = Path(__file__).resolve().parents[1] / "filecheck"
SPEC = "TOSA-1.0+INT"

#: a typed module with two RESCALEs (boundary in and out) and a NEGATE between them
UINT8 = """
func.func @main(%arg0: tensor<1x4xui8>) -> tensor<1x4xui8> {
  %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
  %uzp = "tosa.const"() <{values = dense<0> : tensor<1xui8>}> : () -> tensor<1xui8>
  %zp1 = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> : () -> tensor<1xi8>
  %a = tosa.rescale %arg0, %m, %s, %uzp, %zp1 {input_unsigned = true, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x4xui8>, tensor<1xi32>, tensor<1xi8>, tensor<1xui8>, tensor<1xi8>) -> tensor<1x4xi8>
  %zp2 = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> : () -> tensor<1xi8>
  %zp3 = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> : () -> tensor<1xi8>
  %n = tosa.negate %a, %zp2, %zp3 : (tensor<1x4xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x4xi8>
  %m2 = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s2 = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
  %zp4 = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> : () -> tensor<1xi8>
  %uzp2 = "tosa.const"() <{values = dense<0> : tensor<1xui8>}> : () -> tensor<1xui8>
  %b = tosa.rescale %n, %m2, %s2, %zp4, %uzp2 {input_unsigned = false, output_unsigned = true, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x4xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xui8>) -> tensor<1x4xui8>
  return %b : tensor<1x4xui8>
}
"""


def _module(text: str = UINT8) -> ModuleOp:
    return ir.parse_module(text, name="incremental.mlir")


def _first(module: ModuleOp, cls):
    return next(op for op in module.walk() if isinstance(op, cls))


def _diagnostics(err: VerificationError) -> list[tuple]:
    return [(d.rule, d.message, d.op_name, d.fx_node, d.source) for d in err.diagnostics]


def _outcome(module: ModuleOp, pipeline: str, **options) -> tuple:
    """(printed module, None) or (None, (error type, diagnostics, notes))."""
    try:
        run_pipeline(module, pipeline, spec=SPEC, **options)
    except VerificationError as err:
        return None, (type(err).__name__, _diagnostics(err), getattr(err, "__notes__", []))
    return ir.print_module(module), None


# --------------------------------------------------------------------------- test passes


@dataclass(frozen=True)
class ScaleTo16(ModulePass):
    """Breaks ``rescale-scale32`` in the first RESCALE (its multiplier stays i32) and
    reports that op, or nothing with ``report=False``."""

    name = "test-scale-to-16"
    report: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        self.apply_reporting(ctx, op)

    def apply_reporting(self, ctx: Context, op: ModuleOp) -> Changes:
        rescale = _first(op, RescaleOp)
        rescale.properties["scale32"] = IntegerAttr.from_bool(False)
        changes = Changes()
        if self.report:
            changes.modified(rescale)
        return changes


@dataclass(frozen=True)
class ShiftTo70(ModulePass):
    """Rewrites the first RESCALE's shift constant to 70 (``rescale-shift``) and reports
    only the constant: the RESCALE that reads it is not reported."""

    name = "test-shift-to-70"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        self.apply_reporting(ctx, op)

    def apply_reporting(self, ctx: Context, op: ModuleOp) -> Changes:
        shift = _first(op, RescaleOp).shift.owner
        assert isinstance(shift, ConstOp)
        values = shift.values
        assert isinstance(values, DenseIntOrFPElementsAttr)
        shift.properties["values"] = DenseIntOrFPElementsAttr(
            values.type, type(values.data)(np.array([70], dtype=np.int8).tobytes())
        )
        changes = Changes()
        changes.modified(shift)
        return changes


def _signless() -> ModuleOp:
    module = _module()
    run_pipeline(module, "legalize-unsigned-io", spec=SPEC)
    return module


@pytest.mark.parametrize(
    ("broken", "rule"), [(ScaleTo16(), "rescale-scale32"), (ShiftTo70(), "rescale-shift")]
)
def test_a_break_the_pass_reports_is_caught_incrementally(broken, rule):
    module = _signless()
    changes = broken.apply_reporting(ir.make_context(), module)
    assert not clean_after(module, as_target(SPEC), detect_stage(module), changes)
    assert rule in {d.rule for d in diagnose(module, SPEC)}
    assert not diagnose(_signless(), SPEC)  # the fault is what is caught

    runs = []
    for each in (False, True):
        module = _signless()
        with pytest.raises(VerificationError) as caught:
            run_pipeline(module, (broken,), spec=SPEC, verify_each=each)
        runs.append((_diagnostics(caught.value), caught.value.__notes__))
    assert runs[0] == runs[1]
    assert rule in {d[0] for d in runs[0][0]}
    assert any(f"after pass #1 '{broken.name}'" in note for note in runs[0][1])


def test_an_unreported_break_is_not_seen_by_the_incremental_check():
    """The check is partial: what a pass does not report, it does not look at. (So a
    pass must report everything it changes; ``verify_each`` does not rely on that.)"""
    module = _signless()
    changes = ScaleTo16(report=False).apply_reporting(ir.make_context(), module)
    assert clean_after(module, as_target(SPEC), detect_stage(module), changes)
    assert "rescale-scale32" in {d.rule for d in diagnose(module, SPEC)}
    with pytest.raises(VerificationError, match="rescale-scale32"):
        run_pipeline(_signless(), (ScaleTo16(report=False),), spec=SPEC, verify_each=True)


def test_a_pass_that_does_not_report_is_verified_in_full():
    @dataclass(frozen=True)
    class Silent(ModulePass):
        name = "test-silent"

        def apply(self, ctx: Context, op: ModuleOp) -> None:
            ScaleTo16(report=False).apply(ctx, op)

    with pytest.raises(VerificationError, match="rescale-scale32"):
        run_pipeline(_signless(), (Silent(),), spec=SPEC)


# --------------------------------------------------------------------------- agreement


def _lit_modules() -> list[tuple[str, str]]:
    texts = []
    for path in sorted(LIT.rglob("*.mlir")):
        text = path.read_text(encoding="utf-8")
        try:
            ir.parse_module(text, name=path.name)
        except ir.IRParseError:
            continue  # a text about bad input: nothing to run a pipeline on
        texts.append((str(path.relative_to(LIT)), text))
    return texts


LIT_MODULES = _lit_modules()
PIPELINES = ("legalize-unsigned-io", "canonicalize", "legalize-unsigned-io,canonicalize")


def test_the_lit_texts_are_read():
    assert len(LIT_MODULES) >= 10


@pytest.mark.parametrize(("name", "text"), LIT_MODULES, ids=[n for n, _ in LIT_MODULES])
@pytest.mark.parametrize("pipeline", PIPELINES)
def test_incremental_and_full_agree_on_the_lit_texts(name, text, pipeline):
    incremental = _outcome(ir.parse_module(text, name=name), pipeline)
    full = _outcome(ir.parse_module(text, name=name), pipeline, verify_each=True)
    assert incremental == full


def _check_each_stage(module: ModuleOp, spec: str) -> None:
    """Each pass by hand: ``clean_after`` on what it reported agrees with a full
    ``diagnose`` of the result, and both say clean."""
    target = as_target(spec)
    context = ir.make_context()
    for pass_ in (LegalizeUnsignedIO(), Canonicalize()):
        stage = detect_stage(module)
        changes = pass_.apply_reporting(context, module)
        after = detect_stage(module)
        full = diagnose(module, target, after)
        assert clean_after(module, target, after, changes, stage_changed=after != stage) == (
            not full
        )
        assert not full, full


ZOO = {
    "u8": ("cnn", "int-uint8-io"),  # boundary RESCALEs: a stage change
    "int": ("inverted_residual", "int"),  # per-channel RESCALEs, merged constants
    "int16": ("mlp", "int16"),
    "cf": ("cond", "int-cf"),  # tosa.cond_if: regions
    "fp": ("cnn", "fp"),  # nothing to legalize
}


@pytest.mark.parametrize("base", ZOO)
def test_incremental_and_full_agree_on_zoo_modules(base):
    case, key = ZOO[base]
    from tests.support.zoo import CONFIGS

    spec = CONFIGS[key].spec
    for partition in capture(case, key).partitions:
        _check_each_stage(partition.typed.clone(), spec)
        outputs = []
        for each in (False, True):
            module = partition.typed.clone()
            run_pipeline(module, spec=spec, verify_each=each)
            outputs.append(ir.print_module(module))
        assert outputs[0] == outputs[1]


def test_merged_constants_report_the_duplicates_not_their_readers():
    """Re-pointing a reader to an equal constant is invisible to its checks, so
    ``canonicalize`` reports the erased duplicates (their neighbours and blocks are
    re-checked) and not the readers: the NEGATE's zero points merge into the first
    -128, and the NEGATE itself is not re-checked for it."""
    module = _signless()
    negate = _first(module, NegateOp)
    before = [op.owner for op in negate.operands[1:]]
    changes = Canonicalize().apply_reporting(ir.make_context(), module)
    after = [op.owner for op in negate.operands[1:]]
    assert after != before and after[0] is after[1]  # both now the first -128
    assert negate not in changes.ops and negate not in changes.around_erased
    assert changes.blocks  # the erasures' block: neighbours and the last op re-checked
    full = diagnose(module, as_target(SPEC), detect_stage(module))
    assert clean_after(module, as_target(SPEC), detect_stage(module), changes) == (not full)


# --------------------------------------------------------------------------- stage rules


def test_every_op_rule_reading_the_stage_says_so():
    for _, _, rule, reads_stage in verify_core._OP_RULES:
        reads = ".stage" in inspect.getsource(rule)
        assert reads == reads_stage, f"{rule.__name__}: reads the stage = {reads}"
