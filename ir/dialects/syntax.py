"""The pieces of MLIR's ``tosa`` op syntax that the op definitions share.

``tosa-opt`` prints an op as ``operands {attrs} : (types) -> types``: the attr-dict has
properties and attributes merged and sorted, default-valued properties elided and enum
values bare (``rounding_mode = SINGLE_ROUND``). Control flow adds named block arguments
(``(%a = %x, %b = %y)``) and a result-type list that drops its parentheses for one type.
Each piece is printed and parsed here, once, so every op reads back what it printed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache

from xdsl.dialects.builtin import TensorType, UnitAttr
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, SSAValue, TypeAttribute
from xdsl.irdl import IRDLOperation, OpDef
from xdsl.parser import Parser
from xdsl.printer import Printer

# --------------------------------------------------------------------------- type text


@cache
def type_text(t: Attribute) -> str:
    """A type as MLIR text, for messages and element-type comparison."""
    out = io.StringIO()
    Printer(stream=out).print_attribute(t)
    return out.getvalue()


def element_type_name(t: Attribute) -> str:
    """The element type of a tensor type as text; "" for anything else."""
    return type_text(t.element_type) if isinstance(t, TensorType) else ""


# --------------------------------------------------------------------------- attr-dict


def _default_elided(op_def: OpDef, name: str, value: Attribute) -> bool:
    pdef = op_def.properties.get(name)
    return pdef is not None and pdef.default_value is not None and pdef.default_value == value


def print_attr_dict(
    printer: Printer, op: IRDLOperation, skip: Sequence[str] = (), keyword: str = ""
) -> None:
    """MLIR's attr-dict: properties and attributes merged, sorted by name, default-valued
    properties elided, enum values bare; ``keyword="attributes"`` gives MLIR's
    attr-dict-with-keyword."""
    op_def = op.get_irdl_definition()
    entries = {**op.attributes, **op.properties}
    names = sorted(
        n for n, v in entries.items() if n not in skip and not _default_elided(op_def, n, v)
    )
    if not names:
        return
    if keyword:
        printer.print_string(f" {keyword}")
    printer.print_string(" {")
    for i, name in enumerate(names):
        if i:
            printer.print_string(", ")
        value = entries[name]
        printer.print_identifier_or_string_literal(name)
        if isinstance(value, UnitAttr):
            continue
        printer.print_string(" = ")
        if isinstance(value, EnumAttribute) and value.name.startswith("tosa."):
            printer.print_string(str(value.data))
        else:
            printer.print_attribute(value)
    printer.print_string("}")


def parse_attr_dict(
    parser: Parser, op_cls: type[IRDLOperation]
) -> tuple[dict[str, Attribute], dict[str, Attribute]]:
    """Parse ``{name = value, ...}`` accepting bare enum values, and split it into
    properties (names the op defines) and discardable attributes."""
    op_def = op_cls.get_irdl_definition()
    entries: dict[str, Attribute] = {}
    if parser.parse_optional_punctuation("{") is None:
        return {}, {}
    if parser.parse_optional_punctuation("}") is None:
        while True:
            name = parser.parse_optional_identifier() or parser.parse_str_literal()
            if parser.parse_optional_punctuation("=") is None:
                entries[name] = UnitAttr()
            else:
                entries[name] = _parse_attr_value(parser, op_cls, name)
            if parser.parse_optional_punctuation(",") is None:
                break
        parser.parse_punctuation("}")
    props = {n: v for n, v in entries.items() if n in op_def.properties}
    attrs = {n: v for n, v in entries.items() if n not in op_def.properties}
    return props, attrs


def _parse_attr_value(parser: Parser, op_cls: type[IRDLOperation], name: str) -> Attribute:
    enum_cls = getattr(op_cls, "ENUM_PROPS", {}).get(name)
    if enum_cls is not None:
        ident = parser.parse_optional_identifier()
        if ident is not None:
            try:
                return enum_cls(enum_cls.enum_type(ident))
            except ValueError:
                parser.raise_error(
                    f"'{ident}' is not a valid {name}; expected one of "
                    + ", ".join(e.value for e in enum_cls.enum_type)
                )
    return parser.parse_attribute()


# --------------------------------------------------------------------------- operands


def parse_operand_list(parser: Parser):
    """``%a, %b, ...`` (possibly empty), unresolved."""
    first = parser.parse_optional_unresolved_operand()
    if first is None:
        return []
    operands = [first]
    while parser.parse_optional_punctuation(",") is not None:
        operands.append(parser.parse_unresolved_operand())
    return operands


def print_named_args(printer: Printer, names: Sequence[SSAValue], values: Sequence[SSAValue]):
    """``(%a = %x, %b = %y)``: block arguments bound to the op's operands."""
    printer.print_string("(")
    for i, (arg, value) in enumerate(zip(names, values)):
        if i:
            printer.print_string(", ")
        printer.print_ssa_value(arg)
        printer.print_string(" = ")
        printer.print_operand(value)
    printer.print_string(")")


def parse_named_args(parser: Parser):
    """``(%a = %x, %b = %y)`` -> (block argument names, operands)."""
    names, operands = [], []
    if parser.parse_optional_punctuation("(") is None:
        return names, operands
    if parser.parse_optional_punctuation(")") is None:
        while True:
            names.append(parser.parse_argument(expect_type=False))
            parser.parse_punctuation("=")
            operands.append(parser.parse_unresolved_operand())
            if parser.parse_optional_punctuation(",") is None:
                break
        parser.parse_punctuation(")")
    return names, operands


# --------------------------------------------------------------------------- type lists


def print_type_list(printer: Printer, types: Sequence[Attribute]) -> None:
    """One type bare, any other count in parentheses."""
    if len(types) == 1:
        printer.print_attribute(types[0])
        return
    printer.print_string("(")
    printer.print_list(types, printer.print_attribute)
    printer.print_string(")")


def parse_type_list(parser: Parser) -> list[TypeAttribute]:
    """What ``print_type_list`` prints."""
    if parser.parse_optional_punctuation("(") is not None:
        if parser.parse_optional_punctuation(")") is not None:
            return []
        types = parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_type)
        parser.parse_punctuation(")")
        return types
    return [parser.parse_type()]


__all__ = [
    "element_type_name",
    "parse_attr_dict",
    "parse_named_args",
    "parse_operand_list",
    "parse_type_list",
    "print_attr_dict",
    "print_named_args",
    "print_type_list",
    "type_text",
]
