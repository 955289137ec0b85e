"""``legalize-unsigned-io``: the typed stage's ``ui8``/``ui16`` IO made signless.

TOSA 1.0 has no unsigned tensor types; unsigned meaning lives only in RESCALE's
``input_unsigned``/``output_unsigned`` flags at the graph boundary. This pass is that
move as an IR transformation, checked rather than blind (MLIR's
``--tosa-convert-integer-type-to-signless`` just drops the signedness):

1. the boundary is placed where it is missing. The ui8 values that are not at the
   boundary form webs of values moved into one another — through data movement
   (``concat``, ``reshape``, ``transpose``, ``slice``, ``tile``, ``reverse``) and through
   ``cond_if`` / ``while_loop``, whose inputs, region arguments, yields and results are
   one value each (a region's arguments are not graph IO: the boundary is the outer
   function). Each web turns signless int8 whole: a function argument in it gets a
   boundary RESCALE (``input_unsigned``, scale 1, zero point 0 -> -128: the same real
   values as signless int8), or shares the one it already has when that one is such a
   unit RESCALE; a function result declared ``ui8`` that is now int8 gets an
   ``output_unsigned`` unit RESCALE in front of the return; a RESCALE inside the web
   that reads or writes it unsigned (in a branch, a loop body, behind data movement)
   drops the flag for its zero point moved by -128. Each inserted op is located at the
   op it serves (its FX node and source line) and named after the IO (``<input>_signed``,
   ``<output>_unsigned``);
2. every unsigned value must then sit at the boundary: a function argument read only as
   the input of RESCALEs with ``input_unsigned``, a RESCALE result with
   ``output_unsigned`` read only by the return, or the zero-point constant of such a
   RESCALE; anything else (a ``ui8`` value reaching arithmetic, an op producing ``ui8``
   inside) is refused with the op and its location;
3. a RESCALE from i32/i48 straight to an unsigned type, which the spec does not allow,
   becomes two (wide -> i8 with the zero point moved by -128, then i8 -> u8 at unit
   scale), exactly as ExecuTorch's RESCALE visitor writes it;
4. every unsigned type becomes the signless type of the same width; constants keep
   their bytes (an unsigned zero point 200 reads as -56 afterwards).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    Signedness,
    StringAttr,
    TensorType,
)
from xdsl.dialects.func import FuncOp
from xdsl.ir import Attribute, Block, BlockArgument, Operation, OpResult, SSAValue, Use
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from ir.builders import const, numpy_from_dense
from ir.defaults import DEFAULT_SPEC
from ir.dialects.tosa_ext import (
    ConcatOp,
    ConstOp,
    IfOp,
    RescaleOp,
    ReshapeOp,
    ReverseOp,
    RoundingMode,
    RoundingModeAttr,
    SliceOp,
    TileOp,
    TransposeOp,
    WhileOp,
    YieldOp,
)
from ir.lowering import entry_block, terminator
from ir.speedups.shared_attrs import shared
from ir.tensor_names import TENSOR_NAME, function_tensor_names, set_tensor_names, tensor_names
from ir.verify import Diagnostic, VerificationError, as_target, diagnose, stage_rules
from ir.verify.core import (
    Checker,
    defined_values,
    element_type,
    has_op_rules,
    is_signed_or_unsigned,
    module_rule_entries,
)
from ir.verify.incremental import Changes, touches_signedness

#: offset between an unsigned 8-bit value and the signed one with the same meaning
_UNSIGNED_8BIT_OFFSET = 128


_CONTRACT, _STAGE = "the uint8 IO contract", "typed"


class UnsignedIOError(VerificationError):
    """A typed module whose unsigned values are not confined to the boundary; its
    ``diagnostics`` are ``ir.verify``'s stage rules."""

    @classmethod
    def at(cls, rule: str, op: Operation, message: str) -> UnsignedIOError:
        """One violation the pass itself finds (not a stage rule's)."""
        return cls([Diagnostic.at(rule, op, message)], _CONTRACT, _STAGE)


def is_unsigned(t: Attribute) -> bool:
    element = t.element_type if isinstance(t, TensorType) else t
    return isinstance(element, IntegerType) and element.signedness.data == Signedness.UNSIGNED


def _signless(t: Attribute) -> Attribute:
    """``t`` with a signless element type; built once per type object (``shared``)."""
    if isinstance(t, TensorType) and is_unsigned(t):
        width, shape = t.element_type.width.data, t.get_shape()
        return shared(("signless",), lambda: TensorType(IntegerType(width), shape), t)
    if isinstance(t, IntegerType) and is_unsigned(t):
        return shared(("signless",), lambda: IntegerType(t.width.data), t)
    return t


def _flag(op: RescaleOp, name: str) -> bool:
    # RescaleOp defines its flags as IntegerAttr properties.
    return bool(cast(IntegerAttr, op.properties[name]).value.data)


# --------------------------------------------------------------------------- 1. place the boundary

#: ops that only move values: a ui8 tensor through them is a signless one shifted by 128
#: through them, element for element (no zero point, no arithmetic, no fill value)
DATA_MOVEMENT = (ConcatOp, ReshapeOp, ReverseOp, SliceOp, TileOp, TransposeOp)

_UNIT_MULTIPLIER, _UNIT_SHIFT = 1 << 30, 30


def _const_value(value: SSAValue) -> np.ndarray | None:
    owner = value.owner
    if isinstance(owner, ConstOp) and isinstance(owner.values, DenseIntOrFPElementsAttr):
        return numpy_from_dense(owner.values).reshape(-1)
    return None


def _is_unit_input_rescale(op: RescaleOp) -> bool:
    """``input_unsigned`` at scale 1 into int8 with the zero point moved by exactly -128:
    the signless int8 tensor with the same real values as its ui8 input."""
    if not _flag(op, "input_unsigned") or _flag(op, "output_unsigned") or _flag(op, "per_channel"):
        return False
    out = op.output.type.element_type
    if not (isinstance(out, IntegerType) and out.width.data == 8 and not is_unsigned(out)):
        return False
    found = [_const_value(v) for v in (op.multiplier, op.shift, op.input_zp, op.output_zp)]
    scalars = [int(v[0]) for v in found if v is not None and v.size == 1]
    if len(scalars) != len(found):
        return False
    multiplier, shift, izp, ozp = scalars
    unsigned_izp = izp & 0xFF  # a ui8 constant read as stored
    return (multiplier, shift) == (
        _UNIT_MULTIPLIER,
        _UNIT_SHIFT,
    ) and unsigned_izp - ozp == _UNSIGNED_8BIT_OFFSET


def _boundary_rescale(use: Use) -> RescaleOp | None:
    """The RESCALE ``use`` is the ``input_unsigned`` input of, if it is one."""
    op = use.operation
    return (
        op if isinstance(op, RescaleOp) and use.index == 0 and _flag(op, "input_unsigned") else None
    )


def _boundary_input_use(use: Use) -> bool:
    return _boundary_rescale(use) is not None


def _unit_rescale(
    block,
    before: Operation,
    value: SSAValue,
    out_type: Attribute,
    input_unsigned: bool,
    name: str,
    location,
    edits: _Edits,
) -> RescaleOp:
    """``value`` -> ``out_type`` at scale 1, the zero point moved by 128 across the sign."""
    i8, u8 = IntegerType(8), IntegerType(8, Signedness.UNSIGNED)
    izp, ozp = (
        ((0, u8), (-_UNSIGNED_8BIT_OFFSET, i8))
        if input_unsigned
        else ((-_UNSIGNED_8BIT_OFFSET, i8), (0, u8))
    )

    def add_const(number: int, element: Attribute, suffix: str, dtype) -> SSAValue:
        c = const(np.array([number], dtype=dtype), element)
        c.location = location
        set_tensor_names(c, [f"{name}_{suffix}"])
        block.insert_op_before(c, before)
        edits.created(c)
        return c.results[0]

    operands = [
        value,
        add_const(_UNIT_MULTIPLIER, IntegerType(32), "multipliers", np.int32),
        add_const(_UNIT_SHIFT, i8, "shifts", np.int8),
        add_const(izp[0], izp[1], "input_zp", np.uint8 if izp[1] is u8 else np.int8),
        add_const(ozp[0], ozp[1], "output_zp", np.uint8 if ozp[1] is u8 else np.int8),
    ]
    rescale = RescaleOp.create(
        operands=operands,
        result_types=[out_type],
        properties={
            "scale32": IntegerAttr.from_bool(True),
            "rounding_mode": RoundingModeAttr(RoundingMode.SINGLE_ROUND),
            "per_channel": IntegerAttr.from_bool(False),
            "input_unsigned": IntegerAttr.from_bool(input_unsigned),
            "output_unsigned": IntegerAttr.from_bool(not input_unsigned),
        },
    )
    rescale.location = location
    set_tensor_names(rescale, [name])
    block.insert_op_before(rescale, before)
    edits.created(rescale)
    return rescale


def _data_operands(op: Operation) -> tuple[SSAValue, ...]:
    """The operands whose elements a data-movement op moves (a concat's every input,
    the others' first; shapes, multiples and starts are not data)."""
    return tuple(op.operands) if isinstance(op, ConcatOp) else tuple(op.operands[:1])


def _region_args(op: IfOp | WhileOp, index: int) -> list[BlockArgument]:
    """The block arguments input ``index`` of a cond_if / while_loop becomes."""
    regions = (op.then_graph, op.else_graph) if isinstance(op, IfOp) else op.regions
    return [cast(Block, region.blocks.first).args[index] for region in regions]


def _yielded(op: IfOp | WhileOp, index: int) -> list[SSAValue]:
    """What the regions of ``op`` yield as its result ``index`` (a while_loop's cond
    region yields the condition, not a result)."""
    regions = (op.then_graph, op.else_graph) if isinstance(op, IfOp) else (op.body_graph,)
    return [terminator(region.blocks.first).operands[index] for region in regions]


@dataclass
class _UnsignedWeb:
    """The ui8 values that must turn signless together, and where the web ends.

    Two values are tied when one is moved into the other: a data-movement op's input and
    output (every input of a concat with each other), a cond_if / while_loop input, the
    region arguments it becomes, what the regions yield and the op's result (a loop's
    carried value in all of its places). A web ends at a function argument, at the
    function's return, and at a RESCALE that reads or writes the unsigned value; the
    arguments get a boundary RESCALE, the return an ``output_unsigned`` one, and a RESCALE
    inside the web (not reading a function argument, not read only by the return: a
    region's, or one behind data movement) drops its flag for the zero point moved by 128,
    which is exact: ``u - zp == (u - 128) - (zp - 128)``, and the clamp to [0, 255] is the
    clamp to [-128, 127] shifted.
    """

    arguments: list[BlockArgument] = field(default_factory=list)
    values: dict[SSAValue, None] = field(default_factory=dict)  # ordered set, args excluded
    reads_unsigned: list[RescaleOp] = field(default_factory=list)
    writes_unsigned: list[RescaleOp] = field(default_factory=list)


def _is_8bit_unsigned(value: SSAValue) -> bool:
    t = value.type
    return (
        isinstance(t, TensorType)
        and is_unsigned(t)
        and cast(TensorType[IntegerType], t).element_type.width.data == 8
    )


def _is_boundary_output(rescale: RescaleOp, ret: Operation) -> bool:
    return all(u.operation is ret for u in rescale.output.uses)


def _ties_of_definition(value: SSAValue, web: _UnsignedWeb, entry: Block) -> list[SSAValue] | None:
    """The values tied to ``value`` by what defines it; None when that is not data
    movement, control flow or a RESCALE (arithmetic producing ui8: not legalized)."""
    if isinstance(value, BlockArgument):
        if value.block is entry:
            return []
        parent = value.block.parent_op()
        if isinstance(parent, IfOp):
            return [parent.input_list[value.index]]
        if isinstance(parent, WhileOp):
            return [parent.input_list[value.index]]
        return None
    op = value.owner
    if isinstance(op, DATA_MOVEMENT):
        return list(_data_operands(op))
    if isinstance(op, IfOp | WhileOp):
        index = cast(OpResult, value).index
        return (
            [*_yielded(op, index), op.input_list[index]]
            if isinstance(op, WhileOp)
            else (_yielded(op, index))
        )
    if isinstance(op, RescaleOp) and _flag(op, "output_unsigned"):
        if op not in web.writes_unsigned:
            web.writes_unsigned.append(op)
        return []
    return None


def _ties_of_use(use: Use, web: _UnsignedWeb, ret: Operation) -> list[SSAValue] | None:
    """The values tied to a value by ``use``; None when the use is arithmetic (or a
    misplaced flag), which this pass does not legalize."""
    op, index = use.operation, use.index
    if op is ret:
        return []
    if isinstance(op, RescaleOp) and index == 0 and _flag(op, "input_unsigned"):
        if op not in web.reads_unsigned:
            web.reads_unsigned.append(op)
        return []
    if isinstance(op, DATA_MOVEMENT):
        return [op.results[0]] if index < len(_data_operands(op)) else None
    if isinstance(op, IfOp):
        return list(_region_args(op, index - 1)) if index > 0 else None
    if isinstance(op, WhileOp):
        return [*_region_args(op, index), op.results[index]]
    if isinstance(op, YieldOp):
        parent = op.parent_op()
        in_results = isinstance(parent, IfOp) or (
            isinstance(parent, WhileOp) and op.parent_region() is parent.body_graph
        )
        return [cast(IfOp | WhileOp, parent).results[index]] if in_results else None
    return None


def _unsigned_web(func: FuncOp, flagged: list[RescaleOp]) -> _UnsignedWeb | None:
    """Every ui8 value that is not at the boundary and what it is tied to, or None when
    some of it reaches an op that only moves nothing (arithmetic on ui8, a ui8 next to a
    signed value, a zero point that is not a constant): left whole for the check to
    refuse, with every diagnostic. ``flagged``: the RESCALEs in ``func`` with an unsigned
    flag, in walk order (the webs start at its ui8 arguments and at those RESCALEs)."""
    entry = entry_block(func)
    ret = terminator(func.body.blocks.last)
    web = _UnsignedWeb()
    pending: list[SSAValue] = [
        a
        for a in entry.args
        if _is_8bit_unsigned(a) and any(not _boundary_input_use(u) for u in a.uses)
    ]
    pending += [
        op.output
        for op in flagged
        if _flag(op, "output_unsigned")
        and _is_8bit_unsigned(op.output)
        and not _is_boundary_output(op, ret)
    ]
    seen: set[SSAValue] = set()
    while pending:
        value = pending.pop(0)
        if value in seen:
            continue
        seen.add(value)
        if not _is_8bit_unsigned(value):
            return None  # tied to a signed value, or 16-bit
        is_argument = isinstance(value, BlockArgument) and value.block is entry
        if is_argument:
            web.arguments.append(cast(BlockArgument, value))
        else:
            web.values[value] = None
        ties = _ties_of_definition(value, web, entry)
        if ties is None:
            return None
        for use in value.uses:
            if is_argument and _boundary_input_use(use):
                continue  # stays on the argument: the boundary it already has
            found = _ties_of_use(use, web, ret)
            if found is None:
                return None
            ties += found
        pending += ties
    zero_points = [r.input_zp for r in web.reads_unsigned]
    zero_points += [r.output_zp for r in web.writes_unsigned]
    if not all(_is_scalar_const(zp) for zp in zero_points):
        return None
    web.arguments.sort(key=lambda a: a.index)
    return web


def _is_scalar_const(value: SSAValue) -> bool:
    found = _const_value(value)
    return found is not None and found.size == 1


def _drop_flag(rescale: RescaleOp, flag: str, zp_index: int, edits: _Edits) -> None:
    """``rescale`` reads (``input_unsigned``) or writes (``output_unsigned``) signless
    int8 instead: the flag off, its zero point moved by -128."""
    old = rescale.operands[zp_index]
    value = _const_value(old)
    assert value is not None  # checked by _unsigned_web
    unsigned = int(value[0]) & 0xFF  # a ui8 constant read as stored
    names = tensor_names(old.owner) if isinstance(old.owner, Operation) else [None]
    name = f"{names[0] or tensor_names(rescale)[0] or 'rescale'}_signed"
    c = const(np.array([unsigned - _UNSIGNED_8BIT_OFFSET], dtype=np.int8), IntegerType(8))
    c.location = rescale.location
    set_tensor_names(c, [name])
    Rewriter.insert_op(c, InsertPoint.before(rescale))
    edits.created(c)
    rescale.operands[zp_index] = c.results[0]
    rescale.properties[flag] = IntegerAttr.from_bool(False)
    if isinstance(old.owner, ConstOp) and not old.uses:
        edits.erase(old.owner)


def place_boundary(func: FuncOp, flagged: list[RescaleOp], edits: _Edits) -> list[RescaleOp]:
    """Step 1 on one function (``flagged``: its RESCALEs with an unsigned flag, in walk
    order); returns the RESCALEs it inserted (none when the ui8 flow cannot be legalized
    as a whole: the check then refuses it)."""
    web = _unsigned_web(func, flagged)
    if web is None:
        return []
    block = entry_block(func)
    arg_names, res_names = function_tensor_names(func)
    inserted: list[RescaleOp] = []
    anchor = block.first_op  # the new RESCALEs go in front, in argument order
    for arg in web.arguments:
        assert anchor is not None  # the argument has uses, so the block has ops
        stray = [use for use in arg.uses if not _boundary_input_use(use)]
        boundary = (_boundary_rescale(u) for u in arg.uses)
        shared = next((r for r in boundary if r is not None and _is_unit_input_rescale(r)), None)
        if shared is None:
            first = min((use.operation for use in stray), key=_position_in(block))
            name = f"{arg_names[arg.index] or f'arg{arg.index}'}_signed"
            shared = _unit_rescale(
                block, anchor, arg, _signless(arg.type), True, name, first.location, edits
            )
            inserted.append(shared)
        for use in stray:
            use.operation.operands[use.index] = shared.output
    for rescale in web.reads_unsigned:
        _drop_flag(rescale, "input_unsigned", 3, edits)
    for rescale in web.writes_unsigned:
        _drop_flag(rescale, "output_unsigned", 4, edits)
    for value in web.values:
        new = Rewriter.replace_value_with_new_type(value, _signless(value.type))
        if isinstance(value, BlockArgument):
            cast(BlockArgument, new).location = value.location  # a block argument's is one
    inserted.extend(_place_outputs(func, res_names, edits))
    return inserted


def _position_in(block: Block):
    """A sort key: the index in ``block`` of the op, or of its ancestor there."""

    def key(op: Operation) -> int:
        while op.parent_block() is not block:
            op = cast(Operation, op.parent_op())
        return block.get_operation_index(op)

    return key


def _place_outputs(func: FuncOp, res_names: list[str], edits: _Edits) -> list[RescaleOp]:
    block = func.body.blocks.last
    ret = terminator(block)
    declared = func.function_type.outputs.data
    inserted = []
    for index, (value, want) in enumerate(zip(ret.operands, declared)):
        if not is_unsigned(want) or is_unsigned(value.type):
            continue
        owner = value.owner if isinstance(value.owner, Operation) else ret
        name = f"{res_names[index] or f'output{index}'}_unsigned"
        rescale = _unit_rescale(block, ret, value, want, False, name, owner.location, edits)
        ret.operands[index] = rescale.output
        inserted.append(rescale)
        res_names[index] = name
    if inserted and func.res_attrs is not None:
        func.res_attrs = ArrayAttr(
            [DictionaryAttr({TENSOR_NAME: StringAttr(n)}) for n in res_names]
        )
    return inserted


# --------------------------------------------------------------------------- 2. check


def check_unsigned_at_boundary(module: ModuleOp) -> None:
    """Raise ``UnsignedIOError`` unless every unsigned value is a boundary value: the
    typed stage's rules of ``ir.verify`` (uint8-io-only, the unsigned flags), all of them
    listed."""
    found = diagnose(module, DEFAULT_SPEC, _STAGE, groups=("stage",))
    if found:
        raise UnsignedIOError(found, _CONTRACT, _STAGE)


# --------------------------------------------------------------------------- 3. split


def _needs_split(op: RescaleOp) -> bool:
    # structurally verified (check_unsigned_at_boundary): RESCALE's input is a tensor
    element = cast(TensorType, op.input.type).element_type
    return _flag(op, "output_unsigned") and not (
        isinstance(element, IntegerType) and element.width.data in (8, 16)
    )


def _scalar_of(value: SSAValue, what: str, op: RescaleOp) -> int:
    owner = value.owner
    if not isinstance(owner, ConstOp) or not isinstance(owner.values, DenseIntOrFPElementsAttr):
        raise UnsignedIOError.at("compile-time-constant", op, f"{what} is not a constant")
    return int(numpy_from_dense(owner.values).reshape(-1)[0])


def split_wide_to_unsigned(op: RescaleOp, edits: _Edits) -> None:
    """i32/i48 -> u8 becomes i32/i48 -> i8 (zero point - 128) and i8 -> u8 (unit scale)."""
    out_type = op.output.type
    element = out_type.element_type
    if not isinstance(element, IntegerType) or element.width.data != 8:
        message = f"a wide-to-unsigned RESCALE must produce 8 bits, got {out_type}"
        raise UnsignedIOError.at("rescale-unsigned", op, message)
    name = tensor_names(op)[0] or "rescale"
    signed_name = f"{name}_signed"
    i8 = IntegerType(8)
    output_zp = _scalar_of(op.output_zp, "output zero point", op)

    def add_const(array: np.ndarray, element: Attribute, const_name: str) -> SSAValue:
        c = const(array, element)
        c.location = op.location
        set_tensor_names(c, [const_name])
        Rewriter.insert_op(c, InsertPoint.before(op))
        edits.created(c)
        return c.results[0]

    first_zp = add_const(
        np.array([output_zp - _UNSIGNED_8BIT_OFFSET], dtype=np.int8), i8, f"{signed_name}_output_zp"
    )
    first = RescaleOp.create(
        operands=[op.input, op.multiplier, op.shift, op.input_zp, first_zp],
        result_types=[TensorType(i8, out_type.get_shape())],
        properties={**op.properties, "output_unsigned": IntegerAttr.from_bool(False)},
    )
    first.location = op.location
    set_tensor_names(first, [signed_name])
    Rewriter.insert_op(first, InsertPoint.before(op))
    edits.created(first)

    unit = [
        add_const(np.array([1 << 30], dtype=np.int32), IntegerType(32), f"{name}_multipliers"),
        add_const(np.array([30], dtype=np.int8), i8, f"{name}_shifts"),
        add_const(np.array([-_UNSIGNED_8BIT_OFFSET], dtype=np.int8), i8, f"{name}_input_zp"),
        add_const(np.array([0], dtype=np.uint8), out_type.element_type, f"{name}_output_zp"),
    ]
    second = RescaleOp.create(
        operands=[first.output, *unit],
        result_types=[out_type],
        properties={
            "scale32": IntegerAttr.from_bool(True),
            "rounding_mode": RoundingModeAttr(op.rounding_mode.data),
            "per_channel": IntegerAttr.from_bool(False),
            "input_unsigned": IntegerAttr.from_bool(False),
            "output_unsigned": IntegerAttr.from_bool(True),
        },
        attributes=dict(op.attributes),
    )
    second.location = op.location
    Rewriter.insert_op(second, InsertPoint.before(op))
    edits.created(second)
    old_output_zp = op.output_zp.owner
    op.output.replace_all_uses_with(second.output)
    edits.erase(op)
    if isinstance(old_output_zp, ConstOp) and not old_output_zp.output.uses:
        edits.erase(old_output_zp)


# --------------------------------------------------------------------------- 4. retype


def make_signless(ops: list[Operation], funcs: list[FuncOp]) -> None:
    """Step 4 on ``ops``, which hold every unsigned value of the module (a result or a
    region's argument), and on the signatures of ``funcs``, every function."""
    for op in ops:
        for region in op.regions:
            for block in region.blocks:
                for arg in list(block.args):
                    if is_unsigned(arg.type):
                        location = arg.location
                        # a block argument's replacement is a block argument
                        new_arg = cast(
                            BlockArgument,
                            Rewriter.replace_value_with_new_type(arg, _signless(arg.type)),
                        )
                        new_arg.location = location
        if isinstance(op, ConstOp) and is_unsigned(op.output.type):
            # dense bytes, retyped; an elided (dense_resource) constant has none and fails here
            # as before
            values = cast(DenseIntOrFPElementsAttr, op.values)
            signless_type = cast(
                TensorType[IntegerType], _signless(values.type)
            )  # values.type is the tensor result type
            op.properties["values"] = DenseIntOrFPElementsAttr(signless_type, values.data)
        for result in list(op.results):
            if is_unsigned(result.type):
                Rewriter.replace_value_with_new_type(result, _signless(result.type))
    for func in funcs:
        ret = terminator(func.body.blocks.last)
        func.properties["function_type"] = type(func.function_type).from_lists(
            entry_block(func).arg_types, ret.operand_types
        )


# --------------------------------------------------------------------------- the pass


class _Edits:
    """The pass's edits as it makes them: the ops it creates (kept: the check and the
    retyping read them besides the ops ``_scan`` found) and erases, reported into
    ``changes`` for ``run_pipeline``'s verification."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes
        self.ops: list[Operation] = []

    def created(self, op: Operation) -> None:
        """``op`` was inserted."""
        self.changes.created(op)
        self.ops.append(op)

    def erase(self, op: Operation) -> None:
        self.changes.erased(op)
        Rewriter.erase_op(op)


@dataclass
class _Signedness:
    """Where a module has signedness, from one pass over its ops: everything the steps
    above read or change besides what they create, and everything the typed stage's
    rules report on."""

    #: the ops that define a signed or unsigned tensor (a result or a region's argument)
    defining: list[Operation] = field(default_factory=list)
    #: per op at the top of the module, its RESCALEs with an unsigned flag, in walk order
    flagged: dict[Operation, list[RescaleOp]] = field(default_factory=dict)
    #: every ``func.func``
    funcs: list[FuncOp] = field(default_factory=list)

    def all_flagged(self) -> list[RescaleOp]:
        return [rescale for rescales in self.flagged.values() for rescale in rescales]

    def suspects(self) -> set[Operation]:
        """The ops ``touches_signedness`` picks (``ir.verify.incremental``): an op reading
        or defining a signed or unsigned tensor, a signature with one, a RESCALE with an
        unsigned flag. A value read is one some op defines, so the readers are those of
        ``defining``'s values."""
        found: set[Operation] = set(self.defining)
        for op in self.defining:
            for value in defined_values(op):
                found.update(use.operation for use in value.uses)
        found.update(self.all_flagged())
        found.update(self.funcs)
        return {op for op in found if touches_signedness(op)}


def _scan(module: ModuleOp) -> _Signedness:
    found = _Signedness()
    signed_type: dict[int, bool] = {}  # by id: the module holds its types while this runs
    kinds: dict[type[Operation], type[Operation] | None] = {}

    def is_signed(t: Attribute) -> bool:
        known = signed_type.get(id(t))
        if known is None:
            known = signed_type[id(t)] = is_signed_or_unsigned(element_type(t))
        return known

    def kind(op_class: type[Operation]) -> type[Operation] | None:
        """``RescaleOp``, ``FuncOp`` or None, once per class."""
        if op_class not in kinds:
            kinds[op_class] = next(
                (k for k in (RescaleOp, FuncOp) if issubclass(op_class, k)), None
            )
        return kinds[op_class]

    def visit(op: Operation, flagged: list[RescaleOp]) -> None:
        """``op``, then what is nested in it (walk order)."""
        op_kind = kind(type(op))
        if op_kind is RescaleOp:
            rescale = cast(RescaleOp, op)
            if _flag(rescale, "input_unsigned") or _flag(rescale, "output_unsigned"):
                flagged.append(rescale)
        elif op_kind is FuncOp:
            found.funcs.append(cast(FuncOp, op))
        defines_signed = False
        for result in op.results:
            if is_signed(result.type):
                defines_signed = True
                break
        if op.regions:
            if not defines_signed:
                defines_signed = any(
                    is_signed(a.type) for r in op.regions for b in r.blocks for a in b.args
                )
            if defines_signed:
                found.defining.append(op)
            for region in op.regions:
                for block in region.blocks:
                    for nested in block.ops:
                        visit(nested, flagged)
        elif defines_signed:
            found.defining.append(op)

    for top in module.body.block.ops:
        visit(top, found.flagged.setdefault(top, []))
    return found


_UNSIGNED_FLAGS = ("input_unsigned", "output_unsigned")

#: the typed stage's rules (``ir.verify.stage_rules``, as registered: ``signedness`` is
#: an op rule run over the module); each reports only on an op that defines a signed or
#: unsigned tensor, on a ``func.func`` or on a RESCALE with an unsigned flag, which is
#: what it walks past every other op to find
_STAGE_RULES = (stage_rules.signedness, stage_rules.unsigned_results, stage_rules.flag_placement)


def _known_stage_rules() -> tuple | None:
    """The stage group's module rules as ``_check`` may run them on a view, or None when
    the registry holds others than ``_STAGE_RULES`` (or op rules) and the full check must
    run: a registered rule is known by the function it runs per op or on the module."""
    entries = module_rule_entries(("stage",))
    known = tuple(entry.each or entry.whole for entry in entries)
    if known != _STAGE_RULES or has_op_rules(("stage",)):
        return None
    return tuple(entry.whole for entry in entries)


class _Ops:
    """A module as the stage rules read it (``walk``), holding only the ops they report on."""

    def __init__(self, ops: list[Operation]) -> None:
        self._ops = ops

    def walk(self):
        return iter(self._ops)


def _check(module: ModuleOp, found: _Signedness, edits: _Edits) -> None:
    """Step 2: ``check_unsigned_at_boundary`` after step 1, its rules run on the ops they
    report on (those ``_scan`` found and step 1 created) rather than walking the module
    for them; the full check, listing every diagnostic in module order, when they find
    anything, or when the stage's rules are not the ones this knows. The module is
    structurally verified before (``run_pipeline``) and after (the pipeline's
    verification of the changes)."""
    rules = _known_stage_rules()
    if rules is None:
        check_unsigned_at_boundary(module)
        return
    ops = [*found.defining, *found.all_flagged(), *found.funcs, *edits.ops]
    view = cast(ModuleOp, _Ops([op for op in dict.fromkeys(ops) if op.parent is not None]))
    checker = Checker(as_target(DEFAULT_SPEC), _STAGE)
    for rule in rules:
        rule(checker, view)
        if checker.diagnostics:
            check_unsigned_at_boundary(module)
            return


@dataclass(frozen=True)
class LegalizeUnsignedIO(ModulePass):
    """Typed -> signless: place missing boundary RESCALEs, check, split wide-to-unsigned
    RESCALEs, drop signedness."""

    name = "legalize-unsigned-io"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        self.apply_reporting(ctx, op)

    def apply_reporting(self, ctx: Context, op: ModuleOp) -> Changes:
        """Apply, and return what changed, for ``run_pipeline``'s verification: the ops
        the steps create or erase, and every op with a signed or unsigned value or flag
        (``touches_signedness``), which is every op they modify in place. The work is
        one pass over the ops to find those, then only them and what they reach: a
        module without any has nothing to legalize and nothing the check could refuse."""
        found = _scan(op)
        suspects = found.suspects()
        if not suspects:
            return Changes()
        edits = _Edits(Changes())
        for suspect in suspects:
            edits.changes.modified(suspect)
        _place(found, edits)
        _check(op, found, edits)
        _split_and_retype(found, edits)
        return edits.changes


def _place(found: _Signedness, edits: _Edits) -> None:
    """Step 1 on every function."""
    for top, flagged in found.flagged.items():
        if isinstance(top, FuncOp):
            place_boundary(top, flagged, edits)


def _split_and_retype(found: _Signedness, edits: _Edits) -> None:
    """Steps 3 and 4, on the ops ``_scan`` found and those the steps created."""
    for rescale in [*found.all_flagged(), *edits.ops]:
        if isinstance(rescale, RescaleOp) and rescale.parent is not None and _needs_split(rescale):
            split_wide_to_unsigned(rescale, edits)
    retyped = [*found.defining, *edits.ops]
    make_signless([o for o in dict.fromkeys(retyped) if o.parent is not None], found.funcs)


def to_signless(module: ModuleOp) -> ModuleOp:
    """Apply ``legalize-unsigned-io`` in place and verify; returns the module."""
    from ir import make_context

    LegalizeUnsignedIO().apply(make_context(), module)
    module.verify()
    return module
