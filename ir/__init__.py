"""The inside: a TOSA 1.0 IR on xDSL, readable without torch or executorch.

- ``make_context()``: an xDSL context with every dialect the project uses;
- ``parse_module(text)``: MLIR text (ours or ``tosa-opt``'s) to a verified module;
- ``print_module(module, elide_constants=...)``: MLIR's own text.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from xdsl.context import Context
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    AnyFloat,
    Builtin,
    BytesAttr,
    ComplexType,
    DenseIntOrFPElementsAttr,
    FileLineColLoc,
    IndexType,
    IntAttr,
    IntegerType,
    LocationAttr,
    ModuleOp,
    RankedStructure,
    StringAttr,
    UnknownLoc,
)
from xdsl.dialects.func import Func
from xdsl.irdl import base
from xdsl.parser import Parser
from xdsl.utils.exceptions import ParseError, VerifyException
from xdsl.utils.mlir_lexer import MLIRTokenKind

from ir.builders import flat_storage
from ir.dense_text import i48_from_mlir_hex, is_i48
from ir.dialects.tosa_ext import TOSA
from ir.fast_parse import LineCache, parse_op_line
from ir.printing import print_module


#: what xDSL's ``_parse_dense_literal_type`` requires of a dense literal's type
_DENSE_LITERAL_TYPE = base(RankedStructure[IntegerType | IndexType | AnyFloat | ComplexType])


class MlirParser(Parser):
    """xDSL's parser plus MLIR's six-byte hex form of i48 constants, and MLIR's
    locations for ops written without one.

    MLIR gives an op parsed without a trailing ``loc(...)`` the place it was read from,
    ``loc("file.mlir":line:col)``, so that a diagnostic on hand-written text points at
    its line. xDSL leaves it unknown; we do what MLIR does for ``tosa.*`` ops (the ones
    verifiers and passes report on). ``module``/``func.func`` stay as written, so text
    that already carries locations prints back unchanged.
    """

    def __init__(self, ctx: Context, text: str, name: str = "<unknown>") -> None:
        super().__init__(ctx, text, name)
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

    def _parse_dense_literal_type(self):
        """xDSL's check, with its constraint built once: xDSL rebuilds it for every
        dense attribute (about 5 ms each, most of the time of parsing a module)."""
        type = self.expect(self.parse_optional_type, "Dense attribute must be typed!")
        if not _DENSE_LITERAL_TYPE.verifies(type):
            self.raise_error(
                "Expected memref, vector or tensor type of integer, index, float, or complex type"
            )
        if any(dim == DYNAMIC_INDEX for dim in list(type.get_shape())):
            self.raise_error("Dense literal attribute should have a static shape.")
        return type

    def parse_dense_int_or_fp_elements_attr(self, type):
        start = self.pos
        self.parse_punctuation("<", " in dense attribute")
        hex_text = self.parse_optional_str_literal()
        if hex_text is not None and self.parse_optional_punctuation(">") is not None:
            parsed_type = type
            if parsed_type is None and self.parse_optional_punctuation(":") is not None:
                parsed_type = self._parse_dense_literal_type()
            element = getattr(parsed_type, "element_type", None)
            if element is not None and is_i48(element):
                count = math.prod(parsed_type.get_shape())
                data = i48_from_mlir_hex(bytes.fromhex(hex_text[2:]), count)
                if data is not None:
                    return DenseIntOrFPElementsAttr(parsed_type, BytesAttr(data))
        self._resume_from(start)
        self._literal_bits = []
        attr = super().parse_dense_int_or_fp_elements_attr(type)
        return _with_float_bits(attr, self._literal_bits)

    def _parse_tensor_literal_element(self):
        """Notes each literal's hex bit pattern (None for decimals): MLIR reads a hex
        literal of a float tensor as the element's bits (``0x7F`` is f8E4M3FN's NaN,
        ``0xFF800000`` f32's -inf), xDSL as an integer value."""
        element = super()._parse_tensor_literal_element()
        text = self.lexer.input.content[element.span.start : element.span.end]
        hex_bits = text[:2].lower() == "0x" and isinstance(element.value, int)
        self._literal_bits.append(element.value if hex_bits else None)
        return element


def _with_float_bits(attr: DenseIntOrFPElementsAttr, literal_bits: list) -> DenseIntOrFPElementsAttr:
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


class IRParseError(ValueError):
    """Text that is not a valid module; the message carries file:line:col."""


def make_context() -> Context:
    """A context with builtin, func and our ``tosa`` (not xDSL's)."""
    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Func)
    ctx.load_dialect(TOSA)
    return ctx


def parse_module(text: str, *, name: str = "<text>", verify: bool = True) -> ModuleOp:
    """Parse MLIR text into a module and verify its structure.

    Raises ``IRParseError`` naming ``name:line:col`` for bad syntax or a failed verifier.
    """
    try:
        module = MlirParser(make_context(), text, name).parse_module()
    except ParseError as err:
        raise IRParseError(str(err)) from None
    if verify:
        try:
            module.verify()
        except VerifyException as err:
            raise IRParseError(f"{_failing_op_source(module) or name}: {err}") from None
    return module


def _failing_op_source(module: ModuleOp) -> str | None:
    """``file:line`` of the first op that fails its own verifier (not its nested ops'),
    from its location: MLIR's, or the one the parser gave it."""
    from ir.diagnostics import source_of

    for op in module.walk():
        try:
            op.verify(verify_nested_ops=False)
        except VerifyException:
            source = source_of(op.location)
            return f"{source[0]}:{source[1]}" if source else None
    return None


__all__ = ["make_context", "parse_module", "print_module", "IRParseError"]
