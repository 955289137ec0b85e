"""Tensor types printed once per printer.

Replaces: xDSL's ``Printer.print_attribute`` on every tensor type: a module repeats a few
dozen types thousands of times (each op prints its operand and result types) and xDSL
prints each anew, parameter by parameter. Here the text of a tensor type without an
encoding is kept by the type's identity for one printer's life. Exact: the text is what
a plain xDSL ``Printer`` prints for that type (a tensor type's text has no SSA names or
other printer state in it), and the type is held, so its id stays its own. Off with
``TOSA_IR_NO_SPEEDUPS=1`` (``text`` answers None: the caller prints as xDSL does).
"""

from __future__ import annotations

import io

from xdsl.dialects.builtin import NoneAttr, TensorType
from xdsl.ir import Attribute
from xdsl.printer import Printer

from ir.speedups import ENABLED


class TypeTexts:
    """id(type) -> (type, its text), for one printer."""

    def __init__(self) -> None:
        self._texts: dict[int, tuple[Attribute, str]] = {}

    def text(self, attribute: Attribute) -> str | None:
        """The text of a tensor type without encoding; None for anything else, or when
        the speed-ups are off."""
        if (
            not ENABLED
            or not isinstance(attribute, TensorType)
            or not isinstance(attribute.encoding, NoneAttr)
        ):
            return None
        known = self._texts.get(id(attribute))
        if known is None:
            out = io.StringIO()
            Printer(stream=out).print_attribute(attribute)
            known = self._texts[id(attribute)] = (attribute, out.getvalue())
        return known[1]


__all__ = ["TypeTexts"]
