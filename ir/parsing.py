"""MLIR text to a verified module, linear on any text, with one positioned error.

``parse_module(text, name=...)`` is xDSL's parser (``MlirParser``) plus what a reviewer
who edits a dump by hand needs: every failure is an ``IRParseError`` whose first line is
``file:line:col: message`` (naming the op when there is one), followed by the source line
and a caret. Three things xDSL 0.74 does not do are done here:

- its lexer matches string literals with a nested quantifier that backtracks
  exponentially on an unterminated string (``loc("a a a a ...`` with no closing quote
  took seconds, a few more words minutes): ``LinearLexer`` uses the same pattern with
  possessive quantifiers, which cannot backtrack;
- library exceptions raised while reading an op (``Integer value 428 is out of range for
  type ui8``, an unsupported integer width, bad hex) become parse errors at the op;
- structural errors found by the verifier after parsing (``'func.return' must be the last
  operation in its parent block``) are placed where the op was read, also for ops that
  carry no location of their own (``func.*``, a name-only ``loc("x")``): the parser
  remembers where it read each op (``ir.diagnostics.parsed_position``).
"""

from __future__ import annotations

import bisect
import math
import re
from typing import cast

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import (
    AnyDenseElement,
    AnyFloat,
    BytesAttr,
    DenseIntOrFPElementsAttr,
    FileLineColLoc,
    IntAttr,
    LocationAttr,
    ModuleOp,
    RankedStructure,
    StringAttr,
    UnknownLoc,
)
from xdsl.ir import Operation
from xdsl.parser import Parser
from xdsl.parser.generic_parser import ParserState
from xdsl.utils.exceptions import ParseError
from xdsl.utils.lexer import Input, Span
from xdsl.utils.mlir_lexer import MLIRLexer, MLIRTokenKind

from ir.builders import flat_storage
from ir.dense_text import i48_from_mlir_hex, is_i48
from ir.diagnostics import failing_ops, format_place, parsed_position, remember_position
from ir.fast_parse import MAX_SPLAT_ELEMENTS, LineCache, parse_op_line
from ir.speedups.dense_literal import parse_dense_literal_type

#: the op name at the start of an op's text: ``%a, %b = "tosa.x"`` or ``%a = tosa.x``
#: the mark ``_named`` leaves on a ParseError it has named
_OP_NAMED = "op_named"
_OP_NAME = re.compile(r'(?:%[^\s=,]+\s*(?:,\s*%[^\s=,]+\s*)*=\s*)?"?([A-Za-z_][\w$.]*)')
#: MLIR's limit on an integer type's width
MAX_INTEGER_WIDTH = (1 << 24) - 1
#: ``file:line:col: message``
_POSITIONED = re.compile(r"(.+?:\d+:\d+): (.*)")
#: how much of a long source line an error shows either side of its column
_CONTEXT = 80


class IRParseError(ValueError):
    """Text that is not a valid module; the first line is ``file:line:col: message``."""

    def error_line(self) -> str:
        """The first line as a compiler prints it: ``file:line:col: error: message``."""
        first = str(self).split("\n", 1)[0]
        at = _POSITIONED.match(first)
        return f"{at[1]}: error: {at[2]}" if at else f"error: {first}"


class LinearLexer(MLIRLexer):
    """xDSL's MLIR lexer with a string-literal pattern that cannot backtrack.

    xDSL's ``"(?:[^"\\\\\\n\\v\\f]+|\\\\(?:...))*"`` nests ``+`` in ``*``: on a string with no
    closing quote the regex engine tries every way to split the run of characters, 2^n
    for n characters. The two alternatives start with different characters (anything
    but a backslash, a backslash), so a possessive match accepts exactly the same
    strings and gives up in one pass.
    """

    _unescaped_characters_regex = re.compile(r'"(?:[^"\\\n\v\f]++|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*+"')


class MlirParser(Parser):
    """xDSL's parser on ``LinearLexer``, plus MLIR's six-byte hex form of i48 constants,
    MLIR's locations for ops written without one, and positioned errors.

    MLIR gives an op parsed without a trailing ``loc(...)`` the place it was read from,
    ``loc("file.mlir":line:col)``, so that a diagnostic on hand-written text points at
    its line. xDSL leaves it unknown; we do what MLIR does for ``tosa.*`` ops (the ones
    verifiers and passes report on). ``module``/``func.func`` stay as written, so text
    that already carries locations prints back unchanged; where they were read is
    remembered beside the module instead (``ir.diagnostics.parsed_position``).
    """

    def __init__(self, ctx: Context, text: str, name: str = "<unknown>") -> None:
        super().__init__(ctx, "", name)
        self._parser_state = ParserState(LinearLexer(Input(text, name)))
        self._file = StringAttr(name)
        self._line_starts: list[int] | None = None
        self._location_end = -1
        self._line_cache = LineCache(lambda t: MlirParser(ctx, t))
        self._literal_bits: list[int | None] = []

    def parse_optional_location(self) -> LocationAttr | None:
        location = super().parse_optional_location()
        if location is not None:
            self._location_end = self.pos
        return location

    def parse_operation(self):
        start = self.pos
        try:
            op = self._parse_operation(start)
        except ParseError as err:
            raise self._named(start, err) from None
        except Exception as err:
            raise self._named(start, self._error_at_op(start, err)) from None
        line, column = self._line_column(start)
        remember_position(op, self._file.data, line, column)
        return op

    def _parse_operation(self, start: int):
        op = None
        if self._current_token.kind == MLIRTokenKind.PERCENT_IDENT:
            op = parse_op_line(self, self._line_cache)  # our printer's lines, fast
        if op is None:
            op = super().parse_operation()
        written = self._location_end == self.pos  # the op's text ended with loc(...)
        if not written and isinstance(op.location, UnknownLoc) and op.name.startswith("tosa."):
            line, column = self._line_column(start)
            op.location = FileLineColLoc(self._file, IntAttr(line), IntAttr(column))
        return op

    def _error_at_op(self, start: int, err: Exception) -> ParseError:
        """A library exception raised while reading the op at ``start``, as a parse
        error where the parser stopped."""
        return ParseError(Span(start, max(start + 1, self.pos), self.lexer.input), _message(err))

    def _named(self, start: int, err: ParseError) -> ParseError:
        """``err`` naming the innermost op it happened in (once: the ops around it
        leave the name alone)."""
        if getattr(err, _OP_NAMED, False):
            return err
        named = _OP_NAME.match(self.lexer.input.content, start)
        op_name = named and self._full_name(named[1])
        if op_name and not err.msg.startswith(f"'{op_name}'"):
            err.msg = f"'{op_name}' op: {_said(err)}"
        setattr(err, _OP_NAMED, True)  # a mark on this instance: ParseError has no such field
        return err

    def _full_name(self, written: str) -> str:
        """``return`` as the op it is, ``func.return`` (custom syntax drops the dialect
        inside a function)."""
        if "." in written:
            return written
        op_cls = self.ctx.get_optional_op(f"func.{written}") or self.ctx.get_optional_op(
            f"builtin.{written}"
        )
        return op_cls.name if op_cls is not None else written

    def _line_column(self, offset: int) -> tuple[int, int]:
        """1-based, as MLIR counts; newline offsets found once per text (bisect, not a
        scan per op: a 10k-op file stays linear)."""
        if self._line_starts is None:
            text = self.lexer.input.content
            self._line_starts = [0]
            found = text.find("\n")
            while found != -1:
                self._line_starts.append(found + 1)
                found = text.find("\n", found + 1)
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def _parse_optional_integer_or_float_type(self):
        """xDSL's, refusing what MLIR refuses: an integer wider than 16777215 bits
        (xDSL would compute with 2**width, and ``i2147483648`` took half a minute)."""
        if self._current_token.kind == MLIRTokenKind.BARE_IDENT:
            found = self._builtin_integer_type_regex.match(self._current_token.text)
            if found is not None and int(found[1]) > MAX_INTEGER_WIDTH:
                self.raise_error(f"integer bitwidth is limited to {MAX_INTEGER_WIDTH} bits")
        return super()._parse_optional_integer_or_float_type()

    def _parse_dense_literal_type(self):
        """xDSL's check (``ir.speedups.dense_literal``), and a bound on what a splat may
        expand to: xDSL expands ``dense<0> : tensor<NxT>`` into a list of N Python ints,
        so a mistyped shape would take minutes and all memory."""
        type = parse_dense_literal_type(self, super()._parse_dense_literal_type)
        count = math.prod(type.get_shape())
        if count > MAX_SPLAT_ELEMENTS and count > len(self.lexer.input.content):
            self.raise_error(
                f"dense literal of {count} elements: more than a splat expands to "
                f"({MAX_SPLAT_ELEMENTS}) and more than the text holds"
            )
        return type

    def parse_dense_int_or_fp_elements_attr(self, type):
        start = self.pos
        try:
            found = self._parse_i48_hex(type, start)
            if found is not None:
                return found
            self._literal_bits = []
            attr = super().parse_dense_int_or_fp_elements_attr(type)
            return _with_float_bits(attr, self._literal_bits)
        except ParseError:
            raise
        except Exception as err:
            raise ParseError(
                Span(start, max(start + 1, self.pos), self.lexer.input), _message(err)
            ) from None

    def _parse_tensor_literal_element(self):
        """Notes each literal's hex bit pattern (None for decimals): MLIR reads a hex
        literal of a float tensor as the element's bits (``0x7F`` is f8E4M3FN's NaN,
        ``0xFF800000`` f32's -inf), xDSL as an integer value."""
        element = super()._parse_tensor_literal_element()
        text = self.lexer.input.content[element.span.start : element.span.end]
        value = element.value
        self._literal_bits.append(
            value if text[:2].lower() == "0x" and isinstance(value, int) else None
        )
        return element

    def _parse_i48_hex(self, type: RankedStructure[AnyDenseElement] | None, start: int):
        """MLIR's six-byte hex form of an i48 constant, or None (nothing consumed)."""
        self.parse_punctuation("<", " in dense attribute")
        hex_text = self.parse_optional_str_literal()
        if hex_text is not None and self.parse_optional_punctuation(">") is not None:
            parsed_type = type
            if parsed_type is None and self.parse_optional_punctuation(":") is not None:
                parsed_type = self._parse_dense_literal_type()
            if parsed_type is not None and is_i48(parsed_type.element_type):
                count = math.prod(parsed_type.get_shape())
                try:
                    data = i48_from_mlir_hex(bytes.fromhex(hex_text[2:]), count)
                except ValueError:
                    self.raise_error("Hex string in denseAttr is invalid", start, self.pos)
                if data is not None:
                    return DenseIntOrFPElementsAttr(parsed_type, BytesAttr(data))
        self._resume_from(start)
        return None


def _with_float_bits(
    attr: DenseIntOrFPElementsAttr, literal_bits: list
) -> DenseIntOrFPElementsAttr:
    """``attr`` with the hex literals of a float tensor stored as bit patterns."""
    element = attr.type.element_type
    if not isinstance(element, AnyFloat) or not any(b is not None for b in literal_bits):
        return attr
    raw = np.array(flat_storage(attr))
    raw = raw.view(f"<u{raw.itemsize}")
    if len(literal_bits) == 1:  # a splat
        raw[:] = literal_bits[0]
    else:
        for i, bits in enumerate(literal_bits):
            if bits is not None:
                raw[i] = bits
    return DenseIntOrFPElementsAttr(attr.type, BytesAttr(raw.tobytes()))


def _said(err: ParseError) -> str:
    """xDSL's message; some are only the context (``" in block definition"``, the
    ``context_msg`` of a token it expected): then say what was found instead."""
    message = err.msg.strip().replace("{first_char}", f"'{err.span.text[:1]}'")  # xDSL's typo
    if message and not err.msg.startswith(" "):
        return message
    found = err.span.text.strip()
    what = f"unexpected '{found[:40]}'" if found else "unexpected end of input"
    return f"{what} {message}".strip()


def _message(err: BaseException) -> str:
    """An exception's first line, or its type when it has no message (MemoryError)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def make_context() -> Context:
    """A context with builtin, func and our ``tosa`` (not xDSL's)."""
    from xdsl.dialects.builtin import Builtin
    from xdsl.dialects.func import Func

    from ir.dialects.tosa_ext import TOSA

    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Func)
    ctx.load_dialect(TOSA)
    return ctx


def parse_module(text: str, *, name: str = "<text>", verify: bool = True) -> ModuleOp:
    """Parse MLIR text into a module and verify its structure.

    Raises ``IRParseError`` whose first line is ``name:line:col: message`` for bad
    syntax, a value the type cannot hold, or a failed structural verifier.
    """
    parser = None
    try:
        parser = MlirParser(make_context(), text, name)  # lexes the first token
        module = parser.parse_module()
    except ParseError as err:
        # ParseError also serves xDSL's bytecode reader; MlirParser reads text, so its span is
        # a Span[str]
        raise IRParseError(_format(cast(Span[str], err.span), _said(err))) from None
    except Exception as err:
        span = parser._current_token.span if parser is not None else Span(0, 0, Input(text, name))
        raise IRParseError(_format(span, _message(err))) from None
    if verify:
        _verify(module, name)
    return module


def _verify(module: ModuleOp, name: str) -> None:
    """xDSL's verifier; a failure is placed at the first op that fails its own checks
    (not its nested ops'), where the parser read it."""
    try:
        module.verify()
        return
    except Exception as err:
        whole = err
    for op, err in failing_ops(module, Exception):
        raise IRParseError(_at_op(op, _message(err), name)) from None
    raise IRParseError(_at_op(module, _message(whole), name)) from None


def _at_op(op: Operation, message: str, name: str) -> str:
    """``file:line:col: 'op' message`` at where ``op`` was read, naming it unless the
    message already starts with its name."""
    if not message.startswith(f"'{op.name}'"):
        message = f"'{op.name}' op: {message}"
    position = parsed_position(op)
    return f"{format_place(position or (name, 1, 1))}: {message}"


def _format(span: Span[str], message: str) -> str:
    """``file:line:col: message``, then the source line (cut around the column when
    it is long: a hex constant's line can be megabytes) and a caret under the column."""
    location = span.get_location()
    text = span.input.content
    line_start = span.input.get_start_of_line(span.start)
    line_end = text.find("\n", span.start)
    line_end = len(text) if line_end < 0 else line_end
    column = span.start - line_start
    cut = max(0, column - _CONTEXT)
    shown = text[line_start + cut : min(line_end, line_start + column + _CONTEXT)]
    caret = " " * (column - cut) + "^"
    return f"{location.file}:{location.line}:{location.col}: {message}\n{shown}\n{caret}"


__all__ = ["IRParseError", "LinearLexer", "MlirParser", "make_context", "parse_module"]
