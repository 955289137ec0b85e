"""Fault injection: break a real zoo module in one way, and the verifier names that rule,
that op, its FX node and the model line it came from; tosa-opt is the oracle we must cover.

Each fault takes a clone of a module ``tests.zoo_runs.capture`` already exported (shared
with ``test_zoo``: no model is exported twice in a session), mutates it in memory (a
type, a property, a constant operand) or only verifies it under a narrower spec, and
expects one rule id of ``ir.verify.RULES``. The same module without the fault verifies
clean, so the fault is what is caught.

Parity: ``tosa-opt --tosa-validate=strict-op-spec-alignment`` runs on every faulted
module with the target the fault's spec string names (``tosa_opt_args``), and the
unfaulted module is accepted under that same target. Every fault tosa-opt rejects, we
reject too; the faults it accepts are exactly ``TOSA_OPT_MISSES``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects.builtin import (
    BoolAttr,
    DenseArrayBase,
    IntegerType,
    ModuleOp,
    Signedness,
    TensorType,
    i64,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Attribute, BlockArgument, Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

import ir
import tests.support.zoo
from ir.builders import const, const_shape, numpy_from_dense
from ir.diagnostics import fx_node_of, source_of
from ir.dialects.spec_check import pair_with_spec
from ir.dialects.tosa_ext import (
    ConstOp,
    IdentityOp,
    IfOp,
    ReshapeOp,
    RoundingMode,
    RoundingModeAttr,
    TosaOp,
    WhileOp,
)
from ir.mlir_tools import STRICT_VALIDATION, run_tosa_opt
from ir.spec import operator_spec
from ir.verify import RULES, Diagnostic, diagnose, parse_spec
from tests.support.zoo import CASES, CONFIGS
from tests.support.zoo_runs import capture

# --------------------------------------------------------------------------- base modules
# name -> (zoo case, config): five captures, each exported once per session.

BASES = {
    "u8": ("cnn", "int-uint8-io"),  # boundary RESCALEs with the unsigned flags
    "int": ("inverted_residual", "int"),  # conv2d, depthwise, ADD, per-channel RESCALEs
    "int16": ("mlp", "int16"),  # i16 activations, i48 accumulators, reshapes
    "cf": ("cond", "int-cf"),  # tosa.cond_if with RESCALEs in its branches
    "fp": ("cnn", "fp"),
}


def base_module(base: str, stage: str) -> ModuleOp:
    """The zoo's module (not a copy: never mutate it)."""
    (partition,) = capture(*BASES[base]).partitions
    return getattr(partition, stage)


def base_spec(base: str) -> str:
    return CONFIGS[BASES[base][1]].spec


# --------------------------------------------------------------------------- finding ops


def _ops(module: ModuleOp, name: str) -> list[Operation]:
    return [op for op in module.walk() if op.name == name]


def _only(module: ModuleOp, name: str) -> Operation:
    (op,) = _ops(module, name)
    return op


def _users(value: SSAValue) -> list[Operation]:
    return [use.operation for use in value.uses]


def _in_region(op: Operation) -> bool:
    parent = op.parent_op()
    while parent is not None:
        if isinstance(parent, IfOp | WhileOp):
            return True
        parent = parent.parent_op()
    return False


def _width(value: SSAValue) -> int | None:
    element = getattr(value.type, "element_type", None)
    return element.width.data if isinstance(element, IntegerType) else None


def _input_rescale(module: ModuleOp) -> Operation:
    """The boundary RESCALE reading the function argument."""
    (op,) = [
        op
        for op in _ops(module, "tosa.rescale")
        if isinstance(op.operands[0], BlockArgument)
        and isinstance(op.operands[0].owner.parent_op(), FuncOp)
    ]
    return op


def _output_rescale(module: ModuleOp) -> Operation:
    """The boundary RESCALE feeding the return."""
    (op,) = [
        op
        for op in _ops(module, "tosa.rescale")
        if any(isinstance(u, ReturnOp) for u in _users(op.results[0]))
    ]
    return op


def _after_add(module: ModuleOp) -> Operation:
    """The RESCALE of the ADD's i32 sum to i8 (its input zero point is i32, single channel)."""
    (op,) = _users(_only(module, "tosa.add").results[0])
    return op


# --------------------------------------------------------------------------- mutations


def _set_flag(op: Operation, name: str, on: bool) -> None:
    op.properties[name] = BoolAttr.from_bool(on)


def _fresh_const(
    user: Operation, index: int, values: np.ndarray, element: Attribute | None = None
) -> ConstOp:
    """Give ``user`` a new constant operand (constants may be shared: never edit one in
    place), of the old operand's type unless ``element`` says otherwise."""
    old = user.operands[index].type
    element = element or old.element_type
    new = const(np.broadcast_to(values, tuple(old.get_shape())).copy(), element)
    Rewriter.insert_op(new, InsertPoint.before(user))
    user.operands[index] = new.results[0]
    return new


def _retype(values: list[SSAValue], element: Attribute) -> None:
    """New element type for ``values``; a constant operand of a producer or user that
    shares a spec type variable with one of them (a zero point) gets a fresh constant of
    that type too, or the structure verifier would stop before the rule under test."""
    retyped = {
        Rewriter.replace_value_with_new_type(v, TensorType(element, v.type.get_shape()))
        for v in values
    }
    touched = {v.owner for v in retyped if isinstance(v.owner, Operation)}
    touched |= {use.operation for v in retyped for use in v.uses}
    for op in touched:
        spec = operator_spec(op.spec_name()) if isinstance(op, TosaOp) else None
        if spec is None:
            continue
        inputs = pair_with_spec(
            [a for a in spec["arguments"] if a["category"] == "input"], op.operands
        )
        outputs = pair_with_spec(
            [a for a in spec["arguments"] if a["category"] == "output"], op.results
        )
        shared = {arg["element_type"] for arg, value in [*inputs, *outputs] if value in retyped}
        for index, (arg, value) in enumerate(inputs):
            if (
                arg["element_type"] in shared
                and value not in retyped
                and isinstance(value.owner, ConstOp)
            ):
                _fresh_const(op, index, numpy_from_dense(value.owner.values), element)


# --------------------------------------------------------------------------- the faults
# Each takes a clone of the base module and returns the op the fault is in (the op the
# diagnostic must name).


def ui8_inside(module: ModuleOp) -> Operation:
    """max_pool2d's input and output retyped ui8 (and the zero points beside them)."""
    pool = _ops(module, "tosa.max_pool2d")[0]
    _retype([pool.operands[0], pool.results[0]], IntegerType(8, Signedness.UNSIGNED))
    return pool


def missing_input_flag(module: ModuleOp) -> Operation:
    op = _input_rescale(module)
    _set_flag(op, "input_unsigned", False)
    return op


def missing_output_flag(module: ModuleOp) -> Operation:
    op = _output_rescale(module)
    _set_flag(op, "output_unsigned", False)
    return op


def flag_inside_cond(module: ModuleOp) -> Operation:
    """input_unsigned on an i8 -> i8 RESCALE inside a branch: legal for RESCALE, not at
    that place (nothing inside a cond reads the graph's unsigned input)."""
    op = next(
        op
        for op in _ops(module, "tosa.rescale")
        if _in_region(op) and _width(op.operands[0]) == _width(op.results[0]) == 8
    )
    _set_flag(op, "input_unsigned", True)
    return op


def flag_on_inner_rescale(module: ModuleOp) -> Operation:
    """input_unsigned on the i8 -> i32 RESCALE of the residual branch's transpose."""
    (op,) = [
        v.owner for v in _only(module, "tosa.add").operands if v.owner is not _input_rescale(module)
    ]
    assert op.name == "tosa.rescale" and not isinstance(op.operands[0], BlockArgument), op
    _set_flag(op, "input_unsigned", True)
    return op


def both_flags(module: ModuleOp) -> Operation:
    op = _input_rescale(module)
    _set_flag(op, "output_unsigned", True)
    return op


def unsigned_i32_output(module: ModuleOp) -> Operation:
    """output_unsigned on the i8 -> i32 RESCALE of the residual input (there is no u32)."""
    op = _input_rescale(module)
    assert _width(op.results[0]) == 32, op
    _set_flag(op, "output_unsigned", True)
    return op


def zero_point_on_i32(module: ModuleOp) -> Operation:
    op = _after_add(module)
    _fresh_const(op, 3, np.array(7))
    return op


def shift_out_of_range(module: ModuleOp) -> Operation:
    op = _after_add(module)
    _fresh_const(op, 2, np.array(70))
    return op


def negative_multiplier(module: ModuleOp) -> Operation:
    op = _after_add(module)
    _fresh_const(op, 1, np.array(-5))
    return op


def scale32_flipped(module: ModuleOp) -> Operation:
    """scale32 = false while the multiplier stays i32."""
    op = _after_add(module)
    _set_flag(op, "scale32", False)
    return op


def double_round(module: ModuleOp) -> Operation:
    op = _after_add(module)
    op.properties["rounding_mode"] = RoundingModeAttr(RoundingMode.DOUBLE_ROUND)
    return op


def per_channel_cleared(module: ModuleOp) -> Operation:
    """per_channel = false on a RESCALE with one multiplier per channel."""
    op = next(op for op in _ops(module, "tosa.rescale") if op.operands[1].type.get_shape()[0] > 1)
    _set_flag(op, "per_channel", False)
    return op


def non_constant_zero_point(module: ModuleOp) -> Operation:
    """The input zero point read through a tosa.identity: a value, not a constant."""
    op = _after_add(module)
    zp = op.operands[3]
    identity = IdentityOp.create(operands=[zp], result_types=[zp.type])
    Rewriter.insert_op(identity, InsertPoint.before(op))
    op.operands[3] = identity.results[0]
    return op


def int8_add(module: ModuleOp) -> Operation:
    """ADD's operands and result i8 (their RESCALEs then write/read i8): no profile adds i8."""
    add = _only(module, "tosa.add")
    _retype([*add.operands, add.results[0]], IntegerType(8))
    return add


def conv_pad(module: ModuleOp) -> Operation:
    """pad 1 on a 1x1 conv2d whose output stays 16x16 (pad 1 gives 18x18)."""
    conv = _ops(module, "tosa.conv2d")[0]
    assert tuple(conv.properties["pad"].get_values()) == (0, 0, 0, 0)
    assert conv.operands[1].type.get_shape()[1:3] == (1, 1)
    conv.properties["pad"] = DenseArrayBase.from_list(i64, [1, 1, 1, 1])
    return conv


def conv_zero_point(module: ModuleOp) -> Operation:
    """A non-zero input zero point on an int16 conv2d (only 8-bit inputs have one)."""
    conv = _ops(module, "tosa.conv2d")[0]
    _fresh_const(conv, 3, np.array(3))
    return conv


def rank_7_reshape(module: ModuleOp) -> Operation:
    """The first reshape writes rank 7 (1s inserted), a new reshape restores its shape."""
    reshape = _ops(module, "tosa.reshape")[0]
    old = reshape.results[0]
    dims = tuple(old.type.get_shape())
    wide = (*dims[:-1], *(1,) * (7 - len(dims)), dims[-1])
    users = _users(old)
    new_shape = const_shape(wide)
    Rewriter.insert_op(new_shape, InsertPoint.before(reshape))
    reshape.operands[1] = new_shape.results[0]
    widened = Rewriter.replace_value_with_new_type(old, TensorType(old.type.element_type, wide))
    back_shape = const_shape(dims)
    back = ReshapeOp.create(
        operands=[widened, back_shape.results[0]],
        result_types=[TensorType(old.type.element_type, dims)],
    )
    Rewriter.insert_op([back_shape, back], InsertPoint.after(reshape))
    for user in users:
        for index, operand in enumerate(user.operands):
            if operand is widened:
                user.operands[index] = back.results[0]
    return reshape


def first(name: str) -> Callable[[ModuleOp], Operation]:
    """No mutation: the fault is the spec; the op to be named is the first ``name``."""

    def subject(module: ModuleOp) -> Operation:
        return _ops(module, name)[0]

    return subject


@dataclass(frozen=True)
class Fault:
    base: str  # key of BASES
    stage: str  # "typed" or "signless": which of the partition's modules to fault
    inject: Callable[[ModuleOp], Operation]
    rule: str
    spec: str | None = None  # None: the base config's spec
    mutates: bool = True  # False: the module is fine, the spec is the fault
    #: the faulted op has a model source line (a boundary RESCALE comes from a quantize
    #: node, which has no stack trace; it still has its FX node name)
    sourced: bool = True

    @property
    def verify_spec(self) -> str:
        return self.spec or base_spec(self.base)

    @property
    def clean_spec(self) -> str:
        """The spec the unfaulted module verifies clean under."""
        return self.verify_spec if self.mutates else base_spec(self.base)


FAULTS: dict[str, Fault] = {
    "ui8-inside-typed": Fault("u8", "typed", ui8_inside, "uint8-io-only"),
    "ui8-inside-signless": Fault("u8", "signless", ui8_inside, "signless-int8"),
    "missing-input-flag": Fault(
        "u8", "typed", missing_input_flag, "unsigned-input-flag", sourced=False
    ),
    "missing-output-flag": Fault(
        "u8", "typed", missing_output_flag, "unsigned-output-flag", sourced=False
    ),
    "flag-inside-cond": Fault("cf", "signless", flag_inside_cond, "unsigned-flag-placement"),
    "flag-on-inner-rescale": Fault(
        "int", "signless", flag_on_inner_rescale, "unsigned-flag-placement"
    ),
    "both-flags": Fault("u8", "signless", both_flags, "rescale-unsigned", sourced=False),
    "unsigned-i32-output": Fault("int", "signless", unsigned_i32_output, "rescale-unsigned"),
    "zero-point-on-i32": Fault("int", "signless", zero_point_on_i32, "rescale-zero-point"),
    "shift-70": Fault("int", "signless", shift_out_of_range, "rescale-shift"),
    "negative-multiplier": Fault("int", "signless", negative_multiplier, "rescale-multiplier"),
    "scale32-flipped": Fault("int", "signless", scale32_flipped, "rescale-scale32"),
    "double-round": Fault("int", "signless", double_round, "rescale-rounding"),
    "per-channel-cleared": Fault("int", "signless", per_channel_cleared, "rescale-per-channel"),
    "non-constant-zero-point": Fault(
        "int", "signless", non_constant_zero_point, "compile-time-constant"
    ),
    "int8-add": Fault("int", "signless", int8_add, "type-support"),
    "conv-output-shape": Fault("int", "signless", conv_pad, "output-shape"),
    "int16-conv-zero-point": Fault("int16", "signless", conv_zero_point, "zero-point"),
    "rank-7-at-8k": Fault(
        "int16", "signless", rank_7_reshape, "level", spec="TOSA-1.0+INT+int16+8k"
    ),
    "fp-under-int": Fault(
        "fp", "signless", first("tosa.conv2d"), "profile", "TOSA-1.0+INT", mutates=False
    ),
    "cond-without-cf": Fault(
        "cf", "signless", first("tosa.cond_if"), "profile", "TOSA-1.0+INT", mutates=False
    ),
    "int16-without-int16": Fault(
        "int16", "signless", first("tosa.conv2d"), "profile", "TOSA-1.0+INT", mutates=False
    ),
}

# Faults tosa-opt accepts and we reject (strict validation, the fault's target; a typed
# module goes through tosa-opt's own --tosa-convert-integer-type-to-signless first):
TOSA_OPT_MISSES = {
    # the signless conversion erases ui8, and with it every typed-stage contract:
    "ui8-inside-typed",  # an inner ui8 value becomes i8
    "missing-input-flag",  # a ui8 argument read as signed i8
    "missing-output-flag",  # a ui8 result written as signed i8
    # the uint8-IO contract is ours, not the spec's: a flag is legal on any 8-bit RESCALE
    "flag-inside-cond",
    # apply_scale REQUIREs: MLIR checks neither range of a constant shift/multiplier
    "shift-70",
    "negative-multiplier",
}


# --------------------------------------------------------------------------- injection


@dataclass
class Injected:
    module: ModuleOp
    op: Operation
    diagnostics: list[Diagnostic]


@cache
def injected(fault_id: str) -> Injected:
    fault = FAULTS[fault_id]
    module = base_module(fault.base, fault.stage).clone()
    op = fault.inject(module)
    return Injected(module, op, diagnose(module, fault.verify_spec))


def _listing(diagnostics) -> str:
    return "\n".join(map(str, diagnostics)) or "(no diagnostics)"


@cache
def _model_lines(case_name: str) -> range:
    """The lines of tests/support/zoo.py defining the case's model class."""
    lines, start = inspect.getsourcelines(type(CASES[case_name].factory()))
    return range(start, start + len(lines))


# --------------------------------------------------------------------------- tests


#: the rule ids the issue asks a fault for
ISSUE_RULES = {
    "uint8-io-only", "signless-int8", "unsigned-input-flag", "unsigned-flag-placement", "rescale-unsigned",
    "rescale-zero-point", "rescale-shift", "rescale-multiplier", "rescale-scale32", "type-support",
    "output-shape", "profile", "level", "rescale-rounding", "compile-time-constant",
}  # fmt: skip


def test_the_table_covers_the_issue():
    rules = {f.rule for f in FAULTS.values()}
    assert len(FAULTS) >= 14 and ISSUE_RULES <= rules <= set(RULES), ISSUE_RULES - rules
    assert set(FAULTS) >= TOSA_OPT_MISSES


@pytest.mark.parametrize("base", sorted(BASES))
def test_unfaulted_bases_verify_clean(base):
    for stage in ("typed", "signless"):
        found = diagnose(base_module(base, stage), base_spec(base))
        assert not found, f"{base} {stage}:\n{_listing(found)}"


@pytest.mark.parametrize("fault_id", sorted(FAULTS))
def test_fault_is_caught_at_its_op(fault_id):
    fault = FAULTS[fault_id]
    clean = diagnose(base_module(fault.base, fault.stage), fault.clean_spec)
    assert not clean, (
        f"unfaulted {fault.base} {fault.stage} under {fault.clean_spec}:\n{_listing(clean)}"
    )
    got = injected(fault_id)
    listing = _listing(got.diagnostics)
    assert fault.rule in {d.rule for d in got.diagnostics}, (
        f"{fault_id}: no [{fault.rule}] in:\n{listing}"
    )
    at_op = [d for d in got.diagnostics if d.rule == fault.rule and d.op is got.op]
    assert at_op, f"{fault_id}: [{fault.rule}] names other ops than {got.op.name}:\n{listing}"
    diagnostic = at_op[0]
    assert diagnostic.op_name == got.op.name
    assert diagnostic.fx_node is not None and diagnostic.fx_node == fx_node_of(got.op.location), (
        str(diagnostic)
    )
    assert f"(FX node '{diagnostic.fx_node}')" in str(diagnostic)
    if not fault.sourced:
        assert diagnostic.source is None, str(diagnostic)
        return
    assert diagnostic.source == source_of(got.op.location) is not None, str(diagnostic)
    file, line = diagnostic.source
    assert Path(file).resolve() == Path(tests.support.zoo.__file__).resolve(), str(diagnostic)
    assert line in _model_lines(BASES[fault.base][0]), f"{diagnostic}: not in the model's class"
    assert str(diagnostic).startswith(f"{file}:{line}: error: [{fault.rule}] '{got.op.name}'")


# --------------------------------------------------------------------------- tosa-opt parity


def tosa_opt_args(spec: str, stage: str) -> tuple[str, ...]:
    """tosa-opt's strict validation under the target the spec string names: its profiles,
    extensions and level. (``STRICT_VALIDATION``'s target is pro_int,pro_fp at tosa-opt's
    default level 8k with no extension: it rejects every int16 and cond module whatever
    the fault, "requires any of [int16]" on the first i48 constant, "requires
    [controlflow]" on cond_if. So the int16 and cf bases are checked under +int16 and
    +controlflow, and "int16-without-int16"/"cond-without-cf" drop the extension from both
    tools' targets: both reject, for that reason.)

    A typed module first goes through tosa-opt's ``--tosa-convert-integer-type-to-signless``:
    the validation rejects any ui8 tensor, so the typed stage's legal ui8 zero points would
    hide the fault; MLIR's own conversion is the oracle's reading of uint8 IO."""
    target = parse_spec(spec)
    profiles = ",".join(sorted(p.lower().replace("-", "_") for p in target.profiles))
    options = [f"profiles={profiles}", f"level={target.level.lower()}"]
    if target.extensions:
        options.append(
            "extensions="
            + ",".join(sorted(e.removeprefix("EXT-").lower() for e in target.extensions))
        )
    attach, validate = STRICT_VALIDATION
    assert attach.startswith("--tosa-attach-target="), STRICT_VALIDATION
    signless = ("--tosa-convert-integer-type-to-signless",) if stage == "typed" else ()
    return (*signless, f"--tosa-attach-target={' '.join(options)}", validate)


@cache
def _tosa_opt_error(text: str, spec: str, stage: str) -> str | None:
    """tosa-opt's first error line, None when it accepts."""
    proc = run_tosa_opt(text, *tosa_opt_args(spec, stage), check=False)
    if proc.returncode == 0:
        return None
    return next(
        (line for line in proc.stderr.splitlines() if "error" in line),
        proc.stderr.strip() or "rejected",
    )


@pytest.fixture(scope="module")
def tosa_opt_verdicts() -> dict[str, str | None]:
    """fault id -> tosa-opt's error (None: accepted), one tosa-opt call per fault."""
    return {
        fault_id: _tosa_opt_error(
            ir.print_module(injected(fault_id).module), fault.verify_spec, fault.stage
        )
        for fault_id, fault in FAULTS.items()
    }


@pytest.mark.parametrize("fault_id", sorted(FAULTS))
def test_we_reject_what_tosa_opt_rejects(fault_id, tosa_opt_verdicts):
    fault = FAULTS[fault_id]
    baseline = _tosa_opt_error(
        ir.print_module(base_module(fault.base, fault.stage)), fault.clean_spec, fault.stage
    )
    assert baseline is None, (
        f"tosa-opt rejects the unfaulted {fault.base} {fault.stage}: {baseline}"
    )
    if tosa_opt_verdicts[fault_id] is not None:
        assert injected(fault_id).diagnostics, (
            f"{fault_id}: tosa-opt rejects ({tosa_opt_verdicts[fault_id]}), we do not"
        )


def test_tosa_opt_misses_exactly(tosa_opt_verdicts):
    accepted = {fault_id for fault_id, error in tosa_opt_verdicts.items() if error is None}
    assert accepted == TOSA_OPT_MISSES, {
        fault_id: tosa_opt_verdicts[fault_id] for fault_id in accepted ^ TOSA_OPT_MISSES
    }
