"""Tensor names on ops and function arguments: the names a flatbuffer gives its tensors.

MLIR's TOSA (de)serializer names graph inputs and outputs with a ``tosa.tensor_name``
argument/result attribute; we use the same key on ops, so the names ExecuTorch gives
every tensor (FX node names, region suffixes, ``<node>_input_zp``...) survive the IR and
can be written back. A single-result op holds a string, a multi-result op an array of
strings (``""`` where a result has no name).
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, StringAttr
from xdsl.ir import Operation

from ir.speedups.prechecked import string_attr

TENSOR_NAME = "tosa.tensor_name"
#: on tosa.cond_if / tosa.while_loop: each region's name in the flatbuffer, and its
#: block's input tensor names (ExecuTorch names regions after the branch submodules,
#: ``true_graph_0``, and branch inputs after their placeholders, ``x_true_graph_0``)
REGION_NAMES = "tosa.region_names"
REGION_INPUT_NAMES = "tosa.region_input_names"


def set_tensor_names(op: Operation, names: Sequence[str]) -> None:
    if len(names) != len(op.results):
        raise ValueError(f"{op.name}: {len(names)} names for {len(op.results)} results")
    if not names:
        return
    if len(names) == 1:
        op.attributes[TENSOR_NAME] = string_attr(names[0])
        return
    op.attributes[TENSOR_NAME] = ArrayAttr([string_attr(n) for n in names])


def tensor_names(op: Operation) -> list[str]:
    """One name per result; ``""`` where none is recorded."""
    attr = op.attributes.get(TENSOR_NAME)
    if isinstance(attr, StringAttr):
        return [attr.data]
    if isinstance(attr, ArrayAttr):
        return [a.data if isinstance(a, StringAttr) else "" for a in attr.data]
    return [""] * len(op.results)


def name_dicts(names: Sequence[str]) -> ArrayAttr[DictionaryAttr]:
    """Function ``arg_attrs``/``res_attrs`` carrying ``names``."""
    return ArrayAttr([DictionaryAttr({TENSOR_NAME: StringAttr(n)}) for n in names])


def function_tensor_names(func) -> tuple[list[str], list[str]]:
    """The tensor names of a ``func.func``'s arguments and results (``""`` where none)."""

    def names(attrs, count: int) -> list[str]:
        if attrs is None:
            return [""] * count
        found = [d.data.get(TENSOR_NAME) for d in attrs.data]
        return [n.data if isinstance(n, StringAttr) else "" for n in found]

    return (
        names(func.arg_attrs, len(func.function_type.inputs)),
        names(func.res_attrs, len(func.function_type.outputs)),
    )


def set_region_names(
    op: Operation, names: Sequence[str], input_names: Sequence[Sequence[str]]
) -> None:
    if len(names) != len(op.regions) or len(input_names) != len(op.regions):
        raise ValueError(f"{op.name}: names for {len(names)} regions, op has {len(op.regions)}")
    op.attributes[REGION_NAMES] = ArrayAttr([StringAttr(n) for n in names])
    op.attributes[REGION_INPUT_NAMES] = ArrayAttr(
        [ArrayAttr([StringAttr(n) for n in inputs]) for inputs in input_names]
    )


def region_names(op: Operation, index: int) -> tuple[str, list[str]]:
    """Region ``index``'s recorded name and block input names (``""`` / ``[]`` if none)."""
    names, inputs = op.attributes.get(REGION_NAMES), op.attributes.get(REGION_INPUT_NAMES)
    name = ""
    if (
        isinstance(names, ArrayAttr)
        and index < len(names.data)
        and isinstance(names.data[index], StringAttr)
    ):
        name = names.data[index].data
    input_names: list[str] = []
    if (
        isinstance(inputs, ArrayAttr)
        and index < len(inputs.data)
        and isinstance(inputs.data[index], ArrayAttr)
    ):
        input_names = [a.data if isinstance(a, StringAttr) else "" for a in inputs.data[index].data]
    return name, input_names
