"""Every operator against the spec's own tables (``ir/spec/tosa_1_0_2.json``, or
``tosa_1_1_0.json`` for a ``TOSA-1.1`` target; generated from ``tosa.xml``), with no
per-op lists here:

- ``type-support`` / ``profile``: the element types bind the operator's type variables
  (``in_t``, ``weight_t``, ``acc_t`` from ``acc_type`` ...); some type-support mode must
  match the binding (else ``type-support``), and one matching mode must belong to a
  profile/extension the spec string enables (else ``profile``);
- ``compile-time-constant``: arguments marked ``ctc`` for an enabled profile come from
  ``tosa.const``/``tosa.const_shape``;
- ``shape``: dimension names shared between argument shapes (``[N,IH,IW,IC]`` and
  ``[OC,KH,KW,IC]`` share ``IC``) agree, expressions (``C*M``, ``W/2 + 1``,
  ``2*rank(shape1)``) hold, fixed lengths (``[1]``, ``[4]``) are met;
- ``level``: each argument's ``levellimit`` (``dilation_y * KH <= MAX_KERNEL``) for the
  spec's level, plus the tensor size (``MAX_LOG2_SIZE``) and cond/while nesting limits.

Arithmetic that needs an operator's own formula (output sizes, attribute ranges, zero
points) lives in ``op_rules.py``.
"""

from __future__ import annotations

import ast
import math
from functools import cache

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.irdl import IRDLOperation

from ir.dialects.spec_check import pair_with_spec
from ir.dialects.syntax import type_text
from ir.dialects.tosa_ext import (
    OPS_BY_SPEC_NAME,
    IfOp,
    ResizeOp,
    ShapeType,
    WhileOp,
)
from ir.spec import tosa_spec
from ir.verify.core import (
    Checker,
    array_prop,
    class_test,
    constant_ints,
    defined_values,
    is_constant,
    module_rule_each,
    op_rule,
    spec_type_name,
)
from ir.verify.target import Target, parse_spec

_SPEC_NAME_BY_CLASS: dict[type[Operation], str] = {
    cls: name for name, cls in OPS_BY_SPEC_NAME.items()
}

#: names the spec gives the components of array attributes, by attribute and length
_COMPONENTS: dict[str, dict[int, tuple[str, ...]]] = {
    "pad": {
        4: ("pad_top", "pad_bottom", "pad_left", "pad_right"),
        6: ("pad_d0", "pad_d1", "pad_top", "pad_bottom", "pad_left", "pad_right"),
    },
    "out_pad": {4: ("out_pad_top", "out_pad_bottom", "out_pad_left", "out_pad_right")},
    "stride": {2: ("stride_y", "stride_x"), 3: ("stride_d", "stride_y", "stride_x")},
    "dilation": {2: ("dilation_y", "dilation_x"), 3: ("dilation_d", "dilation_y", "dilation_x")},
    "kernel": {2: ("kernel_y", "kernel_x")},
    "scale": {4: ("scale_y_n", "scale_y_d", "scale_x_n", "scale_x_d")},
}
_BYTES_PER_ELEMENT_MIN = 1  # "taken to be 1 for elements smaller than 8 bits"


def spec_of(op_class: type[Operation], version: str = "1.0") -> tuple[str, dict | None] | None:
    """(spec name, its entry in ``version``'s table; None when that version lacks it),
    or None for an op that is no spec operator."""
    name = _SPEC_NAME_BY_CLASS.get(op_class)
    return (name, tosa_spec(version)["operators"].get(name)) if name else None


def _arguments(op: Operation, spec: dict) -> list[tuple[dict, SSAValue]]:
    """(spec argument, value) for every operand and result, in spec order."""
    inputs = [a for a in spec["arguments"] if a["category"] == "input"]
    outputs = [a for a in spec["arguments"] if a["category"] == "output"]
    return [*pair_with_spec(inputs, op.operands), *pair_with_spec(outputs, op.results)]


# --------------------------------------------------------------------------- types, profiles


def _binding(op: Operation, spec: dict, pairs) -> dict[str, str]:
    variables = set(spec["type_variables"])
    bound: dict[str, str] = {}
    for arg, value in pairs:
        var = arg["element_type"]
        if var in variables and isinstance(value.type, TensorType) and var not in bound:
            element = value.type.element_type
            bound[var] = spec_type_name(element) or type_text(element)
    acc = op.properties.get("acc_type")
    if "acc_t" in variables and acc is not None:
        bound.setdefault("acc_t", spec_type_name(acc) or type_text(acc))
    return bound


def _binding_text(bound: dict[str, str]) -> str:
    return ", ".join(f"{var}={name}" for var, name in sorted(bound.items()))


def _mode_text(name: str, mode: dict) -> str:
    """``'signed 16' CLAMP``; an operator with one mode for every type is just ``COND_IF``."""
    return name if mode["mode"] == "All" else f"'{mode['mode']}' {name}"


def _requirement_text(requirements: list[list[str]]) -> str:
    return " or ".join("+".join(req) for req in requirements)


@op_rule(IRDLOperation, group="spec")
def spec_tables(check: Checker, op: IRDLOperation) -> None:
    """One pass over an op's spec entry: its arguments and names are bound once. (Every
    spec operator is an IRDLOperation; no other op has an entry.) Its findings are
    remembered per signature with the other op rules' (``ir.verify.core.check_op``): a
    parsed 10k-op module has a few dozen."""
    found = spec_of(type(op), check.target.version)
    if found is None:
        return
    name, spec = found
    if spec is None:
        check.report(
            "spec-version",
            op,
            f"{name} is not a TOSA {check.target.version} operator; "
            f"{check.target.text} cannot run it",
        )
        return
    pairs = _arguments(op, spec)
    type_support(check, op, name, spec, pairs)
    compile_time_constants(check, op, pairs)
    env, origin = _symbols(op, pairs)
    shapes(check, op, spec, pairs, env, origin)
    level_limits(check, op, spec, env)


def type_support(check: Checker, op: Operation, name: str, spec: dict, pairs) -> None:
    finding = _type_verdict(name, spec, _binding(op, spec, pairs), check.target)
    if finding is not None:
        rule, message = finding
        check.report(rule, op, message)


def _type_verdict(
    name: str, spec: dict, bound: dict[str, str], target: Target
) -> tuple[str, str] | None:
    """``(rule, message)`` when no mode of the operator takes the bound types, or none of
    the matching modes is enabled by ``target``; None when the types are legal."""
    modes = spec["type_support"]
    if not modes:
        return None
    matching = [m for m in modes if all(bound.get(var, t) == t for var, t in m["types"].items())]
    if not matching:
        listed = "; ".join(m["mode"] for m in modes)
        return "type-support", f"no {name} mode takes {_binding_text(bound)} (modes: {listed})"
    if any(target.allows(m["profiles"]) for m in matching):
        return None
    needs = "; ".join(
        f"{_mode_text(name, m)} needs {_requirement_text(m['profiles'])}" for m in matching
    )
    return "profile", f"{needs}; {target.text} does not enable it"


def operator_type_refusal(
    operator: str, argument_types: dict[str, str], spec: str | Target
) -> tuple[str, str] | None:
    """``(rule, message)``: why ``spec`` cannot run ``operator`` on these element types
    (rule ``type-support``: no mode takes them; ``profile``: no enabled profile or
    extension has a mode that does), or None if it can.

    ``argument_types`` maps the spec's argument names (``input1``, ``output``) to spec type
    names (``i32_t``, ``bool_t``). This is the ``type-support``/``profile`` rule of the
    verifier without an op to verify: a partitioner asks it before lowering, so an op the
    target's profiles do not support is left out of the delegate instead of refused after.
    """
    target = spec if isinstance(spec, Target) else parse_spec(spec)
    entry = tosa_spec(target.version)["operators"].get(operator)
    if entry is None:
        return None  # an operator this version lacks: the spec-version rule says so
    variables = set(entry["type_variables"])
    bound: dict[str, str] = {}
    for arg in entry["arguments"]:
        var, given = arg["element_type"], argument_types.get(arg["name"])
        if var in variables and given is not None:
            bound.setdefault(var, given)
    return _type_verdict(operator, entry, bound, target)


# --------------------------------------------------------------------------- constants


def compile_time_constants(check: Checker, op: Operation, pairs) -> None:
    for arg, value in pairs:
        if arg["category"] != "input" or not arg["ctc"] or not check.target.allows(arg["ctc"]):
            continue
        if not is_constant(value):
            check.report(
                "compile-time-constant",
                op,
                f"{arg['name']} must be a compile-time constant ({_requirement_text(arg['ctc'])}), "
                f"not a computed value",
            )


# --------------------------------------------------------------------------- shapes


@cache
def _dims(shape_text: str) -> tuple[str, ...] | None:
    """``"[N,IH,IW,IC]"`` -> ("N", "IH", "IW", "IC"); whole-shape names -> None."""
    if not shape_text.startswith("["):
        return None
    return tuple(d.strip() for d in shape_text[1:-1].split(","))


@cache
def _expression(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


def _evaluate(node: ast.expr, env: dict[str, float]) -> float | None:
    """The tiny arithmetic the spec's shapes and level limits use; None when a name is
    unknown (dynamic dims, non-constant operands)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1:
        arg = node.args[0]
        return env.get(f"{node.func.id}({arg.id})") if isinstance(arg, ast.Name) else None
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, env), _evaluate(node.right, env)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div) and right:
            # shapes divide integrally (W/2 + 1); level ratios (scale_y_n/scale_y_d) do not
            return left / right
    return None


def _length(value: SSAValue) -> tuple[int, ...] | None:
    t = value.type
    if isinstance(t, TensorType):
        return tuple(t.get_shape())
    if isinstance(t, ShapeType):
        return (t.rank.data,)
    return None


def _symbols(op: Operation, pairs) -> tuple[dict[str, float], dict[str, str]]:
    """Names the spec's shapes and limits use, bound from the op: dims (first binding
    wins; where each came from, for messages), ``rank(shapeN)``, ``tensor_list_shape``,
    array attribute components and RESIZE's scale."""
    env: dict[str, float] = {}
    origin: dict[str, str] = {}
    lists: dict[str, int] = {}
    for arg, value in pairs:
        if arg["type"] == "tensor_list_t":
            lists[arg["name"]] = lists.get(arg["name"], 0) + 1
            continue
        dims = _dims(arg["shape"] or "")
        actual = _length(value)
        if actual is None:
            continue
        if dims is None:
            if arg["shape"] not in ("-", None) and isinstance(value.type, TensorType):
                env.setdefault(f"rank({arg['shape']})", len(actual))
            continue
        if len(dims) != len(actual):
            continue
        for name, size in zip(dims, actual):
            if name.isidentifier() and size >= 0 and name not in env:
                env[name] = size
                origin[name] = arg["name"]
    for name, count in lists.items():
        env[f"tensor_list_shape({name})"] = count
    for attr, by_length in _COMPONENTS.items():
        values = array_prop(op, attr)
        if values is None and isinstance(op, ResizeOp) and attr == "scale":
            found = constant_ints(op.scale)
            values = tuple(int(v) for v in found) if found is not None else None
        if values is None:
            continue
        names = by_length.get(len(values))
        if names:
            env.update(zip(names, values))
    return env, origin


def shapes(check: Checker, op: Operation, spec: dict, pairs, env: dict, origin: dict) -> None:
    whole: dict[str, tuple[tuple[int, ...], str]] = {}
    for arg, value in pairs:
        actual = _length(value)
        if (
            actual is None
            or arg["type"] == "tensor_list_t"
            or not arg["shape"]
            or arg["shape"] == "-"
        ):
            continue
        dims = _dims(arg["shape"])
        if dims is None:
            _same_whole_shape(check, op, arg, actual, whole)
            continue
        if len(dims) != len(actual):
            if (
                arg["category"] == "attribute"
                or isinstance(value.type, ShapeType)
                or arg["rank"] is None
            ):
                check.report(
                    "shape",
                    op,
                    f"{arg['name']} has {len(actual)} dimensions, the spec says {arg['shape']}",
                )
            continue
        for i, (expr, size) in enumerate(zip(dims, actual)):
            want = _evaluate(_expression(expr), env) if expr != "TABLE_SIZE" else None
            if want is None or size < 0 or want == size:
                continue
            source = f" (from {origin[expr]})" if expr in origin else ""
            check.report(
                "shape",
                op,
                f"{arg['name']} dimension {i} is {size}, but {expr} = {_number(want)}{source} "
                f"({arg['shape']})",
            )
    for arg in spec["arguments"]:
        if arg["category"] != "attribute" or arg["type"] != "tensor_t":
            continue
        values = array_prop(op, arg["name"])
        dims = _dims(arg["shape"] or "")
        if values is None or not dims or len(dims) != 1:
            continue
        want = _evaluate(_expression(dims[0]), env)
        if want is not None and want != len(values):
            check.report(
                "shape", op, f"{arg['name']} has {len(values)} values, the spec says {arg['shape']}"
            )


def _same_whole_shape(check, op, arg, actual, whole) -> None:
    name = arg["shape"]
    if name not in whole:
        whole[name] = (actual, arg["name"])
        return
    first, first_arg = whole[name]
    if len(first) == len(actual) and all(a == b or a < 0 or b < 0 for a, b in zip(first, actual)):
        return
    check.report(
        "shape",
        op,
        f"{arg['name']} shape {list(actual)} must equal {first_arg}'s {list(first)} ({name})",
    )


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


# --------------------------------------------------------------------------- levels


def level_limits(check: Checker, op: Operation, spec: dict, env: dict) -> None:
    limits = check.target.limits
    for arg in spec["arguments"]:
        for expr, limit in arg["level_limits"]:
            value = _evaluate(_expression(expr), env)
            maximum = limits.get(limit.lower())
            if value is None or maximum is None or value <= maximum:
                continue
            check.report(
                "level",
                op,
                f"{expr} = {_number(value)} > {limit} {maximum} (level {check.target.level}, "
                f"{arg['name']})",
            )


@module_rule_each("spec")
def tensor_sizes_and_nesting(check: Checker, op: Operation) -> None:
    """MAX_NESTING of a cond/while (its ancestors' classes) and MAX_LOG2_SIZE of every
    value the op defines (their types)."""
    limits = check.target.limits
    if _is_control_flow(type(op)):
        max_nesting = limits["max_nesting"]
        depth = _nesting(op)
        if depth > max_nesting:
            check.report(
                "level",
                op,
                f"nesting depth {depth} > MAX_NESTING {max_nesting} (level {check.target.level})",
            )
    max_size = (1 << limits["max_log2_size"]) - 1
    for value in op.results:
        _tensor_size(check, op, value.type, max_size)
    for region in op.regions:
        for block in region.blocks:
            for value in block.args:
                _tensor_size(check, op, value.type, max_size)


#: id(type) -> (the type, ``_tensor_bytes``): a few dozen types, 10k values
_SIZES: dict[int, tuple] = {}
_is_control_flow = class_test(IfOp, WhileOp)


def _tensor_size(check: Checker, op: Operation, t, max_size: int) -> None:
    known = _SIZES.get(id(t))
    if known is None or known[0] is not t:
        if len(_SIZES) >= 50_000:
            _SIZES.clear()
        known = _SIZES[id(t)] = (t, _tensor_bytes(t))
    size = known[1]
    if size is not None and size > max_size:
        check.report(
            "level",
            op,
            f"tensor of {size} bytes > (1 << MAX_LOG2_SIZE) - 1 = {max_size} (level "
            f"{check.target.level})",
        )


@op_rule(IfOp, WhileOp, group="spec")
def region_isolated(check: Checker, op: IfOp | WhileOp) -> None:
    """The regions are the spec's then/else (cond/body) graphs, each a graph of its own
    (MLIR's strict validation: "isolated from above"): a value of the enclosing graph
    read inside has no name in the region's flatbuffer block. One report per region."""
    for label, region in zip(_REGION_LABELS[type(op)], op.regions):
        inside: set[SSAValue] = set()
        for block in region.blocks:
            inside.update(block.args)
        for nested in region.walk():
            inside.update(defined_values(nested))
        for nested in region.walk():
            outer = next((v for v in nested.operands if v not in inside), None)
            if outer is not None:
                check.report(
                    "region-isolated",
                    nested,
                    f"reads a value defined outside the {label} region of its "
                    f"'{op.name}'; pass it in as an input",
                )
                break


_REGION_LABELS = {IfOp: ("then", "else"), WhileOp: ("cond", "body")}


def _tensor_bytes(t) -> int | None:
    """Bytes of a static tensor type (None for anything else)."""
    if not isinstance(t, TensorType) or any(d < 0 for d in t.get_shape()):
        return None
    return math.prod(t.get_shape()) * max(_BYTES_PER_ELEMENT_MIN, _element_bytes(t.element_type))


def _nesting(op: Operation) -> int:
    depth = 0
    current: Operation | None = op
    while current is not None:
        if isinstance(current, IfOp | WhileOp):
            depth += 1
        current = current.parent_op()
    return depth


def _element_bytes(element) -> int:
    width = getattr(getattr(element, "width", None), "data", None)
    if width is None:
        width = getattr(element, "bitwidth", 32)
    return (width + 7) // 8


__all__ = ["spec_of"]
