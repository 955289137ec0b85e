"""The inside: a TOSA 1.0 IR on xDSL, readable without torch or executorch.

- ``make_context()``: an xDSL context with every dialect the project uses;
- ``parse_module(text)``: MLIR text (ours or ``tosa-opt``'s) to a verified module;
- ``print_module(module, elide_constants=...)``: MLIR's own text.
"""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects.builtin import Builtin, ModuleOp
from xdsl.dialects.func import Func
from xdsl.parser import Parser
from xdsl.utils.exceptions import ParseError, VerifyException

from ir.dialects.tosa_ext import TOSA
from ir.printing import print_module


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
        module = Parser(make_context(), text, name).parse_module()
    except ParseError as err:
        raise IRParseError(str(err)) from None
    if verify:
        try:
            module.verify()
        except VerifyException as err:
            raise IRParseError(f"{name}: {err}") from None
    return module


__all__ = ["make_context", "parse_module", "print_module", "IRParseError"]
