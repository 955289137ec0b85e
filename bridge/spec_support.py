"""Spec-aware partitioning: leave to the CPU what the target's profiles cannot run.

ExecuTorch 1.5.1 delegates a few integer ops to targets whose profile does not have them:
an int32 ``ARITHMETIC_RIGHT_SHIFT`` under ``TOSA-1.0+FP``, a ``bool -> int8`` ``CAST``
under ``TOSA-1.0+FP+bf16``. The TOSA 1.0 spec lists those modes under PRO-INT only, so our
verifier refuses the lowered graph. Instead of relaxing the verifier, our Partitioner asks
the verifier's own type tables (``ir.verify.spec_rules.operator_type_refusal``) before
delegating, and an op whose TOSA operator the target cannot run on those element types
stays outside the delegate, with the spec's reason in ExecuTorch's partition report.

A node with a dynamic (symbolic) dimension stays on the CPU too: a TOSA 1.0 tensor has a
static shape (ExecuTorch 1.5.1 writes such a dimension as -1, which no TOSA 1.0 tool
reads as a shape, and its own tests of that do not run the file).

Only ops whose tensors are integer or bool are asked about the profiles: their TOSA operator
sees the same element types as the edge node (no quantization in between). A float edge node
in an integer graph is quantized later, and its TOSA types are not known here.
"""

from __future__ import annotations

import torch
from torch.fx.passes.operator_support import OperatorSupportBase

from bridge.capture import quiet
from bridge.fx_types import DTYPE_TO_ELEMENT
from ir.verify.core import spec_type_name
from ir.verify.spec_rules import operator_type_refusal
from ir.verify.target import Target, as_target

with quiet():
    from executorch.exir.dialects._ops import ops as exir_ops

_BINARY = ("input1", "input2")


def _edge_operators() -> dict:
    """Edge target -> (TOSA operator, argument names of its tensor operands in order)."""
    aten = exir_ops.edge.aten
    table = {
        aten.bitwise_right_shift.Tensor: ("ARITHMETIC_RIGHT_SHIFT", _BINARY),
        aten.__rshift__.Scalar: ("ARITHMETIC_RIGHT_SHIFT", _BINARY),
        aten.__rshift__.Tensor: ("ARITHMETIC_RIGHT_SHIFT", _BINARY),
        aten.bitwise_left_shift.Tensor: ("LOGICAL_LEFT_SHIFT", _BINARY),
        aten.__lshift__.Scalar: ("LOGICAL_LEFT_SHIFT", _BINARY),
        aten.__lshift__.Tensor: ("LOGICAL_LEFT_SHIFT", _BINARY),
        aten.bitwise_not.default: ("BITWISE_NOT", ("input1",)),
        aten._to_copy.default: ("CAST", ("input",)),
        exir_ops.edge.dim_order_ops._to_dim_order_copy.default: ("CAST", ("input",)),
    }
    for name in ("and", "or", "xor"):
        packet = getattr(aten, f"bitwise_{name}")
        table[packet.Tensor] = table[packet.Scalar] = (f"BITWISE_{name.upper()}", _BINARY)
    return table


class ProfileSupport(OperatorSupportBase):
    """Rejects an edge node whose TOSA operator the target's profiles cannot run."""

    def __init__(self, spec: str | Target, reporter=None) -> None:
        self.target = as_target(spec)
        self.reporter = reporter
        self.operators = _edge_operators()

    def is_node_supported(self, submodules, node: torch.fx.Node) -> bool:
        refusal = self.refusal(node)
        if refusal is None:
            return True
        if self.reporter is not None:
            self.reporter.report_reject(node, refusal)
        return False

    def refusal(self, node: torch.fx.Node) -> str | None:
        """The spec's reason this node cannot be delegated to the target, or None."""
        if node.op == "call_function" and (dynamic := _dynamic_shape(node)) is not None:
            return f"TOSA 1.0 shapes are static; {dynamic} is dynamic"
        entry = self.operators.get(node.target) if node.op == "call_function" else None
        if entry is None:
            return None
        operator, operand_names = entry
        types = _integer_types(node, operand_names)
        if types is None:
            return None
        finding = operator_type_refusal(operator, types, self.target)
        if finding is None or finding[0] != "profile":
            return None  # no mode at all: ExecuTorch lowers it to something else
        return f"TOSA {operator}: {finding[1]}"


def _integer_types(node: torch.fx.Node, operand_names: tuple[str, ...]) -> dict[str, str] | None:
    """Spec type names of the node's tensor operands and result; None unless every one
    is an integer or bool tensor (a scalar operand takes the first operand's type)."""
    result = _dtype(node)
    operands = [_dtype(a) for a in node.args[: len(operand_names)]]
    if result is None or not operands or operands[0] is None:
        return None
    operands = [d if d is not None else operands[0] for d in operands]
    dtypes = [*operands, result]
    if any(d.is_floating_point or d.is_complex for d in dtypes):
        return None
    elements = [DTYPE_TO_ELEMENT.get(d) for d in dtypes]
    if any(e is None for e in elements):
        return None
    names = [spec_type_name(e) for e in elements]
    if any(n is None for n in names):
        return None
    return {**dict(zip(operand_names, names[:-1])), "output": names[-1]}


def _dtype(value) -> torch.dtype | None:
    if not isinstance(value, torch.fx.Node):
        return None
    val = value.meta.get("val")
    return val.dtype if isinstance(val, torch.Tensor) else None


def _dynamic_shape(node: torch.fx.Node) -> str | None:
    """The first tensor shape, of the node's value or its operands, with a symbolic
    dimension, as text; None when every shape is static."""
    values = [node, *(a for a in node.args if isinstance(a, torch.fx.Node))]
    for value in values:
        found = value.meta.get("val")
        for tensor in found if isinstance(found, list | tuple) else (found,):
            if not isinstance(tensor, torch.Tensor):
                continue
            if any(
                isinstance(d, torch.SymInt) and d.node.maybe_as_int() is None for d in tensor.shape
            ):
                return f"the shape {tuple(tensor.shape)} of '{value.name}'"
    return None
