"""The TOSA 1.0 dialect, named ``tosa``, with MLIR's own textual syntax.

It replaces xDSL's partial ``xdsl.dialects.tosa`` (two dialects of one name cannot be
loaded together). It holds all 75 operators of TOSA 1.0.2 plus MLIR's ``tosa.yield``, the
``!tosa.shape<N>`` type and the enum attributes. ``tosa.rescale`` carries the TOSA 1.0
``input_unsigned``/``output_unsigned`` flags: the only place unsigned meaning survives once
a graph with uint8 IO is made signless.

Printing follows ``tosa-opt`` exactly: ``operands {attrs} : (types) -> types`` with the
attributes sorted, defaults elided and enums bare (``rounding_mode = SINGLE_ROUND``);
``tosa.const`` is printed in generic form, as MLIR does.

Each op verifies its *structure* only: operand and result counts, ranks the spec fixes,
and that operands sharing one spec type variable (``in_t``, ``out_t`` ...) share an
element type. Those facts come from the spec's own table (``ir/spec``), not hand lists.
Profile, level and ERROR_IF rules live in ``ir/verify``.
"""

from __future__ import annotations

import io

from collections.abc import Sequence
from functools import cache
from typing import ClassVar

from xdsl.dialects.builtin import (
    AnyTensorType,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    IntAttr,
    IntegerAttr,
    StringAttr,
    TensorType,
    UnitAttr,
    i32,
    i64,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import (
    Attribute,
    Dialect,
    ParametrizedAttribute,
    Region,
    SSAValue,
    TypeAttribute,
)
from xdsl.irdl import (
    AnyAttr,
    IRDLOperation,
    OpDef,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import AttrParser, Parser
from xdsl.printer import Printer
from xdsl.traits import IsTerminator, Pure, SymbolOpInterface
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum

from ir.spec import CONCRETE_ELEMENT_TYPES, operator_spec

#: MLIR's ``DenseI64ArrayAttr`` (kernel, stride, pad, dilation, out_pad) and
#: ``DenseI32ArrayAttr`` (perms): an ``array<i48: ...>`` typed by hand is refused at parse
#: time instead of reaching verifiers that read its bytes as something else
I64_ARRAY = DenseArrayBase.constr(i64)
I32_ARRAY = DenseArrayBase.constr(i32)

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

    def print_parameter(self, printer: Printer) -> None:
        printer.print_string(f"<{self.data}>")

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


ENUM_ATTRS: tuple[type[EnumAttribute], ...] = (NanModeAttr, RoundingModeAttr, ResizeModeAttr, BlockSizeAttr)

# --------------------------------------------------------------------------- helpers

def _element_type_name(t: Attribute) -> str:
    return _type_text(t.element_type) if isinstance(t, TensorType) else ""


@cache
def _type_text(t: Attribute) -> str:
    """A type as MLIR text, for messages and element-type comparison."""
    out = io.StringIO()
    Printer(stream=out).print_attribute(t)
    return out.getvalue()


def _fail(op: IRDLOperation, rule: str, message: str) -> None:
    raise VerifyException(f"'{op.name}' op [{rule}] {message}")


# --------------------------------------------------------------------------- base op


class TosaOp(IRDLOperation):
    """Base of every TOSA op: MLIR's ``operands attr-dict : functional-type`` syntax and
    the spec-table structural verifier."""

    #: enum properties, printed and parsed bare in the custom form (``nan_mode = IGNORE``)
    ENUM_PROPS: ClassVar[dict[str, type[EnumAttribute]]] = {}

    @classmethod
    def spec_name(cls) -> str:
        return cls.name.split(".", 1)[1].upper()

    # -- printing ----------------------------------------------------------------
    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_list(self.operands, printer.print_operand)
        print_attr_dict(printer, self)
        printer.print_string(" : ")
        printer.print_function_type(self.operand_types, self.result_types)

    @classmethod
    def parse(cls, parser: Parser) -> TosaOp:
        pos = parser.pos
        operands = parse_operand_list(parser)
        props, attrs = parse_attr_dict(parser, cls)
        parser.parse_punctuation(":")
        ftype = parser.parse_function_type()
        values = parser.resolve_operands(operands, ftype.inputs.data, pos)
        return cls.create(
            operands=values,
            result_types=ftype.outputs.data,
            properties=props,
            attributes=attrs,
        )

    # -- verification ------------------------------------------------------------
    def verify(self, verify_nested_ops: bool = True) -> None:
        """xDSL's IRDL checks (operand counts, property kinds) raise bare messages; name
        the op and the rule family so every structural error reads the same way."""
        try:
            super().verify(verify_nested_ops=False)
        except VerifyException as err:
            if str(err).startswith(f"'{self.name}' op"):
                raise
            raise VerifyException(f"'{self.name}' op [structure] {err}") from err
        if verify_nested_ops:
            for region in self.regions:
                region.verify()

    def verify_(self) -> None:
        spec = operator_spec(self.spec_name())
        if spec is None:
            return
        verify_against_spec(self, spec)
        self.verify_structure()

    def verify_structure(self) -> None:
        """Family-specific structural rules; the spec-table checks already ran."""


def _default_elided(op_def: OpDef, name: str, value: Attribute) -> bool:
    pdef = op_def.properties.get(name)
    return pdef is not None and pdef.default_value is not None and pdef.default_value == value


def print_attr_dict(
    printer: Printer, op: IRDLOperation, skip: Sequence[str] = (), keyword: str = ""
) -> None:
    """MLIR's attr-dict: properties and attributes merged, sorted by name, default-valued
    properties elided, enum values bare; ``keyword="attributes"`` gives MLIR's
    attr-dict-with-keyword."""
    op_def = op.get_irdl_definition()
    entries = {**op.attributes, **op.properties}
    names = sorted(
        n for n, v in entries.items() if n not in skip and not _default_elided(op_def, n, v)
    )
    if not names:
        return
    if keyword:
        printer.print_string(f" {keyword}")
    printer.print_string(" {")
    for i, name in enumerate(names):
        if i:
            printer.print_string(", ")
        value = entries[name]
        printer.print_identifier_or_string_literal(name)
        if isinstance(value, UnitAttr):
            continue
        printer.print_string(" = ")
        if isinstance(value, EnumAttribute) and value.name.startswith("tosa."):
            printer.print_string(str(value.data))
        else:
            printer.print_attribute(value)
    printer.print_string("}")


def parse_operand_list(parser: Parser):
    first = parser.parse_optional_unresolved_operand()
    if first is None:
        return []
    operands = [first]
    while parser.parse_optional_punctuation(",") is not None:
        operands.append(parser.parse_unresolved_operand())
    return operands


def parse_attr_dict(
    parser: Parser, op_cls: type[IRDLOperation]
) -> tuple[dict[str, Attribute], dict[str, Attribute]]:
    """Parse ``{name = value, ...}`` accepting bare enum values, and split it into
    properties (names the op defines) and discardable attributes."""
    op_def = op_cls.get_irdl_definition()
    entries: dict[str, Attribute] = {}
    if parser.parse_optional_punctuation("{") is None:
        return {}, {}
    if parser.parse_optional_punctuation("}") is None:
        while True:
            name = parser.parse_optional_identifier() or parser.parse_str_literal()
            if parser.parse_optional_punctuation("=") is None:
                entries[name] = UnitAttr()
            else:
                entries[name] = _parse_attr_value(parser, op_cls, name)
            if parser.parse_optional_punctuation(",") is None:
                break
        parser.parse_punctuation("}")
    props = {n: v for n, v in entries.items() if n in op_def.properties}
    attrs = {n: v for n, v in entries.items() if n not in op_def.properties}
    return props, attrs


def _parse_attr_value(parser: Parser, op_cls: type[IRDLOperation], name: str) -> Attribute:
    enum_cls = getattr(op_cls, "ENUM_PROPS", {}).get(name)
    if enum_cls is not None:
        ident = parser.parse_optional_identifier()
        if ident is not None:
            try:
                return enum_cls(enum_cls.enum_type(ident))
            except ValueError:
                parser.raise_error(
                    f"'{ident}' is not a valid {name}; expected one of "
                    + ", ".join(e.value for e in enum_cls.enum_type)
                )
    return parser.parse_attribute()


def verify_against_spec(op: IRDLOperation, spec: dict) -> None:
    """Ranks the spec fixes and element-type agreement between arguments that share a
    spec type variable, for the op's operands and results in spec order."""
    inputs = [a for a in spec["arguments"] if a["category"] == "input"]
    outputs = [a for a in spec["arguments"] if a["category"] == "output"]
    bound: dict[str, tuple[str, str]] = {}  # type variable -> (element type, argument)
    type_vars = set(spec["type_variables"])
    for args, values, kind in ((inputs, op.operands, "operand"), (outputs, op.results, "result")):
        lists = [a for a in args if a["type"] == "tensor_list_t"]
        if not lists and len(values) != len(args):
            _fail(op, "arity", f"expects {len(args)} {kind}s, got {len(values)}")
        pairs = pair_with_spec(args, values)
        for arg, value in pairs:
            _check_argument(op, arg, value, bound, type_vars)


def pair_with_spec(args: list[dict], values: Sequence[SSAValue]):
    """Match values to spec arguments; a tensor list takes what the others leave."""
    fixed_after = 0
    pairs = []
    i = 0
    for k, arg in enumerate(args):
        if arg["type"] == "tensor_list_t":
            fixed_after = len(args) - k - 1
            take = len(values) - i - fixed_after
            pairs.extend((arg, v) for v in values[i : i + take])
            i += take
        elif i < len(values):
            pairs.append((arg, values[i]))
            i += 1
    return pairs


def _check_argument(op, arg: dict, value: SSAValue, bound: dict, type_vars: set) -> None:
    t = value.type
    name = arg["name"]
    if arg["type"] == "shape_t":
        if not isinstance(t, ShapeType):
            _fail(op, "operand-type", f"{name} must be a !tosa.shape, got {_type_text(t)}")
        return
    if arg["type"] not in ("tensor_t", "tensor_list_t"):
        return
    if not isinstance(t, TensorType):
        _fail(op, "operand-type", f"{name} must be a ranked tensor, got {_type_text(t)}")
    rank = arg["rank"]
    if rank is not None:
        lo, hi = rank
        r = len(t.get_shape())
        if isinstance(lo, int) and r < lo or isinstance(hi, int) and r > hi:
            want = f"rank {lo}" if lo == hi else f"rank in [{lo}, {hi}]"
            _fail(op, "rank", f"{name} must have {want}, got {_type_text(t)}")
    var = arg["element_type"]
    if not var or var == "-":
        return
    elem = _element_type_name(t)
    if var in type_vars:
        if var in bound and bound[var][0] != elem and not _unsigned_side_zero_point(op, name, bound[var][0], elem):
            first_elem, first_name = bound[var]
            _fail(
                op,
                "element-type",
                f"{name} element type {elem} must equal {first_name}'s {first_elem} ({var})",
            )
        bound.setdefault(var, (elem, name))
        return
    concrete = CONCRETE_ELEMENT_TYPES.get(var)
    if concrete is not None and elem != concrete:
        _fail(op, "element-type", f"{name} must have element type {concrete}, got {elem}")


def _unsigned_side_zero_point(op, name: str, side: str, zero_point: str) -> bool:
    """A RESCALE zero point may be signless where its side is unsigned (``ui8`` input,
    ``i8`` input_zp), as MLIR's verifier allows: the byte is the same either way, read
    unsigned because of the flag. Our typed stage writes the ``ui8`` form."""
    return (
        op.name == "tosa.rescale"
        and name in ("input_zp", "output_zp")
        and side.startswith("ui")
        and zero_point == side[1:]
    )


def _same_rank_broadcast(op: TosaOp, *values: SSAValue, out: SSAValue) -> None:
    shapes = [v.type.get_shape() for v in values]
    out_shape = out.type.get_shape()
    for s in shapes:
        if len(s) != len(out_shape):
            _fail(
                op,
                "broadcast",
                f"operands and result must have the same rank, got {[len(x) for x in shapes]} -> {len(out_shape)}",
            )
    for d, dims in enumerate(zip(*shapes, out_shape)):
        *ins, o = dims
        known = {x for x in ins if x not in (1, -1)}
        if len(known) > 1 or (o not in (-1,) and known and o not in known):
            _fail(op, "broadcast", f"dimension {d} is not broadcast-compatible: {list(dims)}")


# --------------------------------------------------------------------------- families


class ElementwiseUnaryOp(TosaOp):
    input1 = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        if self.input1.type.get_shape() != self.output.type.get_shape():
            _fail(self, "shape", "result shape must equal the input shape")


class ElementwiseBinaryOp(TosaOp):
    input1 = operand_def(AnyTensorType)
    input2 = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        _same_rank_broadcast(self, self.input1, self.input2, out=self.output)


class NanModeBinaryOp(ElementwiseBinaryOp):
    ENUM_PROPS: ClassVar = {"nan_mode": NanModeAttr}
    nan_mode = prop_def(NanModeAttr, default_value=NanModeAttr(NanMode.PROPAGATE))


class ReductionOp(TosaOp):
    input = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    axis = prop_def(IntegerAttr)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        shape = self.input.type.get_shape()
        axis = self.axis.value.data
        if not 0 <= axis < max(len(shape), 1):
            _fail(self, "axis", f"axis {axis} is out of range for rank {len(shape)}")
        out = self.output.type.get_shape()
        if len(out) != len(shape):
            _fail(self, "shape", "result rank must equal the input rank")
        if shape and out[axis] not in (1, -1):
            _fail(self, "shape", f"result dimension {axis} must be 1, got {out[axis]}")


class NanModeReductionOp(ReductionOp):
    ENUM_PROPS: ClassVar = {"nan_mode": NanModeAttr}
    nan_mode = prop_def(NanModeAttr, default_value=NanModeAttr(NanMode.PROPAGATE))


class ConvOpBase(TosaOp):
    """conv2d, conv3d, depthwise_conv2d, transpose_conv2d: input, weight, bias, input_zp,
    weight_zp; the ranks come from the spec table."""

    input = operand_def(AnyTensorType)
    weight = operand_def(AnyTensorType)
    bias = operand_def(AnyTensorType)
    input_zp = operand_def(AnyTensorType)
    weight_zp = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    acc_type = prop_def(TypeAttribute)
    local_bound = opt_prop_def(IntegerAttr)
    stride = prop_def(I64_ARRAY)
    traits = traits_def(Pure())


class ConvOp(ConvOpBase):
    pad = prop_def(I64_ARRAY)
    dilation = prop_def(I64_ARRAY)


# --------------------------------------------------------------------------- tensor ops


@irdl_op_definition
class ArgMaxOp(TosaOp):
    name = "tosa.argmax"
    ENUM_PROPS: ClassVar = {"nan_mode": NanModeAttr}
    input = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    axis = prop_def(IntegerAttr)
    nan_mode = prop_def(NanModeAttr, default_value=NanModeAttr(NanMode.PROPAGATE))
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        shape = self.input.type.get_shape()
        axis = self.axis.value.data
        if not 0 <= axis < len(shape):
            _fail(self, "axis", f"axis {axis} is out of range for rank {len(shape)}")
        if len(self.output.type.get_shape()) != len(shape) - 1:
            _fail(self, "shape", "result rank must be the input rank minus one")


@irdl_op_definition
class AvgPool2dOp(TosaOp):
    name = "tosa.avg_pool2d"
    input = operand_def(AnyTensorType)
    input_zp = operand_def(AnyTensorType)
    output_zp = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    kernel = prop_def(I64_ARRAY)
    stride = prop_def(I64_ARRAY)
    pad = prop_def(I64_ARRAY)
    acc_type = prop_def(TypeAttribute)
    traits = traits_def(Pure())


@irdl_op_definition
class TransposeConv2DOp(ConvOpBase):
    name = "tosa.transpose_conv2d"
    out_pad = prop_def(I64_ARRAY)


@irdl_op_definition
class FFT2dOp(TosaOp):
    name = "tosa.fft2d"
    input_real = operand_def(AnyTensorType)
    input_imag = operand_def(AnyTensorType)
    output_real = result_def(AnyTensorType)
    output_imag = result_def(AnyTensorType)
    inverse = prop_def(IntegerAttr)
    local_bound = opt_prop_def(IntegerAttr)
    traits = traits_def(Pure())
    RESULT_NAMES: ClassVar = ("output_real", "output_imag")


@irdl_op_definition
class MatMulOp(TosaOp):
    name = "tosa.matmul"
    a = operand_def(AnyTensorType)
    b = operand_def(AnyTensorType)
    a_zp = operand_def(AnyTensorType)
    b_zp = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class MaxPool2dOp(TosaOp):
    name = "tosa.max_pool2d"
    ENUM_PROPS: ClassVar = {"nan_mode": NanModeAttr}
    input = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    kernel = prop_def(I64_ARRAY)
    stride = prop_def(I64_ARRAY)
    pad = prop_def(I64_ARRAY)
    nan_mode = prop_def(NanModeAttr, default_value=NanModeAttr(NanMode.PROPAGATE))
    traits = traits_def(Pure())


@irdl_op_definition
class RFFT2dOp(TosaOp):
    name = "tosa.rfft2d"
    input_real = operand_def(AnyTensorType)
    output_real = result_def(AnyTensorType)
    output_imag = result_def(AnyTensorType)
    local_bound = opt_prop_def(IntegerAttr)
    traits = traits_def(Pure())
    RESULT_NAMES: ClassVar = ("output_real", "output_imag")


# --------------------------------------------------------------------------- activation


@irdl_op_definition
class ClampOp(TosaOp):
    name = "tosa.clamp"
    ENUM_PROPS: ClassVar = {"nan_mode": NanModeAttr}
    input = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    min_val = prop_def(AnyAttr())
    max_val = prop_def(AnyAttr())
    nan_mode = prop_def(NanModeAttr, default_value=NanModeAttr(NanMode.PROPAGATE))
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        if self.input.type.get_shape() != self.output.type.get_shape():
            _fail(self, "shape", "result shape must equal the input shape")
        elem = self.input.type.element_type
        for bound in (self.min_val, self.max_val):
            if getattr(bound, "type", None) != elem:
                _fail(
                    self,
                    "attribute-type",
                    f"min_val/max_val must be typed like the input element {_type_text(elem)}",
                )


# --------------------------------------------------------------------------- binary


@irdl_op_definition
class ArithmeticRightShiftOp(ElementwiseBinaryOp):
    name = "tosa.arithmetic_right_shift"
    round = prop_def(IntegerAttr)


@irdl_op_definition
class MulOp(TosaOp):
    name = "tosa.mul"
    input1 = operand_def(AnyTensorType)
    input2 = operand_def(AnyTensorType)
    shift = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        _same_rank_broadcast(self, self.input1, self.input2, out=self.output)


@irdl_op_definition
class TableOp(TosaOp):
    name = "tosa.table"
    input1 = operand_def(AnyTensorType)
    table = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        if self.input1.type.get_shape() != self.output.type.get_shape():
            _fail(self, "shape", "result shape must equal the input shape")


# --------------------------------------------------------------------------- unary


@irdl_op_definition
class NegateOp(TosaOp):
    name = "tosa.negate"
    input1 = operand_def(AnyTensorType)
    input1_zp = operand_def(AnyTensorType)
    output_zp = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        if self.input1.type.get_shape() != self.output.type.get_shape():
            _fail(self, "shape", "result shape must equal the input shape")


@irdl_op_definition
class SelectOp(TosaOp):
    name = "tosa.select"
    input1 = operand_def(AnyTensorType)
    input2 = operand_def(AnyTensorType)
    input3 = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        _same_rank_broadcast(self, self.input1, self.input2, self.input3, out=self.output)


# --------------------------------------------------------------------------- data layout


@irdl_op_definition
class ConcatOp(TosaOp):
    name = "tosa.concat"
    input1 = var_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    axis = prop_def(IntegerAttr)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        if not self.input1:
            _fail(self, "arity", "expects at least one input")
        out = self.output.type.get_shape()
        axis = self.axis.value.data
        if not 0 <= axis < len(out):
            _fail(self, "axis", f"axis {axis} is out of range for rank {len(out)}")
        for v in self.input1:
            if len(v.type.get_shape()) != len(out):
                _fail(self, "rank", "all inputs must have the result's rank")


@irdl_op_definition
class PadOp(TosaOp):
    name = "tosa.pad"
    input1 = operand_def(AnyTensorType)
    padding = operand_def(ShapeType)
    pad_const = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        rank = len(self.input1.type.get_shape())
        if self.padding.type.rank.data != 2 * rank:
            _fail(self, "shape", f"padding must be !tosa.shape<{2 * rank}> for a rank-{rank} input")


@irdl_op_definition
class ReshapeOp(TosaOp):
    name = "tosa.reshape"
    input1 = operand_def(AnyTensorType)
    shape = operand_def(ShapeType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        if self.shape.type.rank.data != len(self.output.type.get_shape()):
            _fail(self, "shape", "shape operand rank must equal the result rank")


@irdl_op_definition
class ReverseOp(TosaOp):
    name = "tosa.reverse"
    input1 = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    axis = prop_def(IntegerAttr)
    traits = traits_def(Pure())


@irdl_op_definition
class SliceOp(TosaOp):
    name = "tosa.slice"
    input1 = operand_def(AnyTensorType)
    start = operand_def(ShapeType)
    size = operand_def(ShapeType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        rank = len(self.input1.type.get_shape())
        for operand in (self.start, self.size):
            if operand.type.rank.data != rank:
                _fail(self, "shape", f"start and size must be !tosa.shape<{rank}>")


@irdl_op_definition
class TileOp(TosaOp):
    name = "tosa.tile"
    input1 = operand_def(AnyTensorType)
    multiples = operand_def(ShapeType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class TransposeOp(TosaOp):
    name = "tosa.transpose"
    input1 = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    perms = prop_def(I32_ARRAY)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        rank = len(self.input1.type.get_shape())
        perms = tuple(self.perms.get_values())
        if sorted(perms) != list(range(rank)):
            _fail(self, "perms", f"perms {list(perms)} is not a permutation of rank {rank}")


# --------------------------------------------------------------------------- gather/scatter


@irdl_op_definition
class GatherOp(TosaOp):
    name = "tosa.gather"
    values = operand_def(AnyTensorType)
    indices = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class ScatterOp(TosaOp):
    name = "tosa.scatter"
    values_in = operand_def(AnyTensorType)
    indices = operand_def(AnyTensorType)
    input = operand_def(AnyTensorType)
    values_out = result_def(AnyTensorType)


# --------------------------------------------------------------------------- image


@irdl_op_definition
class ResizeOp(TosaOp):
    name = "tosa.resize"
    ENUM_PROPS: ClassVar = {"mode": ResizeModeAttr}
    input = operand_def(AnyTensorType)
    scale = operand_def(ShapeType)
    offset = operand_def(ShapeType)
    border = operand_def(ShapeType)
    output = result_def(AnyTensorType)
    mode = prop_def(ResizeModeAttr)
    traits = traits_def(Pure())


# --------------------------------------------------------------------------- type conversion


@irdl_op_definition
class CastOp(TosaOp):
    name = "tosa.cast"
    input = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class RescaleOp(TosaOp):
    """RESCALE with TOSA 1.0's unsigned flags: ``input_unsigned`` says the input's 8/16 bits
    are read as unsigned, ``output_unsigned`` that the output is written as unsigned."""

    name = "tosa.rescale"
    ENUM_PROPS: ClassVar = {"rounding_mode": RoundingModeAttr}
    input = operand_def(AnyTensorType)
    multiplier = operand_def(AnyTensorType)
    shift = operand_def(AnyTensorType)
    input_zp = operand_def(AnyTensorType)
    output_zp = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    scale32 = prop_def(IntegerAttr)
    rounding_mode = prop_def(RoundingModeAttr)
    per_channel = prop_def(IntegerAttr)
    input_unsigned = prop_def(IntegerAttr)
    output_unsigned = prop_def(IntegerAttr)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        if self.input.type.get_shape() != self.output.type.get_shape():
            _fail(self, "shape", "result shape must equal the input shape")
        n_mul = self.multiplier.type.get_shape()
        n_shift = self.shift.type.get_shape()
        if n_mul != n_shift:
            _fail(self, "shape", f"multiplier and shift lengths differ: {n_mul} vs {n_shift}")


# --------------------------------------------------------------------------- data nodes


@irdl_op_definition
class ConstOp(IRDLOperation):
    """``tosa.const``: MLIR prints it in generic form only, so it has no custom syntax.
    Its values are bytes: a dense elements attribute built from a numpy buffer, or a
    ``dense_resource`` handle when a review dump elides it."""

    name = "tosa.const"
    values = prop_def(AnyAttr())
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        values = self.values
        if not isinstance(values, DenseIntOrFPElementsAttr | DenseResourceAttr):
            _fail(self, "attribute-type", "values must be a dense elements attribute")
        if values.type != self.output.type:
            _fail(
                self,
                "element-type",
                f"values type {_type_text(values.type)} must equal the result type {_type_text(self.output.type)}",
            )


# --------------------------------------------------------------------------- custom


@irdl_op_definition
class CustomOp(TosaOp):
    name = "tosa.custom"
    input_list = var_operand_def(AnyAttr())
    output_list = var_result_def(AnyAttr())
    operator_name = prop_def(StringAttr)
    domain_name = prop_def(StringAttr)
    implementation_attrs = prop_def(StringAttr)


# --------------------------------------------------------------------------- control flow


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Terminator of ``cond_if``/``while_loop`` regions (MLIR's, not a TOSA operator)."""

    name = "tosa.yield"
    inputs = var_operand_def(AnyAttr())
    traits = traits_def(IsTerminator(), Pure())

    def print(self, printer: Printer) -> None:
        if self.inputs:
            printer.print_string(" ")
            printer.print_list(self.inputs, printer.print_operand)
        print_attr_dict(printer, self)
        if self.inputs:
            printer.print_string(" : ")
            printer.print_list(self.inputs.types, printer.print_attribute)

    @classmethod
    def parse(cls, parser: Parser) -> YieldOp:
        operands = parse_operand_list(parser)
        _, attrs = parse_attr_dict(parser, cls)
        types = []
        if operands:
            parser.parse_punctuation(":")
            types = parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_type)
        values = parser.resolve_operands(operands, types, parser.pos)
        return cls.create(operands=values, attributes=attrs)


def _print_named_args(printer: Printer, names: Sequence[SSAValue], values: Sequence[SSAValue]):
    printer.print_string("(")
    for i, (arg, value) in enumerate(zip(names, values)):
        if i:
            printer.print_string(", ")
        printer.print_ssa_value(arg)
        printer.print_string(" = ")
        printer.print_operand(value)
    printer.print_string(")")


def _parse_named_args(parser: Parser):
    """``(%a = %x, %b = %y)`` -> (block argument names, operands)."""
    names, operands = [], []
    if parser.parse_optional_punctuation("(") is None:
        return names, operands
    if parser.parse_optional_punctuation(")") is None:
        while True:
            names.append(parser.parse_argument(expect_type=False))
            parser.parse_punctuation("=")
            operands.append(parser.parse_unresolved_operand())
            if parser.parse_optional_punctuation(",") is None:
                break
        parser.parse_punctuation(")")
    return names, operands


@irdl_op_definition
class IfOp(TosaOp):
    """``tosa.cond_if %c (%a = %x) : tensor<i1> (types) -> types {then} else {else}``."""

    name = "tosa.cond_if"
    condition = operand_def(AnyTensorType)
    input_list = var_operand_def(AnyAttr())
    output_list = var_result_def(AnyAttr())
    then_graph = region_def()
    else_graph = region_def()

    @classmethod
    def spec_name(cls) -> str:
        return "COND_IF"

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.condition)
        then_block = self.then_graph.blocks.first
        if self.input_list:
            printer.print_string(" ")
            _print_named_args(printer, then_block.args, self.input_list)
        printer.print_string(" : ")
        printer.print_attribute(self.condition.type)
        printer.print_string(" ")
        if self.input_list:
            printer.print_function_type(self.input_list.types, self.output_list.types)
        else:
            printer.print_string("-> ")
            _print_type_list(printer, self.output_list.types)
        printer.print_string(" ")
        printer.print_region(self.then_graph)
        printer.print_string(" else ")
        printer.print_region(self.else_graph)
        print_attr_dict(printer, self)  # MLIR prints it after the regions

    @classmethod
    def parse(cls, parser: Parser) -> IfOp:
        pos = parser.pos
        cond = parser.parse_unresolved_operand()
        _names, operands = _parse_named_args(parser)
        parser.parse_punctuation(":")
        cond_type = parser.parse_type()
        if operands:
            ftype = parser.parse_function_type()
            in_types, out_types = ftype.inputs.data, ftype.outputs.data
        else:
            parser.parse_punctuation("->")
            in_types, out_types = (), _parse_type_list(parser)
        values = parser.resolve_operands([cond, *operands], [cond_type, *in_types], pos)
        then_region = parser.parse_region()
        parser.parse_keyword("else")
        else_region = parser.parse_region()
        _, attrs = parse_attr_dict(parser, cls)
        return cls.create(
            operands=values,
            result_types=out_types,
            attributes=attrs,
            regions=[then_region, else_region],
        )

    def verify_(self) -> None:
        if _element_type_name(self.condition.type) != "i1":
            _fail(self, "element-type", "condition must be a tensor of i1")
        for region, label in ((self.then_graph, "then"), (self.else_graph, "else")):
            _check_region_signature(self, region, label, self.input_list.types, self.output_list.types)


def _print_type_list(printer: Printer, types: Sequence[Attribute]) -> None:
    if len(types) == 1:
        printer.print_attribute(types[0])
        return
    printer.print_string("(")
    printer.print_list(types, printer.print_attribute)
    printer.print_string(")")


def _parse_type_list(parser: Parser) -> list[Attribute]:
    if parser.parse_optional_punctuation("(") is not None:
        if parser.parse_optional_punctuation(")") is not None:
            return []
        types = parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_type)
        parser.parse_punctuation(")")
        return types
    return [parser.parse_type()]


def _check_region_signature(op, region: Region, label: str, arg_types, yield_types) -> None:
    block = region.blocks.first
    if block is None:
        _fail(op, "region", f"{label} region is empty")
    if tuple(block.arg_types) != tuple(arg_types):
        _fail(op, "region", f"{label} region arguments must match the op inputs")
    terminator = block.last_op
    if not isinstance(terminator, YieldOp):
        _fail(op, "region", f"{label} region must end with tosa.yield")
    if yield_types is not None and tuple(terminator.inputs.types) != tuple(yield_types):
        _fail(op, "region", f"{label} region must yield the op's result types")


@irdl_op_definition
class WhileOp(TosaOp):
    """``tosa.while_loop (%a = %x) : (types) -> types {cond} do {body}``."""

    name = "tosa.while_loop"
    input_list = var_operand_def(AnyAttr())
    output_list = var_result_def(AnyAttr())
    cond_graph = region_def()
    body_graph = region_def()

    @classmethod
    def spec_name(cls) -> str:
        return "WHILE_LOOP"

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        _print_named_args(printer, self.cond_graph.blocks.first.args, self.input_list)
        printer.print_string(" : ")
        printer.print_function_type(self.input_list.types, self.output_list.types)
        printer.print_string(" ")
        printer.print_region(self.cond_graph, print_entry_block_args=False)
        printer.print_string(" do ")
        printer.print_region(self.body_graph)
        print_attr_dict(printer, self, keyword="attributes")

    @classmethod
    def parse(cls, parser: Parser) -> WhileOp:
        pos = parser.pos
        names, operands = _parse_named_args(parser)
        parser.parse_punctuation(":")
        ftype = parser.parse_function_type()
        values = parser.resolve_operands(operands, ftype.inputs.data, pos)
        args = [n.resolve(t) for n, t in zip(names, ftype.inputs.data)]
        cond_region = parser.parse_region(args)
        parser.parse_keyword("do")
        body_region = parser.parse_region()
        attrs = {}
        if parser.parse_optional_keyword("attributes") is not None:
            _, attrs = parse_attr_dict(parser, cls)
        return cls.create(
            operands=values,
            result_types=ftype.outputs.data,
            attributes=attrs,
            regions=[cond_region, body_region],
        )

    def verify_(self) -> None:
        types = self.input_list.types
        if tuple(types) != tuple(self.output_list.types):
            _fail(self, "region", "results must have the types of the inputs")
        _check_region_signature(self, self.cond_graph, "cond", types, None)
        _check_region_signature(self, self.body_graph, "body", types, types)
        cond_yield = self.cond_graph.blocks.first.last_op
        if len(cond_yield.inputs) != 1 or _element_type_name(cond_yield.inputs[0].type) != "i1":
            _fail(self, "region", "cond region must yield one tensor of i1")


# --------------------------------------------------------------------------- variables


@irdl_op_definition
class VariableOp(IRDLOperation):
    """``tosa.variable @name = dense<...> : tensor<...>`` (or without initial value)."""

    name = "tosa.variable"
    sym_name = prop_def(StringAttr)
    var_shape = prop_def(AnyAttr())
    type = prop_def(AnyAttr())
    initial_value = opt_prop_def(AnyAttr())
    traits = traits_def(SymbolOpInterface())

    def tensor_type(self) -> TensorType:
        return TensorType(self.type, [int(x) for x in self.var_shape.get_values()])

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        print_attr_dict(printer, self, skip=("sym_name", "var_shape", "type", "initial_value"))
        if self.initial_value is not None:
            printer.print_string(" = ")
            printer.print_attribute(self.initial_value)
            return
        printer.print_string(" : ")
        printer.print_attribute(self.tensor_type())

    @classmethod
    def parse(cls, parser: Parser) -> VariableOp:
        name = parser.parse_symbol_name()
        _, attrs = parse_attr_dict(parser, cls)
        initial = None
        if parser.parse_optional_punctuation("=") is not None:
            initial = parser.parse_attribute()
            ttype = initial.type
        else:
            parser.parse_punctuation(":")
            ttype = parser.parse_type()
        props = {
            "sym_name": name,
            "var_shape": _index_dense(ttype.get_shape()),
            "type": ttype.element_type,
        }
        if initial is not None:
            props["initial_value"] = initial
        return cls.create(properties=props, attributes=attrs)


def _index_dense(values: Sequence[int]) -> DenseIntOrFPElementsAttr:
    from xdsl.dialects.builtin import IndexType

    return DenseIntOrFPElementsAttr.from_list(TensorType(IndexType(), [len(values)]), list(values))


def _check_variable_type(op: IRDLOperation, symbol: StringAttr, used: Attribute) -> None:
    """A read or write must use the type its ``tosa.variable`` declares (when the op sits
    in a module that declares it; a lone op has nothing to check against)."""
    top = op
    while top.parent_op() is not None:
        top = top.parent_op()
    if top is op or not top.regions or top.regions[0].blocks.first is None:
        return
    for decl in top.regions[0].blocks.first.ops:
        if not isinstance(decl, VariableOp) or decl.sym_name != symbol:
            continue
        declared = decl.tensor_type()
        if declared != used:
            _fail(
                op,
                "variable-type",
                f"@{symbol.data} is declared {_type_text(declared)}, used as {_type_text(used)}",
            )
        return


@irdl_op_definition
class VariableWriteOp(IRDLOperation):
    name = "tosa.variable_write"
    input1 = operand_def(AnyTensorType)
    name_ = prop_def(StringAttr, prop_name="name")

    def verify_(self) -> None:
        _check_variable_type(self, self.name_, self.input1.type)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.name_.data)
        printer.print_string(", ")
        printer.print_operand(self.input1)
        print_attr_dict(printer, self, skip=("name",))
        printer.print_string(" : ")
        printer.print_attribute(self.input1.type)

    @classmethod
    def parse(cls, parser: Parser) -> VariableWriteOp:
        sym = parser.parse_symbol_name()
        parser.parse_punctuation(",")
        operand = parser.parse_unresolved_operand()
        _, attrs = parse_attr_dict(parser, cls)
        parser.parse_punctuation(":")
        t = parser.parse_type()
        (value,) = parser.resolve_operands([operand], [t], parser.pos)
        return cls.create(operands=[value], properties={"name": sym}, attributes=attrs)


@irdl_op_definition
class VariableReadOp(IRDLOperation):
    name = "tosa.variable_read"
    output1 = result_def(AnyTensorType)
    name_ = prop_def(StringAttr, prop_name="name")

    def verify_(self) -> None:
        _check_variable_type(self, self.name_, self.output1.type)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.name_.data)
        print_attr_dict(printer, self, skip=("name",))
        printer.print_string(" : ")
        printer.print_attribute(self.output1.type)

    @classmethod
    def parse(cls, parser: Parser) -> VariableReadOp:
        sym = parser.parse_symbol_name()
        _, attrs = parse_attr_dict(parser, cls)
        parser.parse_punctuation(":")
        t = parser.parse_type()
        return cls.create(result_types=[t], properties={"name": sym}, attributes=attrs)


# --------------------------------------------------------------------------- shape


@irdl_op_definition
class ConstShapeOp(TosaOp):
    name = "tosa.const_shape"
    values = prop_def(DenseIntOrFPElementsAttr)
    output = result_def(ShapeType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        shape = self.values.get_shape()
        n = shape[0] if shape else 0
        if self.output.type.rank.data != n:
            _fail(self, "shape", f"{n} values cannot make a !tosa.shape<{self.output.type.rank.data}>")


# --------------------------------------------------------------------------- TOSA 1.1: block-scaled (MXFP)
# Data in an 8/6/4-bit float format with one f8E8M0FNU scale per block of ``block_size``
# elements along the last axis; MLIR's syntax (LLVM 23), the 1.1 draft's operand order.


class BlockScaledOp(TosaOp):
    ENUM_PROPS: ClassVar = {"block_size": BlockSizeAttr}
    block_size = prop_def(BlockSizeAttr)
    traits = traits_def(Pure())


@irdl_op_definition
class Conv2DBlockScaledOp(BlockScaledOp):
    name = "tosa.conv2d_block_scaled"
    input_data = operand_def(AnyTensorType)
    input_scale = operand_def(AnyTensorType)
    weight_data = operand_def(AnyTensorType)
    weight_scale = operand_def(AnyTensorType)
    bias = operand_def(AnyTensorType)
    pad = operand_def(ShapeType)
    stride = operand_def(ShapeType)
    dilation = operand_def(ShapeType)
    output = result_def(AnyTensorType)


@irdl_op_definition
class MatMulTBlockScaledOp(BlockScaledOp):
    name = "tosa.matmul_t_block_scaled"
    a_data = operand_def(AnyTensorType)
    a_scale = operand_def(AnyTensorType)
    b_data = operand_def(AnyTensorType)
    b_scale = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)


@irdl_op_definition
class CastToBlockScaledOp(BlockScaledOp):
    name = "tosa.cast_to_block_scaled"
    input_data = operand_def(AnyTensorType)
    output_data = result_def(AnyTensorType)
    output_scale = result_def(AnyTensorType)
    RESULT_NAMES: ClassVar = ("output_data", "output_scale")


@irdl_op_definition
class CastFromBlockScaledOp(BlockScaledOp):
    name = "tosa.cast_from_block_scaled"
    input_data = operand_def(AnyTensorType)
    input_scale = operand_def(AnyTensorType)
    output = result_def(AnyTensorType)


#: the TOSA 1.1 operators ExecuTorch 1.5.1 writes (and their inverse cast)
TOSA_1_1_OPS = (Conv2DBlockScaledOp, MatMulTBlockScaledOp, CastToBlockScaledOp, CastFromBlockScaledOp)


# --------------------------------------------------------------------------- family members
# Ops that are nothing but a mnemonic on a family: one line each, defined from data.


def _member(base: type[TosaOp], mnemonic: str, class_name: str) -> type[TosaOp]:
    cls = type(class_name, (base,), {"name": f"tosa.{mnemonic}", "__module__": __name__})
    cls.__qualname__ = class_name
    return irdl_op_definition(cls)


Conv2DOp = _member(ConvOp, "conv2d", "Conv2DOp")
Conv3DOp = _member(ConvOp, "conv3d", "Conv3DOp")
DepthwiseConv2DOp = _member(ConvOp, "depthwise_conv2d", "DepthwiseConv2DOp")

ErfOp = _member(ElementwiseUnaryOp, "erf", "ErfOp")
SigmoidOp = _member(ElementwiseUnaryOp, "sigmoid", "SigmoidOp")
TanhOp = _member(ElementwiseUnaryOp, "tanh", "TanhOp")
AbsOp = _member(ElementwiseUnaryOp, "abs", "AbsOp")
BitwiseNotOp = _member(ElementwiseUnaryOp, "bitwise_not", "BitwiseNotOp")
CeilOp = _member(ElementwiseUnaryOp, "ceil", "CeilOp")
ClzOp = _member(ElementwiseUnaryOp, "clz", "ClzOp")
CosOp = _member(ElementwiseUnaryOp, "cos", "CosOp")
ExpOp = _member(ElementwiseUnaryOp, "exp", "ExpOp")
FloorOp = _member(ElementwiseUnaryOp, "floor", "FloorOp")
LogOp = _member(ElementwiseUnaryOp, "log", "LogOp")
LogicalNotOp = _member(ElementwiseUnaryOp, "logical_not", "LogicalNotOp")
ReciprocalOp = _member(ElementwiseUnaryOp, "reciprocal", "ReciprocalOp")
RsqrtOp = _member(ElementwiseUnaryOp, "rsqrt", "RsqrtOp")
SinOp = _member(ElementwiseUnaryOp, "sin", "SinOp")
IdentityOp = _member(ElementwiseUnaryOp, "identity", "IdentityOp")

AddOp = _member(ElementwiseBinaryOp, "add", "AddOp")
BitwiseAndOp = _member(ElementwiseBinaryOp, "bitwise_and", "BitwiseAndOp")
BitwiseOrOp = _member(ElementwiseBinaryOp, "bitwise_or", "BitwiseOrOp")
BitwiseXorOp = _member(ElementwiseBinaryOp, "bitwise_xor", "BitwiseXorOp")
IntDivOp = _member(ElementwiseBinaryOp, "intdiv", "IntDivOp")
LogicalAndOp = _member(ElementwiseBinaryOp, "logical_and", "LogicalAndOp")
LogicalLeftShiftOp = _member(ElementwiseBinaryOp, "logical_left_shift", "LogicalLeftShiftOp")
LogicalRightShiftOp = _member(ElementwiseBinaryOp, "logical_right_shift", "LogicalRightShiftOp")
LogicalOrOp = _member(ElementwiseBinaryOp, "logical_or", "LogicalOrOp")
LogicalXorOp = _member(ElementwiseBinaryOp, "logical_xor", "LogicalXorOp")
PowOp = _member(ElementwiseBinaryOp, "pow", "PowOp")
SubOp = _member(ElementwiseBinaryOp, "sub", "SubOp")
EqualOp = _member(ElementwiseBinaryOp, "equal", "EqualOp")
GreaterOp = _member(ElementwiseBinaryOp, "greater", "GreaterOp")
GreaterEqualOp = _member(ElementwiseBinaryOp, "greater_equal", "GreaterEqualOp")

MaximumOp = _member(NanModeBinaryOp, "maximum", "MaximumOp")
MinimumOp = _member(NanModeBinaryOp, "minimum", "MinimumOp")

ReduceAllOp = _member(ReductionOp, "reduce_all", "ReduceAllOp")
ReduceAnyOp = _member(ReductionOp, "reduce_any", "ReduceAnyOp")
ReduceProductOp = _member(ReductionOp, "reduce_product", "ReduceProductOp")
ReduceSumOp = _member(ReductionOp, "reduce_sum", "ReduceSumOp")

ReduceMaxOp = _member(NanModeReductionOp, "reduce_max", "ReduceMaxOp")
ReduceMinOp = _member(NanModeReductionOp, "reduce_min", "ReduceMinOp")


# --------------------------------------------------------------------------- dialect

TOSA_OPS: tuple[type[IRDLOperation], ...] = (
    ArgMaxOp, AvgPool2dOp, Conv2DOp, Conv3DOp, DepthwiseConv2DOp, FFT2dOp, MatMulOp,
    MaxPool2dOp, RFFT2dOp, TransposeConv2DOp,
    ClampOp, ErfOp, SigmoidOp, TanhOp,
    AddOp, ArithmeticRightShiftOp, BitwiseAndOp, BitwiseOrOp, BitwiseXorOp, IntDivOp,
    LogicalAndOp, LogicalLeftShiftOp, LogicalRightShiftOp, LogicalOrOp, LogicalXorOp,
    MaximumOp, MinimumOp, MulOp, PowOp, SubOp, TableOp,
    AbsOp, BitwiseNotOp, CeilOp, ClzOp, CosOp, ExpOp, FloorOp, LogOp, LogicalNotOp,
    NegateOp, ReciprocalOp, RsqrtOp, SinOp,
    SelectOp,
    EqualOp, GreaterOp, GreaterEqualOp,
    ReduceAllOp, ReduceAnyOp, ReduceMaxOp, ReduceMinOp, ReduceProductOp, ReduceSumOp,
    ConcatOp, PadOp, ReshapeOp, ReverseOp, SliceOp, TileOp, TransposeOp,
    GatherOp, ScatterOp,
    ResizeOp,
    CastOp, RescaleOp,
    ConstOp, IdentityOp,
    CustomOp,
    IfOp, WhileOp,
    VariableOp, VariableWriteOp, VariableReadOp,
    ConstShapeOp,
    *TOSA_1_1_OPS,
    YieldOp,
)  # fmt: skip

#: spec operator name (``"CONV2D"``) -> op class; one per TOSA 1.0 operator (75) and per
#: TOSA 1.1 operator in ``TOSA_1_1_OPS``.
OPS_BY_SPEC_NAME: dict[str, type[IRDLOperation]] = {
    (op.spec_name() if issubclass(op, TosaOp) else op.name.split(".", 1)[1].upper()): op
    for op in TOSA_OPS
    if op is not YieldOp
}

# --------------------------------------------------------------------------- verification memo
# xDSL verifies every op from scratch (IRDL constraints, then ours): about 35 us an op, and a
# module is verified several times on its way to a flatbuffer. For an op without regions,
# successors or traits that look around (only ``Pure``), what is verified is a function of
# its class, operand and result types and properties; dense contents are never read (only
# their class and type). So a signature that verified once verifies again: remembered here,
# failures never are (they raise, and raise again).
#
# A signature is keyed by the identity of those objects, not their value: hashing xDSL
# attributes recurses through every parameter and costs as much as verifying. The memo
# holds the objects themselves, so while an entry lives no other object can take one of
# its ids: an equal key means the very same objects. Equal but distinct types (a module
# built op by op) simply miss.

_VERIFIED: dict[tuple, tuple] = {}
_DENSE = (DenseIntOrFPElementsAttr, DenseResourceAttr)
_VERIFIED_LIMIT = 20_000  # entries; cleared when full (a parsed model needs a few dozen)


def signature(op: IRDLOperation) -> tuple[tuple, tuple]:
    """(key, objects): what op-local verification reads of ``op`` (class, operand and
    result types, properties; a dense attribute by its class and type only); the key is
    the property names and the ids of those objects."""
    parts: list = [type(op), *[o.type for o in op.operands], None, *[r.type for r in op.results]]
    properties = op.properties
    for attr in properties.values():
        if isinstance(attr, _DENSE):
            parts += [type(attr), attr.type]  # not the (maybe 100 MB) contents
        else:
            parts.append(attr)
    # names by value: equal names are often distinct strings
    return (tuple(properties), *map(id, parts)), tuple(parts)


def _memoized(verify_):
    def verify_once(self) -> None:
        if self.regions or self.successors:
            verify_(self)
            return
        key, objects = signature(self)
        if key in _VERIFIED:
            return
        verify_(self)
        if len(_VERIFIED) >= _VERIFIED_LIMIT:
            _VERIFIED.clear()
        _VERIFIED[key] = objects

    verify_once.__doc__ = verify_.__doc__
    return verify_once


#: ops whose verifier reads beyond the op: the module's ``tosa.variable`` declaration
_VERIFIED_IN_CONTEXT = (VariableReadOp, VariableWriteOp)

for _op in TOSA_OPS:
    _definition = _op.get_irdl_definition()
    local = not _definition.regions and not _definition.attributes and _op not in _VERIFIED_IN_CONTEXT
    if local and all(isinstance(t, Pure) for t in _definition.traits):
        _op.verify_ = _memoized(_op.verify_)

TOSA = Dialect("tosa", list(TOSA_OPS), [ShapeType, *ENUM_ATTRS])

__all__ = [name for name in dir() if name.endswith(("Op", "Attr", "Type", "Mode"))] + [
    "TOSA",
    "TOSA_OPS",
    "TOSA_1_1_OPS",
    "OPS_BY_SPEC_NAME",
    "signature",
]
