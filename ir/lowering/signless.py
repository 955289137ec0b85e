"""``legalize-unsigned-io``: the typed stage's ``ui8``/``ui16`` IO made signless.

TOSA 1.0 has no unsigned tensor types; unsigned meaning lives only in RESCALE's
``input_unsigned``/``output_unsigned`` flags at the graph boundary. This pass is that
move as an IR transformation, checked rather than blind (MLIR's
``--tosa-convert-integer-type-to-signless`` just drops the signedness):

1. every unsigned value must sit at the boundary: a function argument read only as the
   input of RESCALEs with ``input_unsigned``, a RESCALE result with ``output_unsigned``
   read only by the return, or the zero-point constant of such a RESCALE; anything else
   is refused with the op and its location;
2. a RESCALE from i32/i48 straight to an unsigned type, which the spec does not allow,
   becomes two (wide -> i8 with the zero point moved by -128, then i8 -> u8 at unit
   scale), exactly as ExecuTorch's RESCALE visitor writes it;
3. every unsigned type becomes the signless type of the same width; constants keep
   their bytes (an unsigned zero point 200 reads as -56 afterwards).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    Signedness,
    TensorType,
)
from xdsl.dialects.func import FuncOp
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter

from ir.builders import const, numpy_from_dense
from ir.dialects.tosa_ext import ConstOp, RescaleOp, RoundingModeAttr
from ir.tensor_names import set_tensor_names, tensor_names
from ir.verify import DEFAULT_SPEC, VerificationError, diagnose

#: offset between an unsigned 8-bit value and the signed one with the same meaning
_UNSIGNED_8BIT_OFFSET = 128


class UnsignedIOError(VerificationError):
    """A typed module whose unsigned values are not confined to the boundary; its
    ``diagnostics`` are ``ir.verify``'s stage rules."""


def is_unsigned(t: Attribute) -> bool:
    element = t.element_type if isinstance(t, TensorType) else t
    return isinstance(element, IntegerType) and element.signedness.data == Signedness.UNSIGNED


def _signless(t: Attribute) -> Attribute:
    if isinstance(t, TensorType) and is_unsigned(t):
        return TensorType(IntegerType(t.element_type.width.data), t.get_shape())
    if isinstance(t, IntegerType) and is_unsigned(t):
        return IntegerType(t.width.data)
    return t


def _where(op: Operation) -> str:
    loc = op.location
    name = getattr(getattr(loc, "desc", None), "data", None)
    return f"'{op.name}'" + (f" (FX node '{name}')" if name else "")


def _flag(op: RescaleOp, name: str) -> bool:
    return bool(op.properties[name].value.data)


# --------------------------------------------------------------------------- 1. check


def check_unsigned_at_boundary(module: ModuleOp) -> None:
    """Raise ``UnsignedIOError`` unless every unsigned value is a boundary value: the
    typed stage's rules of ``ir.verify`` (uint8-io-only, the unsigned flags), all of them
    listed."""
    found = diagnose(module, DEFAULT_SPEC, "typed", groups=("stage",))
    if found:
        raise UnsignedIOError(found, "the uint8 IO contract", "typed")


# --------------------------------------------------------------------------- 2. split


def _needs_split(op: RescaleOp) -> bool:
    element = op.input.type.element_type
    return _flag(op, "output_unsigned") and not (isinstance(element, IntegerType) and element.width.data in (8, 16))


def _scalar_of(value: SSAValue, what: str, op: RescaleOp) -> int:
    owner = value.owner
    if not isinstance(owner, ConstOp) or not isinstance(owner.values, DenseIntOrFPElementsAttr):
        raise UnsignedIOError(f"{_where(op)}: {what} is not a constant")
    return int(numpy_from_dense(owner.values).reshape(-1)[0])


def split_wide_to_unsigned(op: RescaleOp) -> None:
    """i32/i48 -> u8 becomes i32/i48 -> i8 (zero point - 128) and i8 -> u8 (unit scale)."""
    out_type = op.output.type
    if out_type.element_type.width.data != 8:
        raise UnsignedIOError(f"{_where(op)}: a wide-to-unsigned RESCALE must produce 8 bits, got {out_type}")
    block = op.parent_block()
    name = tensor_names(op)[0] or "rescale"
    signed_name = f"{name}_signed"
    i8 = IntegerType(8)
    output_zp = _scalar_of(op.output_zp, "output zero point", op)

    def add_const(array: np.ndarray, element: Attribute, const_name: str) -> SSAValue:
        c = const(array, element)
        c.location = op.location
        set_tensor_names(c, [const_name])
        block.insert_op_before(c, op)
        return c.results[0]

    first_zp = add_const(np.array([output_zp - _UNSIGNED_8BIT_OFFSET], dtype=np.int8), i8, f"{signed_name}_output_zp")
    first = RescaleOp.create(
        operands=[op.input, op.multiplier, op.shift, op.input_zp, first_zp],
        result_types=[TensorType(i8, out_type.get_shape())],
        properties={**op.properties, "output_unsigned": IntegerAttr.from_bool(False)},
    )
    first.location = op.location
    set_tensor_names(first, [signed_name])
    block.insert_op_before(first, op)

    unit = [
        add_const(np.array([1 << 30], dtype=np.int32), IntegerType(32), f"{name}_multipliers"),
        add_const(np.array([30], dtype=np.int8), i8, f"{name}_shifts"),
        add_const(np.array([-_UNSIGNED_8BIT_OFFSET], dtype=np.int8), i8, f"{name}_input_zp"),
        add_const(np.array([0], dtype=np.uint8), out_type.element_type, f"{name}_output_zp"),
    ]
    second = RescaleOp.create(
        operands=[first.output, *unit],
        result_types=[out_type],
        properties={
            "scale32": IntegerAttr.from_bool(True),
            "rounding_mode": RoundingModeAttr(op.rounding_mode.data),
            "per_channel": IntegerAttr.from_bool(False),
            "input_unsigned": IntegerAttr.from_bool(False),
            "output_unsigned": IntegerAttr.from_bool(True),
        },
        attributes=dict(op.attributes),
    )
    second.location = op.location
    block.insert_op_before(second, op)
    old_output_zp = op.output_zp.owner
    op.output.replace_all_uses_with(second.output)
    block.erase_op(op)
    if isinstance(old_output_zp, ConstOp) and not old_output_zp.output.uses:
        old_output_zp.parent_block().erase_op(old_output_zp)


# --------------------------------------------------------------------------- 3. retype


def make_signless(module: ModuleOp) -> None:
    for op in list(module.walk()):
        for region in op.regions:
            for block in region.blocks:
                for arg in list(block.args):
                    if is_unsigned(arg.type):
                        location = arg.location
                        Rewriter.replace_value_with_new_type(arg, _signless(arg.type)).location = location
        if isinstance(op, ConstOp) and is_unsigned(op.output.type):
            values = op.values
            op.properties["values"] = DenseIntOrFPElementsAttr(_signless(values.type), values.data)
        for result in list(op.results):
            if is_unsigned(result.type):
                Rewriter.replace_value_with_new_type(result, _signless(result.type))
    for func in module.walk():
        if isinstance(func, FuncOp):
            ret = func.body.blocks.last.last_op
            func.properties["function_type"] = type(func.function_type).from_lists(
                func.body.blocks.first.arg_types, ret.operand_types
            )


@dataclass(frozen=True)
class LegalizeUnsignedIO(ModulePass):
    """Typed -> signless: check, split wide-to-unsigned RESCALEs, drop signedness."""

    name = "legalize-unsigned-io"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        check_unsigned_at_boundary(op)
        for rescale in [o for o in op.walk() if isinstance(o, RescaleOp) and _needs_split(o)]:
            split_wide_to_unsigned(rescale)
        make_signless(op)


def to_signless(module: ModuleOp) -> ModuleOp:
    """Apply ``legalize-unsigned-io`` in place and verify; returns the module."""
    from ir import make_context

    LegalizeUnsignedIO().apply(make_context(), module)
    module.verify()
    return module
