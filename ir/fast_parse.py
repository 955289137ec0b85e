"""A fast path through xDSL's parser for the op lines our own printer writes.

xDSL's parser lexes every token through Python code and parses every attribute anew:
about 0.45 ms per op, 4-5 s for a 10k-op module. Almost all lines of a printed TOSA
module have one of two shapes (one line each, wrapped here),

    %12 = "tosa.const"() <{values = dense<...> : tensor<...>}> {tosa.tensor_name = "w"}
        : () -> tensor<...>
    %13 = tosa.conv2d %3, %4, %5 {acc_type = i32, pad = array<i64: 0, 0, 0, 0>}
        : (tensor<...>, ...) -> tensor<...>

and repeat a small set of types and attribute values. ``parse_op_line`` reads such a line
with string operations, takes types and attribute values from a per-parse cache (each
distinct text parsed once by xDSL itself), decodes hex constants and integer lists with
numpy, and builds the op exactly as ``TosaOp.parse`` / the generic parser would. A line
it does not fully understand (regions, multiple results, forward references, a type
mismatch, escaped strings, floats in a list, ...) is left untouched and xDSL parses it:
the fast path only ever decides *how* a line is read, never *what* it means, so the
module and every error message stay xDSL's.

Replaces: xDSL's ``Parser.parse_operation`` for those lines (``ir.parsing.MlirParser``
asks here first). Exact because each piece is parsed by xDSL itself (once per distinct
text) and the op is built as its parser builds it; ``tests/ir/test_fast_parse.py`` compares
the two ways on every op and lit text. Off with ``TOSA_IR_NO_SPEEDUPS=1``.
"""

from __future__ import annotations

import math
import re
from typing import TypeGuard, cast

import numpy as np
from xdsl.dialects.builtin import (
    BytesAttr,
    DenseIntOrFPElementsAttr,
    IndexType,
    IntegerType,
    Signedness,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute
from xdsl.utils.exceptions import ParseError
from xdsl.utils.lexer import Span

from ir.dense_text import HEX_THRESHOLD, _nested
from ir.dialects.tosa_ext import ConstOp, TosaOp
from ir.speedups import ENABLED

_RESULT = re.compile(r"%([A-Za-z_$.\-][\w$.\-]*|\d+) = ")
_OPERAND = re.compile(r"%([A-Za-z_$.\-][\w$.\-]*|\d+)")
_CONST_HEAD = '"tosa.const"() <'
_INT_LIST = re.compile(r"[\[\]\s]")
_PLAIN_STRING = re.compile(r'"[^"\\]*"')
_CACHED_DENSE_CHARS = 64
#: the most elements a splat (``dense<0> : tensor<NxT>``) may expand to: xDSL expands one
#: into a list of N Python ints (about 0.1 s per million); a mistyped shape must not take
#: minutes and all memory. Larger constants are written in full (hex) and bounded by the text.
MAX_SPLAT_ELEMENTS = 1 << 22


class LineCache:
    """Types and attribute values already parsed, by their text, for one parse."""

    def __init__(self, parser_factory) -> None:
        self._new_parser = parser_factory
        self.types: dict[str, Attribute] = {}
        self.attributes: dict[tuple[str, str], Attribute] = {}

    def type(self, text: str) -> Attribute:
        found = self.types.get(text)
        if found is None:
            found = self._whole(text, lambda p: p.parse_type())
            self.types[text] = found
        return found

    def attribute(self, op_cls: type, name: str, text: str) -> Attribute:
        """``name = text`` of ``op_cls`` as ``parse_attr_dict`` reads it."""
        enum_cls = getattr(op_cls, "ENUM_PROPS", {}).get(name)
        key = (enum_cls.__name__ if enum_cls else "", text)
        found = self.attributes.get(key)
        if found is not None:
            return found
        if _PLAIN_STRING.fullmatch(text):
            return StringAttr(text[1:-1])  # unique per op (tensor names): not cached
        if text.startswith("dense<"):
            found = _dense(text, self)
            if found is not None:
                if len(text) <= _CACHED_DENSE_CHARS:  # splats and zero points repeat
                    self.attributes[key] = found
                return found
        if enum_cls is not None and text.isidentifier():
            found = self._enum(enum_cls, text)
        else:
            found = self._whole(text, lambda p: p.parse_attribute())
        if not text.startswith("dense_resource<"):  # xDSL registers each handle it reads
            self.attributes[key] = found
        return found

    @staticmethod
    def _enum(enum_cls, text: str) -> Attribute:
        try:
            return enum_cls(enum_cls.enum_type(text))
        except ValueError:
            raise _NotFast from None

    def _whole(self, text: str, parse):
        """``text`` parsed by xDSL, which must read all of it."""
        parser = self._new_parser(text)
        try:
            result = parse(parser)
        except (ParseError, ValueError):
            raise _NotFast from None
        if parser.pos != len(text):
            raise _NotFast
        return result


class _NotFast(Exception):
    """The line is not one the fast path reads; xDSL's parser takes it."""


_CLOSING = {"{": "}", "(": ")", "<": ">", "[": "]"}
_BRACKET_OR_QUOTE = re.compile(r'[<>()\[\]{}"]')


def _balanced(text: str) -> bool:
    """Every bracket closed and every string literal ended (``->`` is no bracket).

    Counting is exact for our printer's text; a bracket inside a string literal can fool
    it, and then the pieces do not parse whole, so the line goes to xDSL."""
    if _BRACKET_OR_QUOTE.search(text) is None:
        return True
    arrows = text.count("->")
    return (
        text.count('"') % 2 == 0
        and text.count("<") == text.count(">") - arrows
        and text.count("(") == text.count(")")
        and text.count("[") == text.count("]")
        and text.count("{") == text.count("}")
    )


def _split_top(text: str) -> list[str]:
    """``text`` split at the ``, `` outside brackets and string literals."""
    if "\\" in text:
        raise _NotFast  # escapes: xDSL reads them
    parts, pending = [], None
    for piece in text.split(", "):
        pending = piece if pending is None else f"{pending}, {piece}"
        if _balanced(pending):
            parts.append(pending)
            pending = None
    if pending is not None:
        raise _NotFast
    return parts


def _matching(text: str, start: int) -> int:
    """Index just past the bracket group opened at ``text[start]``."""
    close = _CLOSING.get(text[start])
    if close is None:
        raise _NotFast
    at = start
    while True:
        at = text.find(close, at + 1)
        if at < 0:
            raise _NotFast
        if close == ">" and text[at - 1] == "-":
            continue
        if _balanced(text[start : at + 1]):
            if "\\" in text[start:at]:
                raise _NotFast
            return at + 1


# --------------------------------------------------------------------------- constants

#: element types whose xDSL storage is what MLIR's hex form holds, byte for byte
_HEX_DTYPES = {
    (8, False): "<i1",
    (16, False): "<i2",
    (32, False): "<i4",
    (64, False): "<i8",
    (8, True): "<u1",
    (16, True): "<u2",
    (32, True): "<u4",
    (64, True): "<u8",
}


def _int_dtype(element: Attribute) -> str | None:
    if isinstance(element, IndexType):
        return "<i8"
    if not isinstance(element, IntegerType):
        return None
    unsigned = element.signedness.data == Signedness.UNSIGNED
    if element.signedness.data == Signedness.SIGNED:
        return None
    return _HEX_DTYPES.get((element.width.data, unsigned))


def _dense(text: str, cache: LineCache) -> DenseIntOrFPElementsAttr | None:
    """``dense<...> : tensor<...>`` of an integer type: from the bytes of its hex form, or
    from its integer list when re-printing that list gives the same text; None otherwise
    (floats, i1/i4/i48, anything unusual: xDSL parses those)."""
    close = _matching(text, 5)
    if not text.startswith(" : ", close):
        return None
    type_text = text[close + 3 :]
    tensor = cache.type(type_text)
    if not isinstance(tensor, TensorType):
        return None
    dtype = _int_dtype(tensor.element_type)
    if dtype is None:
        return None
    body = text[6 : close - 1]
    shape = tuple(tensor.get_shape())
    count = math.prod(shape)
    if count > MAX_SPLAT_ELEMENTS:
        return None  # xDSL's parser says why
    if body.startswith('"0x'):
        try:
            data = bytes.fromhex(body[3:-1])
        except ValueError:
            return None  # not hex: xDSL's parser says where
        if count <= HEX_THRESHOLD or len(data) != count * np.dtype(dtype).itemsize:
            return None
        return DenseIntOrFPElementsAttr(tensor, BytesAttr(data))
    return _dense_list(body, tensor, shape, count, dtype)


def _dense_list(body: str, tensor: TensorType, shape, count: int, dtype: str):
    texts = _INT_LIST.sub("", body).split(",")
    if body.startswith("["):
        if len(texts) != count or _nested(texts, shape) != body:
            return None
    elif len(texts) != 1:
        return None
    try:
        values = [int(t) for t in texts]
    except ValueError:
        return None
    info = np.iinfo(dtype)
    if min(values) < info.min or max(values) > info.max:
        return None
    array = (
        np.array(values, dtype=dtype)
        if len(values) == count
        else np.full(count, values[0], dtype=dtype)
    )
    # _int_dtype took only an integer or index element type
    integer_tensor = cast(TensorType[IntegerType | IndexType], tensor)
    return DenseIntOrFPElementsAttr(
        integer_tensor, BytesAttr(array.tobytes())
    )  # xDSL stores splats expanded


# --------------------------------------------------------------------------- op lines


def _is_plain_tosa(op_cls) -> TypeGuard[type[TosaOp]]:
    return (
        isinstance(op_cls, type)
        and issubclass(op_cls, TosaOp)
        and op_cls.parse.__func__ is TosaOp.parse.__func__
    )


def parse_op_line(parser, cache: LineCache):
    """The op on the line at the parser's position, or None (nothing consumed) when the
    fast path does not read this line (or the speed-ups are off)."""
    if not ENABLED:
        return None
    text = parser.lexer.input.content
    start = parser.pos
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    line = text[start:end]
    result = _RESULT.match(line)
    if result is None:
        return None
    name = result.group(1)
    if name in parser.ssa_values or name in parser.forward_ssa_references:
        return None  # before building: a built op already uses its operands
    try:
        built = _build(parser, cache, line, result)
    except _NotFast:
        return None
    if built is None:
        return None
    op, rest = built
    rest_at = end - len(rest)
    if rest.strip():
        if not rest.startswith(" loc("):
            op.drop_all_references()  # not ours after all: leave no use of its operands
            return None
        parser._resume_from(rest_at)
        op.location = parser.parse_optional_location()
    else:
        parser._resume_from(end)
    span = Span(start, start + len(name) + 1, parser.lexer.input)
    parser._register_ssa_definition(name, op.results, span)
    return op


def _build(parser, cache: LineCache, line: str, result: re.Match):
    rest = line[result.end() :]
    if rest.startswith(_CONST_HEAD):
        return _build_const(cache, rest[len(_CONST_HEAD) :])
    if not rest.startswith("tosa."):
        return None
    space = rest.find(" ")
    op_cls = parser.ctx.get_optional_op(rest[:space]) if space > 0 else None
    if not _is_plain_tosa(op_cls):
        return None
    rest = rest[space + 1 :]
    operands, rest = _operand_names(rest)
    props, attrs, rest = _attr_dict(cache, op_cls, rest)
    if not rest.startswith(": ("):
        return None
    close = _matching(rest, 2)
    inputs = [cache.type(t) for t in _split_top(rest[3 : close - 1])] if close > 4 else []
    if not rest.startswith(" -> ", close):
        return None
    output_text, rest = _type_until_end(rest[close + 4 :])
    if output_text.startswith("("):
        return None  # several results: xDSL
    values = _resolve(parser, operands, inputs)
    if values is None:
        return None
    op = op_cls.create(
        operands=values, result_types=[cache.type(output_text)], properties=props, attributes=attrs
    )
    return op, rest


#: the usual constant, as our printer writes it: ``{values = dense<...> : T}>``, an
#: optional plain tensor name, ``: () -> T`` (group 4 keeps any trailing location)
_PLAIN_CONST = re.compile(
    r'\{values = (dense<(?:"0x[0-9A-F]*"|[^<>"]*)> : [^{}<>]*<[^{}<>]*>)\}>'
    r'(?: \{tosa\.tensor_name = ("[^"\\]*")\})? : \(\) -> ([^ ]*)(.*)'
)


def _build_const(cache: LineCache, rest: str):
    """``{values = ...}> {attrs} : () -> type`` of a generic ``tosa.const``."""
    plain = _PLAIN_CONST.fullmatch(rest)
    if plain is not None:
        values_text, name, output_text, rest = plain.groups()
        props = {"values": cache.attribute(ConstOp, "values", values_text)}
        attrs = {"tosa.tensor_name": StringAttr(name[1:-1])} if name is not None else {}
        op = ConstOp.create(
            result_types=[cache.type(output_text)], properties=props, attributes=attrs
        )
        return op, rest
    close = _matching(rest, 0)
    if rest[close : close + 1] != ">":
        return None
    entries = _entries(rest[1 : close - 1])
    if set(entries) != {"values"}:
        return None
    props = {"values": cache.attribute(ConstOp, "values", entries["values"])}
    rest = rest[close + 1 :]
    attrs = {}
    if rest.startswith(" {"):
        close = _matching(rest, 1)
        attrs = {
            n: cache.attribute(ConstOp, n, v) for n, v in _entries(rest[2 : close - 1]).items()
        }
        rest = rest[close:]
    if not rest.startswith(" : () -> "):
        return None
    output_text, rest = _type_until_end(rest[9:])
    op = ConstOp.create(result_types=[cache.type(output_text)], properties=props, attributes=attrs)
    return op, rest


def _operand_names(rest: str) -> tuple[list[str], str]:
    names = []
    while rest.startswith("%"):
        m = _OPERAND.match(rest)
        if m is None:
            raise _NotFast
        names.append(m.group(1))
        rest = rest[m.end() :]
        if rest.startswith(", "):
            rest = rest[2:]
        elif rest.startswith(" "):
            rest = rest[1:]
            break
        else:
            raise _NotFast
    return names, rest


def _attr_dict(cache: LineCache, op_cls, rest: str):
    """``{...} `` split into properties and attributes as ``parse_attr_dict`` does."""
    if rest.startswith(" {"):
        rest = rest[1:]
    if not rest.startswith("{"):
        return {}, {}, rest
    close = _matching(rest, 0)
    entries = _entries(rest[1 : close - 1])
    defined = op_cls.get_irdl_definition().properties
    props, attrs = {}, {}
    for name, value in entries.items():
        (props if name in defined else attrs)[name] = cache.attribute(op_cls, name, value)
    return props, attrs, rest[close:].removeprefix(" ")


def _entries(text: str) -> dict[str, str]:
    entries = {}
    for entry in _split_top(text):
        name, eq, value = entry.partition(" = ")
        if not eq or not (name.replace(".", "_").isidentifier()) or name in entries:
            raise _NotFast
        entries[name] = value
    return entries


def _type_until_end(rest: str) -> tuple[str, str]:
    """The type at the start of ``rest`` and what follows it (a location, or nothing)."""
    if rest.startswith("("):
        return rest, ""
    cut = rest.find(" loc(")
    if cut < 0:
        return rest, ""
    return rest[:cut], rest[cut:]


def _resolve(parser, names: list[str], types: list[Attribute]):
    """The operands when each is defined already with exactly this type, else None."""
    if len(names) != len(types):
        return None
    values = []
    for name, t in zip(names, types):
        defined = parser.ssa_values.get(name)
        if defined is None or len(defined) != 1 or defined[0].type != t:
            return None
        values.append(defined[0])
    return values
