"""Structural equality of two TOSA modules: ours against ExecuTorch's (read by tosa-opt).

``theirs`` is what ``ir.parse_module(deserialize_with_tosa_opt(...))`` gives for
ExecuTorch's flatbuffer; ``ours`` is the project's IR of the same partition. The two may
place constants differently (tosa-opt's deserializer emits a ``tosa.const`` where the
flatbuffer lists it, ours may emit it right before its first user), and ours may carry
discardable attributes (``tosa.tensor_name`` on ops, function arguments and results),
other argument/result attributes and locations. None of that is part of the graph.

Equality is:

- the same number of functions, each with the same function type (argument and result
  types; argument/result attributes and symbol names are not compared);
- the same sequence of non-constant ops, walked in order and recursively into regions
  (``cond_if``/``while_loop`` bodies, ``tosa.yield`` included), pairwise equal in op
  name, properties (missing ones read as their IRDL default; names starting with
  ``tosa.`` skipped; discardable attributes never compared), result types, region block
  argument types and operands;
- the same return operands per function.

An operand is compared by what it stands for, not by its SSA name:

- a block argument: (region nesting depth, owning op's index in the sequence or the
  function, region index, argument index);
- a result of a non-constant op: (that op's index in the sequence, result index);
- a result of ``tosa.const``/``tosa.const_shape``: its type and its values, compared as
  bytes (``ir.builders.numpy_from_dense``; equal dtype, shape and bytes, so ``-0.0`` and
  ``0.0`` differ and equal NaNs match), wherever the constant is defined.
"""

from __future__ import annotations

import collections
import io
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Attribute, Block, BlockArgument, Operation, OpResult, SSAValue
from xdsl.printer import Printer

from ir.builders import numpy_from_dense
from ir.printing import mlir_value_names

CONST_OPS = frozenset({"tosa.const", "tosa.const_shape"})
DISCARDABLE_PREFIX = "tosa."
MAX_TEXT = 160


def op_histogram(module: Operation) -> collections.Counter:
    """How many ops of each name ``module`` holds (regions included, the module not)."""
    return collections.Counter(op.name for op in module.walk() if op is not module)


def _functions(module: ModuleOp) -> list[FuncOp]:
    return [op for op in module.ops if isinstance(op, FuncOp)]


def _is_const(op: Operation) -> bool:
    return op.name in CONST_OPS


@dataclass
class _Graph:
    """One function flattened: its non-constant ops in walk order, and where each value
    comes from."""

    func: FuncOp
    ops: list[Operation]
    index: dict[Operation, int]
    depth: dict[Block, int]
    names: dict[SSAValue, str]

    @classmethod
    def of(cls, func: FuncOp) -> _Graph:
        ops: list[Operation] = []
        depth: dict[Block, int] = {}

        def visit(block: Block, level: int) -> None:
            depth[block] = level
            for op in block.ops:
                if isinstance(op, ReturnOp) and op.parent_op() is func:
                    continue
                if not _is_const(op):
                    ops.append(op)
                for region in op.regions:
                    for inner in region.blocks:
                        visit(inner, level + 1)

        for block in func.body.blocks:
            visit(block, 0)
        index = {op: i for i, op in enumerate(ops)}
        return cls(func, ops, index, depth, mlir_value_names(func))

    def returns(self) -> list[SSAValue]:
        terminator = self.func.body.blocks.last.last_op
        return list(terminator.operands) if isinstance(terminator, ReturnOp) else []

    # -- what an operand stands for ------------------------------------------------
    def key(self, value: SSAValue):
        """A comparable description of ``value`` (see the module docstring)."""
        if isinstance(value, BlockArgument):
            block = value.block
            owner = block.parent_op()
            if owner is self.func:
                where = "function"
            elif owner in self.index:
                where = f"op #{self.index[owner]}"
            else:
                where = f"{owner.name if owner else '?'} (outside the sequence)"
            region = block.parent
            region_index = owner.regions.index(region) if owner is not None else -1
            return ("arg", self.depth.get(block, -1), where, region_index, value.index)
        if isinstance(value, OpResult):
            op = value.op
            if _is_const(op):
                return ("const", op)
            if op in self.index:
                return ("result", self.index[op], value.index)
            return ("foreign", op.name, value.index)
        return ("value", id(value))

    def describe(self, value: SSAValue) -> str:
        key = self.key(value)
        name = "%" + self.names.get(value, "?")
        kind = key[0]
        if kind == "arg":
            _, level, where, region, index = key
            if where == "function":
                return f"{name} (function argument {index})"
            return f"{name} (region {region} argument {index} of {where}, depth {level})"
        if kind == "result":
            op = self.ops[key[1]]
            return f"{name} (result {key[2]} of op #{key[1]} {op.name})"
        if kind == "const":
            op = key[1]
            return f"{name} ({op.name} {_text(op.results[0].type)} = {_values_text(op)})"
        return f"{name} ({key})"


def _mlir(thing) -> str:
    """MLIR text of an attribute (or a list of them); ``str`` of anything else."""
    if isinstance(thing, Attribute):
        out = io.StringIO()
        Printer(stream=out).print_attribute(thing)
        return out.getvalue()
    if isinstance(thing, list | tuple):
        return "[" + ", ".join(_mlir(t) for t in thing) + "]"
    return str(thing)


def _text(thing, limit: int = MAX_TEXT) -> str:
    text = _mlir(thing).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _const_values(op: Operation) -> Attribute | None:
    return op.properties.get("values")


def _as_array(attr: Attribute) -> np.ndarray | None:
    if isinstance(attr, DenseIntOrFPElementsAttr):
        return numpy_from_dense(attr)
    return None


def _values_text(op: Operation) -> str:
    values = _const_values(op)
    array = _as_array(values) if values is not None else None
    if array is None:
        return _text(values, 80)
    with np.printoptions(threshold=12, edgeitems=3, linewidth=10_000):
        return _text(f"{array.dtype}{list(array.shape)} {np.array2string(array)}", 100)


def _same_const(ours: Operation, theirs: Operation) -> str | None:
    """None if the two constants are equal, else what differs."""
    if ours.name != theirs.name:
        return f"{ours.name} vs {theirs.name}"
    if ours.results[0].type != theirs.results[0].type:
        return f"constant type {_text(ours.results[0].type)} vs {_text(theirs.results[0].type)}"
    a_attr, b_attr = _const_values(ours), _const_values(theirs)
    a, b = _as_array(a_attr), _as_array(b_attr)
    if a is None or b is None:
        return None if a_attr == b_attr else "constant values differ"
    if a.dtype != b.dtype or a.shape != b.shape:
        return f"constant storage {a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}"
    if a.size == 0:
        return None
    flat_a, flat_b = np.ascontiguousarray(a).reshape(-1), np.ascontiguousarray(b).reshape(-1)
    bytes_a = flat_a.view(np.uint8).reshape(flat_a.size, -1)
    bytes_b = flat_b.view(np.uint8).reshape(flat_b.size, -1)
    if np.array_equal(bytes_a, bytes_b):
        return None
    mismatched = np.flatnonzero((bytes_a != bytes_b).any(axis=1))
    first = int(mismatched[0])
    position = tuple(int(p) for p in np.unravel_index(first, a.shape)) if a.shape else ()
    return (
        f"constant values differ in {mismatched.size} of {flat_a.size} elements; first at "
        f"{position}: ours {flat_a[first]!r} vs theirs {flat_b[first]!r}"
    )


def _properties(op: Operation) -> dict[str, Attribute]:
    """``op.properties`` with missing defaulted properties filled in, ``tosa.*`` left out."""
    props: dict[str, Attribute] = {}
    get_def = getattr(type(op), "get_irdl_definition", None)
    if get_def is not None:
        for name, prop_def in get_def().properties.items():
            default = getattr(prop_def, "default_value", None)
            if default is not None:
                props[name] = default
    props.update(op.properties)
    return {n: v for n, v in props.items() if not n.startswith(DISCARDABLE_PREFIX)}


def _region_signature(op: Operation) -> list[list[tuple[Attribute, ...]]]:
    return [[tuple(block.arg_types) for block in region.blocks] for region in op.regions]


def _compare_value(ours: _Graph, theirs: _Graph, a: SSAValue, b: SSAValue) -> str | None:
    key_a, key_b = ours.key(a), theirs.key(b)
    if key_a[0] == "const" and key_b[0] == "const":
        return _same_const(key_a[1], key_b[1])
    if key_a != key_b:
        return f"ours {ours.describe(a)} vs theirs {theirs.describe(b)}"
    return None


def _op_differences(ours: _Graph, theirs: _Graph, i: int) -> Iterator[str]:
    a, b = ours.ops[i], theirs.ops[i]
    if a.name != b.name:
        yield f"op name: ours {a.name} vs theirs {b.name}"
        return
    props_a, props_b = _properties(a), _properties(b)
    for name in sorted(set(props_a) | set(props_b)):
        va, vb = props_a.get(name), props_b.get(name)
        if va != vb:
            yield (
                f"property {name!r}: ours {_text(va) if va is not None else '(missing)'} "
                f"vs theirs {_text(vb) if vb is not None else '(missing)'}"
            )
    types_a, types_b = list(a.result_types), list(b.result_types)
    if types_a != types_b:
        yield f"result types: ours {_text(types_a)} vs theirs {_text(types_b)}"
    if _region_signature(a) != _region_signature(b):
        yield (
            f"region block argument types: ours {_text(_region_signature(a))} vs theirs "
            f"{_text(_region_signature(b))}"
        )
    if len(a.operands) != len(b.operands):
        yield f"operand count: ours {len(a.operands)} vs theirs {len(b.operands)}"
        return
    for k, (va, vb) in enumerate(zip(a.operands, b.operands)):
        problem = _compare_value(ours, theirs, va, vb)
        if problem is not None:
            yield f"operand {k}: {problem}"


def _op_label(graph: _Graph, i: int) -> str:
    op = graph.ops[i]
    results = ", ".join("%" + graph.names.get(r, "?") for r in op.results)
    return f"{results + ' = ' if results else ''}{op.name}"


def _histogram_difference(ours: _Graph, theirs: _Graph) -> str:
    a = collections.Counter(op.name for op in ours.ops)
    b = collections.Counter(op.name for op in theirs.ops)
    parts = [
        f"{name} {a[name]} vs {b[name]}" for name in sorted(set(a) | set(b)) if a[name] != b[name]
    ]
    return "; ".join(parts) if parts else "same op counts"


def graph_differences(ours: ModuleOp, theirs: ModuleOp) -> str | None:
    """The first structural difference between the modules, as text; None if equal."""
    funcs_a, funcs_b = _functions(ours), _functions(theirs)
    if len(funcs_a) != len(funcs_b):
        return f"function count: ours {len(funcs_a)} vs theirs {len(funcs_b)}"
    for fa, fb in zip(funcs_a, funcs_b):
        where = f"function @{fb.sym_name.data}"
        ta, tb = fa.function_type, fb.function_type
        if list(ta.inputs.data) != list(tb.inputs.data):
            return (
                f"{where}: argument types: ours {_text(list(ta.inputs.data))} vs theirs "
                f"{_text(list(tb.inputs.data))}"
            )
        if list(ta.outputs.data) != list(tb.outputs.data):
            return (
                f"{where}: result types: ours {_text(list(ta.outputs.data))} vs theirs "
                f"{_text(list(tb.outputs.data))}"
            )
        ga, gb = _Graph.of(fa), _Graph.of(fb)
        for i in range(min(len(ga.ops), len(gb.ops))):
            problems = list(_op_differences(ga, gb, i))
            if problems:
                detail = "\n  ".join(problems)
                return (
                    f"{where}: op #{i} differs (ours `{_op_label(ga, i)}`, theirs "
                    f"`{_op_label(gb, i)}`):\n  {detail}"
                )
        if len(ga.ops) != len(gb.ops):
            n = min(len(ga.ops), len(gb.ops))
            longer, side = (ga, "ours") if len(ga.ops) > len(gb.ops) else (gb, "theirs")
            return (
                f"{where}: {len(ga.ops)} non-constant ops in ours vs {len(gb.ops)} in theirs; "
                f"op #{n} `{_op_label(longer, n)}` only in {side} "
                f"({_histogram_difference(ga, gb)})"
            )
        ra, rb = ga.returns(), gb.returns()
        if len(ra) != len(rb):
            return f"{where}: return operand count: ours {len(ra)} vs theirs {len(rb)}"
        for k, (va, vb) in enumerate(zip(ra, rb)):
            problem = _compare_value(ga, gb, va, vb)
            if problem is not None:
                return f"{where}: return operand {k}: {problem}"
    return None


def assert_same_graph(ours: ModuleOp, theirs: ModuleOp, *, context: str = "") -> None:
    """Raise AssertionError naming the first difference if the graphs are not equal."""
    problem = graph_differences(ours, theirs)
    if problem is not None:
        prefix = f"{context}: " if context else ""
        raise AssertionError(f"{prefix}graphs differ: {problem}")


__all__ = ["CONST_OPS", "assert_same_graph", "graph_differences", "op_histogram"]
