"""Where signedness may appear: the seed of the project.

TOSA 1.0 tensors are signless. A graph with uint8 IO keeps its unsigned meaning only in
RESCALE's ``input_unsigned``/``output_unsigned`` flags at the boundary. The typed stage
(what ``fx_to_ir`` produces) still shows ``ui8``/``ui16`` on the function signature, so a
reviewer sees it; the signless stage does not.

- ``signless-int8``: ``si*`` never; ``ui*`` never in the signless stage;
- ``uint8-io-only``: in the typed stage an unsigned type sits only on a function argument,
  a function result's RESCALE, or the zero-point constant of a boundary RESCALE;
- ``unsigned-input-flag`` / ``unsigned-output-flag``: the boundary RESCALEs carry the flag;
- ``unsigned-flag-placement`` (both stages): a flag only on a boundary RESCALE, and never
  inside a cond/while region.
"""

from __future__ import annotations

from typing import cast

from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import BlockArgument, Operation, SSAValue

from ir.dialects.syntax import type_text
from ir.dialects.tosa_ext import ConstOp, IfOp, RescaleOp, WhileOp
from ir.verify.core import (
    SIGNED,
    SIGNLESS,
    TYPED,
    Checker,
    class_test,
    element_type,
    flag,
    int_width,
    is_unsigned,
    module_rule,
    module_rule_each,
    signedness_of,
)

_BOUNDARY_WIDTHS = (8, 16)
_is_func = class_test(FuncOp)
_is_rescale = class_test(RescaleOp)
_ZP_OPERAND = {"input_unsigned": 3, "output_unsigned": 4}


def _in_control_flow(op: Operation) -> bool:
    parent = op.parent_op()
    while parent is not None:
        if isinstance(parent, IfOp | WhileOp):
            return True
        parent = parent.parent_op()
    return False


def _function_argument(value: SSAValue) -> bool:
    return isinstance(value, BlockArgument) and isinstance(value.owner.parent_op(), FuncOp)


def _describe_value(value: SSAValue) -> str:
    if isinstance(value, BlockArgument):
        return f"argument #{value.index} ({type_text(value.type)})"
    return f"result ({type_text(value.type)})"


@module_rule_each("stage", reads_stage=True, local_stages=(SIGNLESS,))
def signedness(check: Checker, op: Operation) -> None:
    """Signed never; unsigned only in the typed stage, at the boundary. In the signless
    stage this reads only the op's values' types (every unsigned one is reported)."""
    for value in op.results:
        if signedness_of(value.type):
            _signed_or_unsigned(check, op, value)
    for region in op.regions:
        for block in region.blocks:
            for value in block.args:
                if signedness_of(value.type):
                    _signed_or_unsigned(check, op, value)


def _signed_or_unsigned(check: Checker, op: Operation, value: SSAValue) -> None:
    if signedness_of(value.type) == SIGNED:
        check.report(
            "signless-int8",
            op,
            f"{_describe_value(value)} is signed; TOSA integers are signless",
        )
    elif check.stage != TYPED:
        check.report(
            "signless-int8",
            op,
            f"{_describe_value(value)} is unsigned in the signless stage",
        )
    else:
        _typed_unsigned(check, op, value)


def _typed_unsigned(check: Checker, op: Operation, value: SSAValue) -> None:
    """An unsigned value in the typed stage: legal only at the boundary."""
    width = int_width(value.type)
    if width not in _BOUNDARY_WIDTHS:
        check.report(
            "uint8-io-only", op, f"{_describe_value(value)}: only ui8/ui16 may cross the boundary"
        )
        return
    if isinstance(value, BlockArgument):
        if not isinstance(op, FuncOp):
            check.report(
                "uint8-io-only", op, f"unsigned block {_describe_value(value)} inside a region"
            )
            return
        _unsigned_argument(check, value)
        return
    if isinstance(op, ConstOp):
        _unsigned_constant(check, op)
        return
    if not (isinstance(op, RescaleOp) and flag(op, "output_unsigned")):
        check.report(
            "uint8-io-only", op, f"produces unsigned {type_text(value.type)} inside the graph"
        )
        return
    for use in value.uses:
        if not isinstance(use.operation, ReturnOp):
            check.report(
                "uint8-io-only",
                use.operation,
                f"reads the unsigned output {type_text(value.type)} of a boundary RESCALE; only "
                "the return may",
            )


def _unsigned_argument(check: Checker, arg: BlockArgument) -> None:
    for use in arg.uses:
        user = use.operation
        if isinstance(user, RescaleOp) and use.index == 0 and flag(user, "input_unsigned"):
            continue
        what = (
            "a RESCALE without input_unsigned = true"
            if isinstance(user, RescaleOp)
            else "not a RESCALE"
        )
        check.report(
            "unsigned-input-flag",
            user,
            f"reads unsigned function {_describe_value(arg)} but is {what}",
        )


def _unsigned_constant(check: Checker, op: ConstOp) -> None:
    for use in op.output.uses:
        user = use.operation
        if isinstance(user, RescaleOp) and any(
            use.index == index and flag(user, name) for name, index in _ZP_OPERAND.items()
        ):
            continue
        check.report(
            "uint8-io-only",
            user,
            f"uses the unsigned constant {type_text(op.output.type)}, which may only be a boundary "
            "RESCALE's zero point",
        )


@module_rule("stage")
def unsigned_results(check: Checker, module: ModuleOp) -> None:
    """A ui8/ui16 function result comes from an ``output_unsigned`` RESCALE."""
    if check.stage != TYPED:
        return
    for func in check.walk(module):
        if not _is_func(type(func)):
            continue
        func = cast(FuncOp, func)
        block = func.body.blocks.last
        if block is None:
            continue
        ret = block.last_op
        if not isinstance(ret, ReturnOp):
            continue
        for index, value in enumerate(ret.operands):
            if not is_unsigned(element_type(value.type)):
                continue
            producer = value.owner
            if isinstance(producer, RescaleOp) and flag(producer, "output_unsigned"):
                continue
            where = producer if isinstance(producer, Operation) else ret
            check.report(
                "unsigned-output-flag",
                where,
                f"function result #{index} ({type_text(value.type)}) must come from a RESCALE with "
                "output_unsigned = true",
            )


@module_rule("stage")
def flag_placement(check: Checker, module: ModuleOp) -> None:
    for op in check.walk(module):
        if not _is_rescale(type(op)):
            continue
        op = cast(RescaleOp, op)
        flags = [name for name in _ZP_OPERAND if flag(op, name)]
        if not flags:
            continue
        if _in_control_flow(op):
            check.report(
                "unsigned-flag-placement", op, f"{' and '.join(flags)} inside a cond/while region"
            )
            continue
        if "input_unsigned" in flags and not _function_argument(op.input):
            check.report(
                "unsigned-flag-placement",
                op,
                "input_unsigned = true but the input is not a function argument",
            )
        if "output_unsigned" in flags:
            inner = [u.operation for u in op.output.uses if not isinstance(u.operation, ReturnOp)]
            if inner or not op.output.uses:
                check.report(
                    "unsigned-flag-placement",
                    op,
                    "output_unsigned = true but the result "
                    + (f"also feeds '{inner[0].name}'" if inner else "is unused")
                    + "; only a RESCALE feeding only the return may write unsigned",
                )


__all__: list[str] = []
