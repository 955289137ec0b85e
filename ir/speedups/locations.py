"""Op locations to and from text without a printer or parser per op.

A flatbuffer stores each operator's location as text (``tosa_flatbuffer``). Nearly all
of them have one of three forms, ``loc("file":line:col)``,
``loc("name"("file":line:col))`` and ``loc("name")`` (what our FX import and MLIR write:
a name without a source line for the constants and parameters), with plain strings.

- ``plain_location_text`` replaces: an xDSL ``Printer`` per op to print its location
  (most of the time of writing the operators). Exact: for strings of printable ASCII
  without ``"`` or ``\\`` xDSL prints the characters as they are between quotes, and the
  integers in decimal; any other location or string answers None and xDSL prints it.
- ``plain_location`` replaces: an xDSL parser per op to read it back (most of the time
  of reading a graph). Exact: the same three forms with no escapes in their strings, which
  the parser reads as the characters between the quotes; anything else answers None and
  the parser reads it.

Off with ``TOSA_IR_NO_SPEEDUPS=1``: both answer None, so xDSL prints and parses every
location.
"""

from __future__ import annotations

import re

from xdsl.dialects.builtin import (
    FileLineColLoc,
    IntAttr,
    LocationAttr,
    NameLoc,
    NoneAttr,
    StringAttr,
)
from xdsl.ir import Attribute

from ir.speedups import ENABLED

#: a string xDSL prints as is between quotes: printable ASCII but ``"`` and ``\``
_PLAIN_STRING = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
#: the three forms, plain strings only (escapes go to the parser)
_FILE_LINE_COL = r'"([^"\\]*)":(\d+):(\d+)'
_PLAIN_LOCATION = re.compile(rf'loc\((?:{_FILE_LINE_COL}|"([^"\\]*)"(?:\({_FILE_LINE_COL}\))?)\)')


def plain_location_text(location: Attribute) -> str | None:
    """``loc("file":line:col)`` / ``loc("name"("file":line:col))`` / ``loc("name")`` as
    xDSL prints them; None for any other location, a string xDSL would escape, or the
    speed-ups off."""
    if not ENABLED:
        return None
    name = None
    if isinstance(location, NameLoc):
        name, location = location.desc.data, location.location
        if _PLAIN_STRING.fullmatch(name) is None:
            return None
        if isinstance(location, NoneAttr):  # xDSL prints a name without a child alone
            return f'loc("{name}")'
    if (
        not isinstance(location, FileLineColLoc)
        or _PLAIN_STRING.fullmatch(location.filename.data) is None
    ):
        return None
    where = f'"{location.filename.data}":{location.line.data}:{location.column.data}'
    return f"loc({where})" if name is None else f'loc("{name}"({where}))'


def plain_location(text: str) -> LocationAttr | None:
    """The location ``text`` of one of the three plain forms reads as; None for any other
    text or the speed-ups off."""
    if not ENABLED:
        return None
    plain = _PLAIN_LOCATION.fullmatch(text)
    if plain is None:
        return None
    file, line, column, name, *inner = plain.groups()
    if file is not None:
        return FileLineColLoc(StringAttr(file), IntAttr(int(line)), IntAttr(int(column)))
    inner_file, inner_line, inner_column = inner
    if inner_file is None:
        return NameLoc(StringAttr(name), NoneAttr())
    where = FileLineColLoc(
        StringAttr(inner_file), IntAttr(int(inner_line)), IntAttr(int(inner_column))
    )
    return NameLoc(StringAttr(name), where)


__all__ = ["plain_location", "plain_location_text"]
