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

This module holds the op definitions and the ``TOSA`` dialect; beside it are the shared
syntax pieces (``ir.dialects.syntax``), the spec-table checks (``ir.dialects.spec_check``)
and the types and enums (``ir.dialects.tosa_types``, re-exported here).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, cast

from xdsl.dialects.builtin import (
    AnyTensorType,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    IndexType,
    IntegerAttr,
    StringAttr,
    TensorType,
    i32,
    i64,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import (
    Attribute,
    AttributeInvT,
    Block,
    Dialect,
    Region,
    SSAValue,
    SSAValues,
    TypeAttribute,
    TypedAttribute,
)
from xdsl.irdl import (
    AnyAttr,
    IRDLAttrConstraint,
    IRDLOperation,
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
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import IsTerminator, Pure, SymbolOpInterface
from xdsl.utils.exceptions import VerifyException

from ir.dialects.spec_check import fail, verify_against_spec
from ir.dialects.syntax import (
    element_type_name,
    parse_attr_dict,
    parse_named_args,
    parse_operand_list,
    parse_type_list,
    print_attr_dict,
    print_named_args,
    print_type_list,
    type_text,
)

# the dialect's types and enums, re-exported: importers name them from here
from ir.dialects.tosa_types import (
    ENUM_ATTRS,
    BlockSize,
    BlockSizeAttr,
    NanMode,
    NanModeAttr,
    ResizeMode,  # noqa: F401
    ResizeModeAttr,
    RoundingMode,  # noqa: F401
    RoundingModeAttr,
    ShapeType,
)
from ir.spec import operator_spec

#: MLIR's ``DenseI64ArrayAttr`` (kernel, stride, pad, dilation, out_pad) and
#: ``DenseI32ArrayAttr`` (perms): an ``array<i48: ...>`` typed by hand is refused at parse
#: time instead of reaching verifiers that read its bytes as something else
I64_ARRAY = DenseArrayBase.constr(i64)
I32_ARRAY = DenseArrayBase.constr(i32)


def typed_operand_def(constraint: IRDLAttrConstraint[AttributeInvT]) -> SSAValue[AttributeInvT]:
    """``operand_def``, typed the way xDSL types ``result_def``: xDSL 0.74 declares every
    operand an ``SSAValue[Attribute]`` whatever its constraint, so each ``op.input.type``
    would need a cast. The field is ``operand_def``'s own; only its static type differs."""
    return cast(SSAValue[AttributeInvT], operand_def(constraint))


def typed_var_operand_def(
    constraint: IRDLAttrConstraint[AttributeInvT],
) -> SSAValues[SSAValue[AttributeInvT]]:
    """``var_operand_def``, typed by its constraint (see ``typed_operand_def``)."""
    return cast(SSAValues[SSAValue[AttributeInvT]], var_operand_def(constraint))


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


def _same_rank_broadcast(
    op: TosaOp, *values: SSAValue[AnyTensorType], out: SSAValue[AnyTensorType]
) -> None:
    shapes = [v.type.get_shape() for v in values]
    out_shape = out.type.get_shape()
    for s in shapes:
        if len(s) != len(out_shape):
            fail(
                op,
                "broadcast",
                f"operands and result must have the same rank, got {[len(x) for x in shapes]} -> "
                f"{len(out_shape)}",
            )
    for d, dims in enumerate(zip(*shapes, out_shape)):
        *ins, o = dims
        known = {x for x in ins if x not in (1, -1)}
        if len(known) > 1 or (o not in (-1,) and known and o not in known):
            fail(op, "broadcast", f"dimension {d} is not broadcast-compatible: {list(dims)}")


# --------------------------------------------------------------------------- families


class SameShapeOp(TosaOp):
    """An op whose result has the shape of its first operand (the elementwise unary ops,
    CLAMP, TABLE, NEGATE, RESCALE): the rule written once; a subclass with more rules
    runs them after it (``super().verify_structure()`` first)."""

    def verify_structure(self) -> None:
        # every such op declares its first operand and result as tensors (IRDL checked them)
        operand, result = (cast(AnyTensorType, v.type) for v in (self.operands[0], self.results[0]))
        if operand.get_shape() != result.get_shape():
            fail(self, "shape", "result shape must equal the input shape")


class ElementwiseUnaryOp(SameShapeOp):
    input1 = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())


class ElementwiseBinaryOp(TosaOp):
    input1 = typed_operand_def(AnyTensorType)
    input2 = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        _same_rank_broadcast(self, self.input1, self.input2, out=self.output)


class NanModeBinaryOp(ElementwiseBinaryOp):
    ENUM_PROPS: ClassVar = {"nan_mode": NanModeAttr}
    nan_mode = prop_def(NanModeAttr, default_value=NanModeAttr(NanMode.PROPAGATE))


class ReductionOp(TosaOp):
    input = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    axis = prop_def(IntegerAttr)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        shape = self.input.type.get_shape()
        axis = self.axis.value.data
        if not 0 <= axis < max(len(shape), 1):
            fail(self, "axis", f"axis {axis} is out of range for rank {len(shape)}")
        out = self.output.type.get_shape()
        if len(out) != len(shape):
            fail(self, "shape", "result rank must equal the input rank")
        if shape and out[axis] not in (1, -1):
            fail(self, "shape", f"result dimension {axis} must be 1, got {out[axis]}")


class NanModeReductionOp(ReductionOp):
    ENUM_PROPS: ClassVar = {"nan_mode": NanModeAttr}
    nan_mode = prop_def(NanModeAttr, default_value=NanModeAttr(NanMode.PROPAGATE))


class ConvOpBase(TosaOp):
    """conv2d, conv3d, depthwise_conv2d, transpose_conv2d: input, weight, bias, input_zp,
    weight_zp; the ranks come from the spec table."""

    input = typed_operand_def(AnyTensorType)
    weight = typed_operand_def(AnyTensorType)
    bias = typed_operand_def(AnyTensorType)
    input_zp = typed_operand_def(AnyTensorType)
    weight_zp = typed_operand_def(AnyTensorType)
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
    input = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    axis = prop_def(IntegerAttr)
    nan_mode = prop_def(NanModeAttr, default_value=NanModeAttr(NanMode.PROPAGATE))
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        shape = self.input.type.get_shape()
        axis = self.axis.value.data
        if not 0 <= axis < len(shape):
            fail(self, "axis", f"axis {axis} is out of range for rank {len(shape)}")
        if len(self.output.type.get_shape()) != len(shape) - 1:
            fail(self, "shape", "result rank must be the input rank minus one")


@irdl_op_definition
class AvgPool2DOp(TosaOp):
    name = "tosa.avg_pool2d"
    input = typed_operand_def(AnyTensorType)
    input_zp = typed_operand_def(AnyTensorType)
    output_zp = typed_operand_def(AnyTensorType)
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
class FFT2DOp(TosaOp):
    name = "tosa.fft2d"
    input_real = typed_operand_def(AnyTensorType)
    input_imag = typed_operand_def(AnyTensorType)
    output_real = result_def(AnyTensorType)
    output_imag = result_def(AnyTensorType)
    inverse = prop_def(IntegerAttr)
    local_bound = opt_prop_def(IntegerAttr)
    traits = traits_def(Pure())
    RESULT_NAMES: ClassVar = ("output_real", "output_imag")


@irdl_op_definition
class MatMulOp(TosaOp):
    name = "tosa.matmul"
    a = typed_operand_def(AnyTensorType)
    b = typed_operand_def(AnyTensorType)
    a_zp = typed_operand_def(AnyTensorType)
    b_zp = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class MaxPool2DOp(TosaOp):
    name = "tosa.max_pool2d"
    ENUM_PROPS: ClassVar = {"nan_mode": NanModeAttr}
    input = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    kernel = prop_def(I64_ARRAY)
    stride = prop_def(I64_ARRAY)
    pad = prop_def(I64_ARRAY)
    nan_mode = prop_def(NanModeAttr, default_value=NanModeAttr(NanMode.PROPAGATE))
    traits = traits_def(Pure())


@irdl_op_definition
class RFFT2DOp(TosaOp):
    name = "tosa.rfft2d"
    input_real = typed_operand_def(AnyTensorType)
    output_real = result_def(AnyTensorType)
    output_imag = result_def(AnyTensorType)
    local_bound = opt_prop_def(IntegerAttr)
    traits = traits_def(Pure())
    RESULT_NAMES: ClassVar = ("output_real", "output_imag")


# --------------------------------------------------------------------------- activation


@irdl_op_definition
class ClampOp(SameShapeOp):
    name = "tosa.clamp"
    ENUM_PROPS: ClassVar = {"nan_mode": NanModeAttr}
    input = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    min_val = prop_def(AnyAttr())
    max_val = prop_def(AnyAttr())
    nan_mode = prop_def(NanModeAttr, default_value=NanModeAttr(NanMode.PROPAGATE))
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        super().verify_structure()
        elem = self.input.type.element_type
        for bound in (self.min_val, self.max_val):
            if getattr(bound, "type", None) != elem:
                fail(
                    self,
                    "attribute-type",
                    f"min_val/max_val must be typed like the input element {type_text(elem)}",
                )


# --------------------------------------------------------------------------- binary


@irdl_op_definition
class ArithmeticRightShiftOp(ElementwiseBinaryOp):
    name = "tosa.arithmetic_right_shift"
    round = prop_def(IntegerAttr)


@irdl_op_definition
class MulOp(TosaOp):
    name = "tosa.mul"
    input1 = typed_operand_def(AnyTensorType)
    input2 = typed_operand_def(AnyTensorType)
    shift = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        _same_rank_broadcast(self, self.input1, self.input2, out=self.output)


@irdl_op_definition
class TableOp(SameShapeOp):
    name = "tosa.table"
    input1 = typed_operand_def(AnyTensorType)
    table = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())


# --------------------------------------------------------------------------- unary


@irdl_op_definition
class NegateOp(SameShapeOp):
    name = "tosa.negate"
    input1 = typed_operand_def(AnyTensorType)
    input1_zp = typed_operand_def(AnyTensorType)
    output_zp = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class SelectOp(TosaOp):
    name = "tosa.select"
    input1 = typed_operand_def(AnyTensorType)
    input2 = typed_operand_def(AnyTensorType)
    input3 = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        _same_rank_broadcast(self, self.input1, self.input2, self.input3, out=self.output)


# --------------------------------------------------------------------------- data layout


@irdl_op_definition
class ConcatOp(TosaOp):
    name = "tosa.concat"
    input1 = typed_var_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    axis = prop_def(IntegerAttr)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        if not self.input1:
            fail(self, "arity", "expects at least one input")
        out = self.output.type.get_shape()
        axis = self.axis.value.data
        if not 0 <= axis < len(out):
            fail(self, "axis", f"axis {axis} is out of range for rank {len(out)}")
        for v in self.input1:
            if len(v.type.get_shape()) != len(out):
                fail(self, "rank", "all inputs must have the result's rank")


@irdl_op_definition
class PadOp(TosaOp):
    name = "tosa.pad"
    input1 = typed_operand_def(AnyTensorType)
    padding = typed_operand_def(ShapeType)
    pad_const = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        rank = len(self.input1.type.get_shape())
        if self.padding.type.rank.data != 2 * rank:
            fail(self, "shape", f"padding must be !tosa.shape<{2 * rank}> for a rank-{rank} input")


@irdl_op_definition
class ReshapeOp(TosaOp):
    name = "tosa.reshape"
    input1 = typed_operand_def(AnyTensorType)
    shape = typed_operand_def(ShapeType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        if self.shape.type.rank.data != len(self.output.type.get_shape()):
            fail(self, "shape", "shape operand rank must equal the result rank")


@irdl_op_definition
class ReverseOp(TosaOp):
    name = "tosa.reverse"
    input1 = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    axis = prop_def(IntegerAttr)
    traits = traits_def(Pure())


@irdl_op_definition
class SliceOp(TosaOp):
    name = "tosa.slice"
    input1 = typed_operand_def(AnyTensorType)
    start = typed_operand_def(ShapeType)
    size = typed_operand_def(ShapeType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        rank = len(self.input1.type.get_shape())
        for operand in (self.start, self.size):
            if operand.type.rank.data != rank:
                fail(self, "shape", f"start and size must be !tosa.shape<{rank}>")


@irdl_op_definition
class TileOp(TosaOp):
    name = "tosa.tile"
    input1 = typed_operand_def(AnyTensorType)
    multiples = typed_operand_def(ShapeType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class TransposeOp(TosaOp):
    name = "tosa.transpose"
    input1 = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    perms = prop_def(I32_ARRAY)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        rank = len(self.input1.type.get_shape())
        perms = tuple(self.perms.get_values())
        if sorted(perms) != list(range(rank)):
            fail(self, "perms", f"perms {list(perms)} is not a permutation of rank {rank}")


# --------------------------------------------------------------------------- gather/scatter


@irdl_op_definition
class GatherOp(TosaOp):
    name = "tosa.gather"
    values = typed_operand_def(AnyTensorType)
    indices = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class ScatterOp(TosaOp):
    name = "tosa.scatter"
    values_in = typed_operand_def(AnyTensorType)
    indices = typed_operand_def(AnyTensorType)
    input = typed_operand_def(AnyTensorType)
    values_out = result_def(AnyTensorType)


# --------------------------------------------------------------------------- image


@irdl_op_definition
class ResizeOp(TosaOp):
    name = "tosa.resize"
    ENUM_PROPS: ClassVar = {"mode": ResizeModeAttr}
    input = typed_operand_def(AnyTensorType)
    scale = typed_operand_def(ShapeType)
    offset = typed_operand_def(ShapeType)
    border = typed_operand_def(ShapeType)
    output = result_def(AnyTensorType)
    mode = prop_def(ResizeModeAttr)
    traits = traits_def(Pure())


# --------------------------------------------------------------------------- type conversion


@irdl_op_definition
class CastOp(TosaOp):
    name = "tosa.cast"
    input = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class RescaleOp(SameShapeOp):
    """RESCALE with TOSA 1.0's unsigned flags: ``input_unsigned`` says the input's 8/16 bits
    are read as unsigned, ``output_unsigned`` that the output is written as unsigned."""

    name = "tosa.rescale"
    ENUM_PROPS: ClassVar = {"rounding_mode": RoundingModeAttr}
    input = typed_operand_def(AnyTensorType)
    multiplier = typed_operand_def(AnyTensorType)
    shift = typed_operand_def(AnyTensorType)
    input_zp = typed_operand_def(AnyTensorType)
    output_zp = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)
    scale32 = prop_def(IntegerAttr)
    rounding_mode = prop_def(RoundingModeAttr)
    per_channel = prop_def(IntegerAttr)
    input_unsigned = prop_def(IntegerAttr)
    output_unsigned = prop_def(IntegerAttr)
    traits = traits_def(Pure())

    def verify_structure(self) -> None:
        super().verify_structure()
        n_mul = self.multiplier.type.get_shape()
        n_shift = self.shift.type.get_shape()
        if n_mul != n_shift:
            fail(self, "shape", f"multiplier and shift lengths differ: {n_mul} vs {n_shift}")


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
            fail(self, "attribute-type", "values must be a dense elements attribute")
        if values.type != self.output.type:
            fail(
                self,
                "element-type",
                f"values type {type_text(values.type)} must equal the result type "
                f"{type_text(self.output.type)}",
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


@irdl_op_definition
class IfOp(TosaOp):
    """``tosa.cond_if %c (%a = %x) : tensor<i1> (types) -> types {then} else {else}``."""

    name = "tosa.cond_if"
    condition = typed_operand_def(AnyTensorType)
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
        # a parsed or built cond_if has its entry block (parse makes one, verify requires it)
        then_block = cast(Block, self.then_graph.blocks.first)
        if self.input_list:
            printer.print_string(" ")
            print_named_args(printer, then_block.args, self.input_list)
        printer.print_string(" : ")
        printer.print_attribute(self.condition.type)
        printer.print_string(" ")
        if self.input_list:
            printer.print_function_type(self.input_list.types, self.output_list.types)
        else:
            printer.print_string("-> ")
            print_type_list(printer, self.output_list.types)
        printer.print_string(" ")
        printer.print_region(self.then_graph)
        printer.print_string(" else ")
        printer.print_region(self.else_graph)
        print_attr_dict(printer, self)  # MLIR prints it after the regions

    @classmethod
    def parse(cls, parser: Parser) -> IfOp:
        pos = parser.pos
        cond = parser.parse_unresolved_operand()
        _names, operands = parse_named_args(parser)
        parser.parse_punctuation(":")
        cond_type = parser.parse_type()
        if operands:
            ftype = parser.parse_function_type()
            in_types, out_types = ftype.inputs.data, ftype.outputs.data
        else:
            parser.parse_punctuation("->")
            in_types, out_types = (), parse_type_list(parser)
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
        if element_type_name(self.condition.type) != "i1":
            fail(self, "element-type", "condition must be a tensor of i1")
        for region, label in ((self.then_graph, "then"), (self.else_graph, "else")):
            _check_region_signature(
                self, region, label, self.input_list.types, self.output_list.types
            )


def _check_region_signature(op, region: Region, label: str, arg_types, yield_types) -> YieldOp:
    """The region's terminator, once its block, arguments and yield are as the op needs."""
    block = region.blocks.first
    if block is None:
        fail(op, "region", f"{label} region is empty")
    if tuple(block.arg_types) != tuple(arg_types):
        fail(op, "region", f"{label} region arguments must match the op inputs")
    terminator = block.last_op
    if not isinstance(terminator, YieldOp):
        fail(op, "region", f"{label} region must end with tosa.yield")
    if yield_types is not None and tuple(terminator.inputs.types) != tuple(yield_types):
        fail(op, "region", f"{label} region must yield the op's result types")
    return terminator


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
        cond_block = cast(Block, self.cond_graph.blocks.first)  # as cond_if's then_block
        print_named_args(printer, cond_block.args, self.input_list)
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
        names, operands = parse_named_args(parser)
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
            fail(self, "region", "results must have the types of the inputs")
        cond_yield = _check_region_signature(self, self.cond_graph, "cond", types, None)
        _check_region_signature(self, self.body_graph, "body", types, types)
        if len(cond_yield.inputs) != 1 or element_type_name(cond_yield.inputs[0].type) != "i1":
            fail(self, "region", "cond region must yield one tensor of i1")


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
        # parse and the flatbuffer reader store the shape as index-typed dense elements
        shape = cast(DenseIntOrFPElementsAttr[IndexType], self.var_shape)
        return TensorType(self.type, [int(x) for x in shape.get_values()])

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
            # the initial value is a dense (or dense_resource) tensor literal
            ttype = cast(AnyTensorType, cast(TypedAttribute, initial).get_type())
        else:
            parser.parse_punctuation(":")
            ttype = cast(AnyTensorType, parser.parse_type())
        props = {
            "sym_name": name,
            "var_shape": _index_dense(ttype.get_shape()),
            "type": ttype.element_type,
        }
        if initial is not None:
            props["initial_value"] = initial
        return cls.create(properties=props, attributes=attrs)


def _index_dense(values: Sequence[int]) -> DenseIntOrFPElementsAttr:
    return DenseIntOrFPElementsAttr.from_list(TensorType(IndexType(), [len(values)]), list(values))


def _check_variable_type(op: IRDLOperation, symbol: StringAttr, used: Attribute) -> None:
    """A read or write must use the type its ``tosa.variable`` declares (when the op sits
    in a module that declares it; a lone op has nothing to check against)."""
    top = op
    while (parent := top.parent_op()) is not None:
        top = parent
    block = top.regions[0].blocks.first if top.regions else None
    if top is op or block is None:
        return
    for decl in block.ops:
        if not isinstance(decl, VariableOp) or decl.sym_name != symbol:
            continue
        declared = decl.tensor_type()
        if declared != used:
            fail(
                op,
                "variable-type",
                f"@{symbol.data} is declared {type_text(declared)}, used as {type_text(used)}",
            )
        return


@irdl_op_definition
class VariableWriteOp(IRDLOperation):
    name = "tosa.variable_write"
    input1 = typed_operand_def(AnyTensorType)
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
            fail(
                self, "shape", f"{n} values cannot make a !tosa.shape<{self.output.type.rank.data}>"
            )


# ------------------------------------------------------------------ TOSA 1.1: block-scaled (MXFP)
# Data in an 8/6/4-bit float format with one f8E8M0FNU scale per block of ``block_size``
# elements along the last axis; MLIR's syntax (LLVM 23), the 1.1 draft's operand order.


class BlockScaledOp(TosaOp):
    ENUM_PROPS: ClassVar = {"block_size": BlockSizeAttr}
    block_size = prop_def(BlockSizeAttr)
    traits = traits_def(Pure())


@irdl_op_definition
class Conv2DBlockScaledOp(BlockScaledOp):
    name = "tosa.conv2d_block_scaled"
    input_data = typed_operand_def(AnyTensorType)
    input_scale = typed_operand_def(AnyTensorType)
    weight_data = typed_operand_def(AnyTensorType)
    weight_scale = typed_operand_def(AnyTensorType)
    bias = typed_operand_def(AnyTensorType)
    pad = typed_operand_def(ShapeType)
    stride = typed_operand_def(ShapeType)
    dilation = typed_operand_def(ShapeType)
    output = result_def(AnyTensorType)


@irdl_op_definition
class MatMulTBlockScaledOp(BlockScaledOp):
    name = "tosa.matmul_t_block_scaled"
    a_data = typed_operand_def(AnyTensorType)
    a_scale = typed_operand_def(AnyTensorType)
    b_data = typed_operand_def(AnyTensorType)
    b_scale = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)


@irdl_op_definition
class CastToBlockScaledOp(BlockScaledOp):
    name = "tosa.cast_to_block_scaled"
    input_data = typed_operand_def(AnyTensorType)
    output_data = result_def(AnyTensorType)
    output_scale = result_def(AnyTensorType)
    RESULT_NAMES: ClassVar = ("output_data", "output_scale")


@irdl_op_definition
class CastFromBlockScaledOp(BlockScaledOp):
    name = "tosa.cast_from_block_scaled"
    input_data = typed_operand_def(AnyTensorType)
    input_scale = typed_operand_def(AnyTensorType)
    output = result_def(AnyTensorType)


#: the TOSA 1.1 operators ExecuTorch 1.5.1 writes (and their inverse cast)
TOSA_1_1_OPS = (
    Conv2DBlockScaledOp,
    MatMulTBlockScaledOp,
    CastToBlockScaledOp,
    CastFromBlockScaledOp,
)


# --------------------------------------------------------------------------- family members
# Ops that are nothing but a mnemonic on a family.


# convolutions


@irdl_op_definition
class Conv2DOp(ConvOp):
    """CONV2D: 2-D convolution over NHWC input, OHWI weights."""

    name = "tosa.conv2d"


@irdl_op_definition
class Conv3DOp(ConvOp):
    """CONV3D: 3-D convolution over NDHWC input, ODHWI weights."""

    name = "tosa.conv3d"


@irdl_op_definition
class DepthwiseConv2DOp(ConvOp):
    """DEPTHWISE_CONV2D: 2-D convolution of each input channel by its own filters."""

    name = "tosa.depthwise_conv2d"


# elementwise unary


@irdl_op_definition
class ErfOp(ElementwiseUnaryOp):
    """ERF: the Gauss error function, elementwise."""

    name = "tosa.erf"


@irdl_op_definition
class SigmoidOp(ElementwiseUnaryOp):
    """SIGMOID: 1 / (1 + e^-x), elementwise."""

    name = "tosa.sigmoid"


@irdl_op_definition
class TanhOp(ElementwiseUnaryOp):
    """TANH: hyperbolic tangent, elementwise."""

    name = "tosa.tanh"


@irdl_op_definition
class AbsOp(ElementwiseUnaryOp):
    """ABS: absolute value, elementwise."""

    name = "tosa.abs"


@irdl_op_definition
class BitwiseNotOp(ElementwiseUnaryOp):
    """BITWISE_NOT: one's complement, elementwise."""

    name = "tosa.bitwise_not"


@irdl_op_definition
class CeilOp(ElementwiseUnaryOp):
    """CEIL: round up to an integral value, elementwise."""

    name = "tosa.ceil"


@irdl_op_definition
class ClzOp(ElementwiseUnaryOp):
    """CLZ: count of leading zero bits, elementwise."""

    name = "tosa.clz"


@irdl_op_definition
class CosOp(ElementwiseUnaryOp):
    """COS: cosine, elementwise."""

    name = "tosa.cos"


@irdl_op_definition
class ExpOp(ElementwiseUnaryOp):
    """EXP: e^x, elementwise."""

    name = "tosa.exp"


@irdl_op_definition
class FloorOp(ElementwiseUnaryOp):
    """FLOOR: round down to an integral value, elementwise."""

    name = "tosa.floor"


@irdl_op_definition
class LogOp(ElementwiseUnaryOp):
    """LOG: natural logarithm, elementwise."""

    name = "tosa.log"


@irdl_op_definition
class LogicalNotOp(ElementwiseUnaryOp):
    """LOGICAL_NOT: boolean negation, elementwise."""

    name = "tosa.logical_not"


@irdl_op_definition
class ReciprocalOp(ElementwiseUnaryOp):
    """RECIPROCAL: 1 / x, elementwise."""

    name = "tosa.reciprocal"


@irdl_op_definition
class RsqrtOp(ElementwiseUnaryOp):
    """RSQRT: 1 / sqrt(x), elementwise."""

    name = "tosa.rsqrt"


@irdl_op_definition
class SinOp(ElementwiseUnaryOp):
    """SIN: sine, elementwise."""

    name = "tosa.sin"


@irdl_op_definition
class IdentityOp(ElementwiseUnaryOp):
    """IDENTITY: the input, unchanged."""

    name = "tosa.identity"


# elementwise binary


@irdl_op_definition
class AddOp(ElementwiseBinaryOp):
    """ADD: input1 + input2, broadcast."""

    name = "tosa.add"


@irdl_op_definition
class BitwiseAndOp(ElementwiseBinaryOp):
    """BITWISE_AND: input1 & input2, broadcast."""

    name = "tosa.bitwise_and"


@irdl_op_definition
class BitwiseOrOp(ElementwiseBinaryOp):
    """BITWISE_OR: input1 | input2, broadcast."""

    name = "tosa.bitwise_or"


@irdl_op_definition
class BitwiseXorOp(ElementwiseBinaryOp):
    """BITWISE_XOR: input1 ^ input2, broadcast."""

    name = "tosa.bitwise_xor"


@irdl_op_definition
class IntDivOp(ElementwiseBinaryOp):
    """INTDIV: integer division rounding towards zero, broadcast."""

    name = "tosa.intdiv"


@irdl_op_definition
class LogicalAndOp(ElementwiseBinaryOp):
    """LOGICAL_AND: boolean and, broadcast."""

    name = "tosa.logical_and"


@irdl_op_definition
class LogicalLeftShiftOp(ElementwiseBinaryOp):
    """LOGICAL_LEFT_SHIFT: input1 << input2, broadcast."""

    name = "tosa.logical_left_shift"


@irdl_op_definition
class LogicalRightShiftOp(ElementwiseBinaryOp):
    """LOGICAL_RIGHT_SHIFT: input1 >> input2 shifting in zeros, broadcast."""

    name = "tosa.logical_right_shift"


@irdl_op_definition
class LogicalOrOp(ElementwiseBinaryOp):
    """LOGICAL_OR: boolean or, broadcast."""

    name = "tosa.logical_or"


@irdl_op_definition
class LogicalXorOp(ElementwiseBinaryOp):
    """LOGICAL_XOR: boolean exclusive or, broadcast."""

    name = "tosa.logical_xor"


@irdl_op_definition
class PowOp(ElementwiseBinaryOp):
    """POW: input1 raised to input2, broadcast."""

    name = "tosa.pow"


@irdl_op_definition
class SubOp(ElementwiseBinaryOp):
    """SUB: input1 - input2, broadcast."""

    name = "tosa.sub"


@irdl_op_definition
class EqualOp(ElementwiseBinaryOp):
    """EQUAL: input1 == input2 as i1, broadcast."""

    name = "tosa.equal"


@irdl_op_definition
class GreaterOp(ElementwiseBinaryOp):
    """GREATER: input1 > input2 as i1, broadcast."""

    name = "tosa.greater"


@irdl_op_definition
class GreaterEqualOp(ElementwiseBinaryOp):
    """GREATER_EQUAL: input1 >= input2 as i1, broadcast."""

    name = "tosa.greater_equal"


# elementwise binary with nan_mode


@irdl_op_definition
class MaximumOp(NanModeBinaryOp):
    """MAXIMUM: the larger of input1 and input2, broadcast; ``nan_mode`` picks NaN handling."""

    name = "tosa.maximum"


@irdl_op_definition
class MinimumOp(NanModeBinaryOp):
    """MINIMUM: the smaller of input1 and input2, broadcast; ``nan_mode`` picks NaN handling."""

    name = "tosa.minimum"


# reductions


@irdl_op_definition
class ReduceAllOp(ReductionOp):
    """REDUCE_ALL: boolean and along ``axis``."""

    name = "tosa.reduce_all"


@irdl_op_definition
class ReduceAnyOp(ReductionOp):
    """REDUCE_ANY: boolean or along ``axis``."""

    name = "tosa.reduce_any"


@irdl_op_definition
class ReduceProductOp(ReductionOp):
    """REDUCE_PRODUCT: product along ``axis``."""

    name = "tosa.reduce_product"


@irdl_op_definition
class ReduceSumOp(ReductionOp):
    """REDUCE_SUM: sum along ``axis``."""

    name = "tosa.reduce_sum"


# reductions with nan_mode


@irdl_op_definition
class ReduceMaxOp(NanModeReductionOp):
    """REDUCE_MAX: maximum along ``axis``; ``nan_mode`` picks NaN handling."""

    name = "tosa.reduce_max"


@irdl_op_definition
class ReduceMinOp(NanModeReductionOp):
    """REDUCE_MIN: minimum along ``axis``; ``nan_mode`` picks NaN handling."""

    name = "tosa.reduce_min"


# --------------------------------------------------------------------------- dialect

TOSA_OPS: tuple[type[IRDLOperation], ...] = (
    ArgMaxOp, AvgPool2DOp, Conv2DOp, Conv3DOp, DepthwiseConv2DOp, FFT2DOp, MatMulOp,
    MaxPool2DOp, RFFT2DOp, TransposeConv2DOp,
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

#: ops whose verifier reads beyond the op: the module's ``tosa.variable`` declaration
#: (``ir.speedups.identity`` remembers the verification of the others)
VERIFY_READS_MODULE = (VariableReadOp, VariableWriteOp)

TOSA = Dialect("tosa", list(TOSA_OPS), [ShapeType, *ENUM_ATTRS])

__all__ = [name for name in dir() if name.endswith(("Op", "Attr", "Type", "Mode"))] + [
    "TOSA",
    "TOSA_OPS",
    "TOSA_1_1_OPS",
    "OPS_BY_SPEC_NAME",
    "VERIFY_READS_MODULE",
    "BlockSize",
]
