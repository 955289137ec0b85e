"""``expose-intermediates``: every computed tensor of the graph also a graph output.

A per-op accuracy comparison needs the value of each op's output, not only the model's.
The TOSA reference model can dump intermediates itself (``dump_intermediates=1``), but
only as printf-formatted text files in its working directory, one per tensor, which would
have to be found, parsed and typed back; making the tensors graph outputs instead lets
``runtime.run_reference`` hand them back as typed numpy arrays in one in-process run, and
works on any module (a stage dump a user edited and parsed back included).

The pass appends, after the function's own results, each result of a top-level op of the
main function that

* is a ranked tensor the reference model's binding can carry (not INT48, not INT4, not a
  ``!tosa.shape``), and
* is not a constant (``tosa.const``/``tosa.const_shape``: their values are in the text)
  and not already returned.

Values computed inside ``cond_if``/``while_loop`` regions are not reachable from the
function's return and are left alone. Exposing a value changes no op and no value: each
op still reads what it read, so every original output keeps its bits. The result names
are the ops' ``tosa.tensor_name`` (the writer's own naming otherwise), so the flatbuffer's
tensors keep the names Vela and the review dump use.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    IntegerType,
    ModuleOp,
    StringAttr,
    TensorType,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import OpResult
from xdsl.passes import ModulePass

from ir.dialects.tosa_ext import ConstOp, ConstShapeOp
from ir.lowering import terminator
from ir.tensor_names import TENSOR_NAME, tensor_names

#: integer widths the reference model's Python binding passes back intact (INT4 and
#: INT48 it cannot: see ``runtime.reference``)
_CARRIED_WIDTHS = (1, 8, 16, 32, 64)


def _carried(value: OpResult) -> bool:
    """A tensor the reference model's binding can return as a graph output."""
    type_ = value.type
    if not isinstance(type_, TensorType):
        return False
    element = type_.element_type
    if isinstance(element, IntegerType):
        return element.width.data in _CARRIED_WIDTHS
    return True


def main_func(module: ModuleOp) -> FuncOp | None:
    """The graph's function: the only ``func.func``, or the one named ``main``."""
    funcs = [op for op in module.ops if isinstance(op, FuncOp)]
    if len(funcs) == 1:
        return funcs[0]
    return next((f for f in funcs if f.sym_name.data == "main"), None)


def exposable_values(func: FuncOp) -> list[OpResult]:
    """The values ``expose-intermediates`` appends to ``func``'s results, in op order.

    One place for the choice: the pass appends exactly these, and a caller that runs the
    exposed graph reads output ``len(original outputs) + i`` as value ``i`` of this list.
    """
    returned = set(terminator(func.body.block).operands)
    found: list[OpResult] = []
    for op in func.body.block.ops:
        if isinstance(op, (ConstOp, ConstShapeOp, ReturnOp)):
            continue
        found.extend(r for r in op.results if r not in returned and _carried(r))
    return found


@dataclass(frozen=True)
class ExposeIntermediates(ModulePass):
    """Append every computed, carried tensor of the main function to its results."""

    name = "expose-intermediates"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        func = main_func(op)
        if func is None:
            return
        exposed = exposable_values(func)
        if not exposed:
            return
        ret = terminator(func.body.block)
        original = list(ret.operands)
        ret.operands = [*original, *exposed]

        result_types = [*func.function_type.outputs.data, *(v.type for v in exposed)]
        func.function_type = func.function_type.from_lists(
            list(func.function_type.inputs.data), result_types
        )

        old_attrs = list(func.res_attrs.data) if func.res_attrs is not None else []
        old_attrs += [DictionaryAttr({})] * (len(original) - len(old_attrs))
        new_attrs = [_name_dict(v) for v in exposed]
        func.res_attrs = ArrayAttr([*old_attrs, *new_attrs])


def _name_dict(value: OpResult) -> DictionaryAttr:
    name = tensor_names(value.op)[value.index]
    return DictionaryAttr({TENSOR_NAME: StringAttr(name)} if name else {})


__all__ = ["ExposeIntermediates", "exposable_values", "main_func"]
