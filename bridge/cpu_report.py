"""What stays on the CPU: every compute op left outside the delegates, and why.

ExecuTorch's TOSA partitioner gathers a reason for each node it rejects in a
``WhyNoPartitionReporter`` and only logs it, as a table, at INFO level. A model whose
``cat`` falls out of the delegate then lowers without a word: ``tosa-ir compile`` printed
"1 partition(s)" and nothing about the ``cat`` left running in float. ``RejectReasons``
keeps the reporter of the last partitioning; ``cpu_ops`` lists, after lowering, each
compute op of the top-level program that is not inside a delegate, with that reason.

"Compute op" excludes what a delegated quantized model always leaves outside: the
quantize of each graph input and the dequantize of each output (the IO conversion of
the integer delegate, and those around a float op left outside: they go with it),
``getitem`` and the delegate calls themselves.
"""

from __future__ import annotations

import operator
import warnings
from dataclasses import dataclass

from bridge.provenance import describe_source

#: what ExecuTorch's reporter said of a node it never saw rejected (a node the
#: partitioner did not propose at all, e.g. outside every supported pattern)
NO_REASON = "not proposed for any partition (no reason recorded by the partitioner)"

_IO_CONVERSIONS = (
    "quantized_decomposed.quantize_per_tensor.default",
    "quantized_decomposed.dequantize_per_tensor.default",
    "quantized_decomposed.quantize_per_channel.default",
    "quantized_decomposed.dequantize_per_channel.default",
)


class CpuFallbackWarning(UserWarning):
    """Some compute ops of the model run on the CPU, outside every delegate."""


@dataclass(frozen=True)
class CpuOp:
    """A compute op outside the delegates: FX node, its target, the partitioner's reason
    and the user's source line (``file:line``, empty when unknown)."""

    node: str
    target: str
    reason: str
    source: str = ""

    def format(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}FX node '{self.node}' ({self.target}) runs on the CPU: {self.reason}"


class RejectReasons:
    """Mixin for a TOSA partitioner: keeps ExecuTorch's reject reasons of the last
    ``partition`` call as ``self.reject_reasons`` (node name -> reason)."""

    reject_reasons: dict[str, str]

    def _tag_module(
        self, module, containing_program, reporter, tag_iterator=None
    ):  # TOSAPartitioner's
        if tag_iterator is None:  # the top-level call of a partitioning, not a submodule's
            self.reject_reasons = {}
            self._reporter = reporter
        tags = super()._tag_module(module, containing_program, reporter, tag_iterator)
        # ExecuTorch 1.5.1 keeps the reasons in this dict only (its public side is a
        # printed table); first report wins, as in the table.
        for node, reason in getattr(reporter, "_rejected_nodes", {}).items():
            self.reject_reasons.setdefault(node.name, reason)
        return tags


def _target_name(node) -> str:
    """``aten.cat.default``: the ATen overload an edge op stands for."""
    return str(getattr(node.target, "_op", None) or node.target)


def _is_compute(node) -> bool:
    if node.op != "call_function" or node.target is operator.getitem:
        return False
    name = _target_name(node)
    return "executorch_call_delegate" not in name and name not in _IO_CONVERSIONS


def cpu_ops(graph_module, reasons: dict[str, str]) -> tuple[CpuOp, ...]:
    """Each compute op of a lowered program's top-level graph, in graph order (the
    quantize/dequantize nodes around a float op left on the CPU are not listed: they go
    with it)."""
    return tuple(
        CpuOp(
            node.name,
            _target_name(node),
            reasons.get(node.name, NO_REASON),
            describe_source(node.meta),
        )
        for node in graph_module.graph.nodes
        if _is_compute(node)
    )


def warn_cpu_ops(found: tuple[CpuOp, ...]) -> None:
    """One ``CpuFallbackWarning`` listing them, if any."""
    if found:
        lines = "\n".join(f"  {op.format()}" for op in found)
        warnings.warn(
            CpuFallbackWarning(f"{len(found)} compute op(s) outside the delegates:\n{lines}"),
            stacklevel=3,
        )


__all__ = ["NO_REASON", "CpuFallbackWarning", "CpuOp", "RejectReasons", "cpu_ops", "warn_cpu_ops"]
