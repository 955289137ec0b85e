"""An op's structure checked against its entry in the TOSA spec's own table (``ir/spec``).

What the table fixes for every operator: how many operands and results it has, their
ranks, whether an argument is a tensor or a ``!tosa.shape``, and that arguments sharing
one spec type variable (``in_t``, ``out_t`` ...) share an element type. The op
definitions (``ir.dialects.tosa_ext``) run ``verify_against_spec`` before their family
rules; ``ir.verify`` pairs values with spec arguments the same way (``pair_with_spec``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.utils.exceptions import VerifyException

from ir.dialects.syntax import element_type_name, type_text
from ir.dialects.tosa_types import ShapeType
from ir.spec import CONCRETE_ELEMENT_TYPES


def fail(op: Operation, rule: str, message: str) -> NoReturn:
    """A structural error, named by op and rule family: ``'tosa.x' op [rule] message``."""
    raise VerifyException(f"'{op.name}' op [{rule}] {message}")


def verify_against_spec(op: Operation, spec: dict) -> None:
    """Ranks the spec fixes and element-type agreement between arguments that share a
    spec type variable, for the op's operands and results in spec order."""
    inputs = [a for a in spec["arguments"] if a["category"] == "input"]
    outputs = [a for a in spec["arguments"] if a["category"] == "output"]
    bound: dict[str, tuple[str, str]] = {}  # type variable -> (element type, argument)
    type_vars = set(spec["type_variables"])
    for args, values, kind in ((inputs, op.operands, "operand"), (outputs, op.results, "result")):
        lists = [a for a in args if a["type"] == "tensor_list_t"]
        if not lists and len(values) != len(args):
            fail(op, "arity", f"expects {len(args)} {kind}s, got {len(values)}")
        pairs = pair_with_spec(args, values)
        for arg, value in pairs:
            _check_argument(op, arg, value, bound, type_vars)


def pair_with_spec(args: list[dict], values: Sequence[SSAValue]):
    """Match values to spec arguments; a tensor list takes what the others leave."""
    fixed_after = 0
    pairs = []
    i = 0
    for k, arg in enumerate(args):
        if arg["type"] == "tensor_list_t":
            fixed_after = len(args) - k - 1
            take = len(values) - i - fixed_after
            pairs.extend((arg, v) for v in values[i : i + take])
            i += take
        elif i < len(values):
            pairs.append((arg, values[i]))
            i += 1
    return pairs


def _check_argument(op, arg: dict, value: SSAValue, bound: dict, type_vars: set) -> None:
    t = value.type
    name = arg["name"]
    if arg["type"] == "shape_t":
        if not isinstance(t, ShapeType):
            fail(op, "operand-type", f"{name} must be a !tosa.shape, got {type_text(t)}")
        return
    if arg["type"] not in ("tensor_t", "tensor_list_t"):
        return
    if not isinstance(t, TensorType):
        fail(op, "operand-type", f"{name} must be a ranked tensor, got {type_text(t)}")
    rank = arg["rank"]
    if rank is not None:
        lo, hi = rank
        r = len(t.get_shape())
        if (isinstance(lo, int) and r < lo) or (isinstance(hi, int) and r > hi):
            want = f"rank {lo}" if lo == hi else f"rank in [{lo}, {hi}]"
            fail(op, "rank", f"{name} must have {want}, got {type_text(t)}")
    var = arg["element_type"]
    if not var or var == "-":
        return
    elem = element_type_name(t)
    if var in type_vars:
        if (
            var in bound
            and bound[var][0] != elem
            and not _unsigned_side_zero_point(op, name, bound[var][0], elem)
        ):
            first_elem, first_name = bound[var]
            fail(
                op,
                "element-type",
                f"{name} element type {elem} must equal {first_name}'s {first_elem} ({var})",
            )
        bound.setdefault(var, (elem, name))
        return
    concrete = CONCRETE_ELEMENT_TYPES.get(var)
    if concrete is not None and elem != concrete:
        fail(op, "element-type", f"{name} must have element type {concrete}, got {elem}")


def _unsigned_side_zero_point(op, name: str, side: str, zero_point: str) -> bool:
    """A RESCALE zero point may be signless where its side is unsigned (``ui8`` input,
    ``i8`` input_zp), as MLIR's verifier allows: the byte is the same either way, read
    unsigned because of the flag. Our typed stage writes the ``ui8`` form."""
    return (
        op.name == "tosa.rescale"
        and name in ("input_zp", "output_zp")
        and side.startswith("ui")
        and zero_point == side[1:]
    )


__all__ = ["fail", "pair_with_spec", "verify_against_spec"]
