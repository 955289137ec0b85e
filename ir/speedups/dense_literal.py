"""The type of a dense literal checked with a constraint built once.

Replaces: xDSL 0.74's ``AttrParser._parse_dense_literal_type``, which builds
``base(RankedStructure[IntegerType | IndexType | AnyFloat | ComplexType])`` anew for every
dense attribute it reads: about 5 ms each, most of the time of parsing a module (stock
xDSL took 28 s for a 10k-op module). Exact: the same constraint, the same checks in the
same order, the same messages; only the constraint object is shared. Off with
``TOSA_IR_NO_SPEEDUPS=1`` (xDSL's method runs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    AnyFloat,
    ComplexType,
    IndexType,
    IntegerType,
    RankedStructure,
)
from xdsl.irdl import base
from xdsl.parser import Parser

from ir.speedups import ENABLED

#: what xDSL's ``_parse_dense_literal_type`` requires of a dense literal's type
_DENSE_LITERAL_TYPE = base(RankedStructure[IntegerType | IndexType | AnyFloat | ComplexType])


#: the types a dense literal may have (xDSL's ``_parse_dense_literal_type`` return type)
DenseLiteralType: TypeAlias = RankedStructure[IntegerType | IndexType | AnyFloat | ComplexType]


def parse_dense_literal_type(
    parser: Parser, xdsl_path: Callable[[], DenseLiteralType]
) -> DenseLiteralType:
    """The literal's type as ``xdsl_path`` (xDSL's own method, bound to ``parser``)
    reads and checks it."""
    if not ENABLED:
        return xdsl_path()
    type = parser.expect(parser.parse_optional_type, "Dense attribute must be typed!")
    if not _DENSE_LITERAL_TYPE.verifies(type):
        parser.raise_error(
            "Expected memref, vector or tensor type of integer, index, float, or complex type"
        )
    if any(dim == DYNAMIC_INDEX for dim in type.get_shape()):
        parser.raise_error("Dense literal attribute should have a static shape.")
    return type


__all__ = ["parse_dense_literal_type"]
