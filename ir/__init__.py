"""The inside: a TOSA 1.0 IR on xDSL, readable without torch or executorch.

- ``make_context()``: an xDSL context with every dialect the project uses;
- ``parse_module(text)``: MLIR text (ours or ``tosa-opt``'s) to a verified module, or
  one ``IRParseError`` at ``file:line:col`` (``ir.parsing``);
- ``print_module(module, elide_constants=...)``: MLIR's own text.
"""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp  # noqa: F401  (``ir.ModuleOp`` in annotations)

# installed on import: verification remembered on the dialect's ops (identity), xDSL's
# structure checks in fewer steps per op (structure)
import ir.speedups.identity
import ir.speedups.structure  # noqa: F401
from ir.parsing import IRParseError, MlirParser, make_context, parse_module
from ir.printing import print_module

__all__ = ["IRParseError", "MlirParser", "make_context", "parse_module", "print_module"]
