"""Print modules as MLIR prints them, so a dump diffs cleanly against ``tosa-opt``.

Differences from xDSL's default printer, each one MLIR's behaviour:
- ``module {`` and ``return`` instead of ``builtin.module`` / ``func.return``;
- SSA names numbered the way MLIR's ``SSANameState`` does (nested regions numbered after
  their parent region, sibling regions restarting, ``%3:2`` result groups, ``%arg`` for
  entry-block arguments, op-provided names such as ``%output_real``);
- optionally, large constants elided to ``dense_resource<...>`` with a content hash, a
  form MLIR's parser accepts.

``op_comment`` is the hook review dumps hang their notes on: called with each op before
it is printed, its text (if any) goes on a ``// ...`` line above the op, indented like it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp
from xdsl.dialects.func import ReturnOp
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.printer import Printer

from ir.dense_text import dense_text
from ir.float_format import mlir_float_text
from ir.speedups.type_text import TypeTexts

#: Review dumps elide constants with more elements than this.
DEFAULT_ELIDE_THRESHOLD = 64


def mlir_value_names(top: Operation) -> dict[SSAValue, str]:
    """Names MLIR gives every value under ``top`` (without the leading ``%``)."""
    names: dict[SSAValue, str] = {}
    # (region, next value id, next argument id, next conflict id, names in scope)
    stack = [(r, 0, 0, 0, frozenset()) for r in top.regions]
    while stack:
        region, next_value, next_arg, next_conflict, used = stack.pop()
        used = set(used)
        for block in region.blocks:
            is_entry = block is region.blocks.first
            for arg in block.args:
                if is_entry:
                    names[arg] = f"arg{next_arg}"
                    next_arg += 1
                else:
                    names[arg] = str(next_value)
                    next_value += 1
            for op in block.ops:
                custom = getattr(type(op), "RESULT_NAMES", None)
                if custom and len(custom) == len(op.results):
                    for result, base in zip(op.results, custom):
                        name = base
                        while name in used:
                            name = f"{base}_{next_conflict}"
                            next_conflict += 1
                        used.add(name)
                        names[result] = name
                elif len(op.results) == 1:
                    names[op.results[0]] = str(next_value)
                    next_value += 1
                elif op.results:
                    for i, result in enumerate(op.results):
                        names[result] = f"{next_value}#{i}"
                    next_value += 1
        frozen = frozenset(used)
        for block in region.blocks:
            for op in block.ops:
                for inner in op.regions:
                    stack.append((inner, next_value, next_arg, next_conflict, frozen))
    return names


@dataclass(eq=False, repr=False)
class MlirPrinter(Printer):
    """xDSL printer speaking MLIR's dialect of the text format."""

    elide_threshold: int | None = None
    #: text for a ``// ...`` comment line above an op, or None for none
    op_comment: Callable[[Operation], str | None] | None = None
    _elided: dict[bytes, str] = field(default_factory=dict, init=False)
    #: tensor types printed once (``ir.speedups.type_text``)
    _type_texts: TypeTexts = field(default_factory=TypeTexts, init=False)

    def print_module(self, module: Operation) -> None:
        self._ssa_values.update(mlir_value_names(module))
        self.print_op(module)
        self.print_string("\n")

    def _print_results(self, op: Operation) -> None:
        if not op.results:
            return
        first = self._ssa_values.get(op.results[0], "")
        if len(op.results) > 1 and "#" in first:
            self.print_string(f"%{first.split('#')[0]}:{len(op.results)} = ")
            return
        super()._print_results(op)

    def print_op(self, op: Operation) -> None:
        comment = self.op_comment(op) if self.op_comment is not None else None
        if comment:  # the line is already indented for the op
            self.print_string(f"// {comment}")
            self._print_new_line()
        if isinstance(op, ModuleOp) and not self.print_generic_format:
            self.print_string("module")
            op.print(self)
            return
        if isinstance(op, ReturnOp) and not self.print_generic_format:
            self.print_string("return")
            op.print(self)
            return
        super().print_op(op)

    def print_float(self, value: float, type) -> None:
        self.print_string(mlir_float_text(value, type))

    def print_attribute(self, attribute: Attribute) -> None:
        known = self._type_texts.text(attribute)
        if known is not None:
            self.print_string(known)
            return
        if (
            self.elide_threshold is not None
            and isinstance(attribute, DenseIntOrFPElementsAttr)
            and len(attribute) > self.elide_threshold
        ):
            self.print_string(f"dense_resource<{self._elided_key(attribute)}> : ")
            super().print_attribute(attribute.type)
            return
        if isinstance(attribute, DenseIntOrFPElementsAttr):
            self.print_string(dense_text(attribute))
            self.print_string(" : ")
            super().print_attribute(attribute.type)
            return
        super().print_attribute(attribute)

    def _elided_key(self, attribute: DenseIntOrFPElementsAttr) -> str:
        data = attribute.data.data
        key = self._elided.get(data)
        if key is None:
            key = "sha256_" + hashlib.sha256(data).hexdigest()[:16]
            self._elided[data] = key
        return key


def print_module(
    module: Operation,
    *,
    elide_constants: bool = False,
    elide_threshold: int = DEFAULT_ELIDE_THRESHOLD,
    generic: bool = False,
    debuginfo: bool = False,
    op_comment: Callable[[Operation], str | None] | None = None,
) -> str:
    """Text of ``module`` in MLIR's syntax.

    ``elide_constants`` (review dumps) replaces constants with more than
    ``elide_threshold`` elements by ``dense_resource<sha256_...>``: MLIR parses that, and
    the hash tells two dumps' weights apart. Round-trip text keeps every byte.
    ``op_comment(op)`` gives the text of a comment line above ``op`` (None: no line).
    """
    out = io.StringIO()
    printer = MlirPrinter(
        stream=out,
        print_generic_format=generic,
        print_debuginfo=debuginfo,
        elide_threshold=elide_threshold if elide_constants else None,
        op_comment=op_comment,
    )
    printer.print_module(module)
    return out.getvalue()


__all__ = ["DEFAULT_ELIDE_THRESHOLD", "MlirPrinter", "mlir_value_names", "print_module"]
