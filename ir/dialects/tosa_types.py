"""The ``tosa`` dialect's own type and enum attributes: ``!tosa.shape<N>`` and the enums
(``nan_mode``, ``rounding_mode``, ``resize_mode``, ``block_size``).

They sit apart from the op definitions (``ir.dialects.tosa_ext``, which registers them
in the ``TOSA`` dialect and re-exports them) because the spec-structure checks
(``ir.dialects.spec_check``) need ``ShapeType`` and the op definitions need those checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, cast

from xdsl.dialects.builtin import IntAttr
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.str_enum import StrEnum

# --------------------------------------------------------------------------- types


@irdl_attr_definition
class ShapeType(ParametrizedAttribute, TypeAttribute):
    """``!tosa.shape<N>``: a rank-N shape value, the type of ``tosa.const_shape``."""

    name = "tosa.shape"
    rank: IntAttr

    def __init__(self, rank: int | IntAttr):
        super().__init__(IntAttr(rank) if isinstance(rank, int) else rank)

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(f"<{self.rank.data}>")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            return (IntAttr(parser.parse_integer(allow_boolean=False, allow_negative=False)),)


# --------------------------------------------------------------------------- enums


class NanMode(StrEnum):
    PROPAGATE = "PROPAGATE"
    IGNORE = "IGNORE"


class RoundingMode(StrEnum):
    SINGLE_ROUND = "SINGLE_ROUND"
    INEXACT_ROUND = "INEXACT_ROUND"
    DOUBLE_ROUND = "DOUBLE_ROUND"


class ResizeMode(StrEnum):
    NEAREST_NEIGHBOR = "NEAREST_NEIGHBOR"
    BILINEAR = "BILINEAR"


class BlockSize(StrEnum):
    """TOSA 1.1 ``block_size_t``: the elements one block scale covers."""

    BLOCK_SIZE_1 = "BLOCK_SIZE_1"
    BLOCK_SIZE_32 = "BLOCK_SIZE_32"


class _AngleEnum:
    """Generic form ``#tosa.nan_mode<IGNORE>``; custom op forms print the bare value."""

    # as ``EnumAttribute``, the other base of each user, declares it (its ``data`` is typed
    # by each user's enum, so it is read through ``EnumAttribute`` below)
    enum_type: ClassVar[type[StrEnum]]

    def print_parameter(self, printer: Printer) -> None:
        printer.print_string(f"<{cast(EnumAttribute, self).data}>")

    @classmethod
    def parse_parameter(cls, parser: AttrParser):
        with parser.in_angle_brackets():
            return parser.parse_str_enum(cls.enum_type)


@irdl_attr_definition
class NanModeAttr(_AngleEnum, EnumAttribute[NanMode]):
    name = "tosa.nan_mode"


@irdl_attr_definition
class RoundingModeAttr(_AngleEnum, EnumAttribute[RoundingMode]):
    name = "tosa.rounding_mode"


@irdl_attr_definition
class ResizeModeAttr(_AngleEnum, EnumAttribute[ResizeMode]):
    name = "tosa.resize_mode"


@irdl_attr_definition
class BlockSizeAttr(_AngleEnum, EnumAttribute[BlockSize]):
    name = "tosa.block_size"


ENUM_ATTRS: tuple[type[EnumAttribute], ...] = (
    NanModeAttr,
    RoundingModeAttr,
    ResizeModeAttr,
    BlockSizeAttr,
)


__all__ = [
    "ENUM_ATTRS",
    "BlockSize",
    "BlockSizeAttr",
    "NanMode",
    "NanModeAttr",
    "ResizeMode",
    "ResizeModeAttr",
    "RoundingMode",
    "RoundingModeAttr",
    "ShapeType",
]
