"""``ir.speedups.locations``: the plain location forms written and read without xDSL's
printer and parser give exactly what they give, for each form, and defer to them for
anything else (a string that needs escapes)."""

from __future__ import annotations

import io

import pytest
from xdsl.dialects.builtin import FileLineColLoc, IntAttr, NameLoc, NoneAttr, StringAttr
from xdsl.printer import Printer

import ir
from ir.parsing import MlirParser
from ir.speedups import ENABLED
from ir.speedups.locations import plain_location, plain_location_text

LOCATIONS = {
    "file:line:col": FileLineColLoc(StringAttr("model.py"), IntAttr(12), IntAttr(4)),
    "name(file:line:col)": NameLoc(
        StringAttr("aten_convolution_default"),
        FileLineColLoc(StringAttr("drivers/example.py"), IntAttr(59), IntAttr(0)),
    ),
    "name alone": NameLoc(StringAttr("p_conv_weight"), NoneAttr()),
}


def _xdsl_text(location) -> str:
    out = io.StringIO()
    Printer(stream=out).print_attribute(location)
    return out.getvalue()


def _xdsl_read(text: str):
    return MlirParser(ir.make_context(), text).parse_optional_location()


@pytest.mark.parametrize("form", list(LOCATIONS))
def test_plain_form_is_written_and_read_as_xdsl_does(form):
    assert ENABLED, "the speed-ups are off in this process"
    location = LOCATIONS[form]
    text = _xdsl_text(location)
    assert plain_location_text(location) == text
    assert plain_location(text) == _xdsl_read(text) == location


@pytest.mark.parametrize("name", ['with "quote"', "back\\slash", "tab\there"])
def test_strings_xdsl_escapes_are_left_to_xdsl(name):
    location = NameLoc(StringAttr(name), NoneAttr())
    assert plain_location_text(location) is None
    assert plain_location(_xdsl_text(location)) is None
