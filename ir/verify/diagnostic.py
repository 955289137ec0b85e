"""What a verifier reports: which rule, what is wrong, and where.

A ``Diagnostic`` prints the way compilers print errors, so editors and reviewers can jump
to it::

    net.py:12: error: [rescale-shift] 'tosa.rescale' (FX node 'conv'): shift 70 is outside [2, 62]

``VerificationError`` carries every diagnostic of one run, not just the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.ir import Operation

from ir.diagnostics import (
    error_line,
    first_tensor_name,
    format_place,
    fx_node_of,
    op_subject,
    position_of,
)


@dataclass(frozen=True)
class Rule:
    """One checkable statement. ``origin`` says where it comes from (a spec section, an
    ERROR_IF, a REQUIRE, or this project's uint8-IO contract)."""

    id: str
    summary: str
    origin: str


@dataclass(frozen=True, eq=False)
class Diagnostic:
    rule: str
    message: str
    op_name: str
    fx_node: str | None = None
    source: tuple[str, int] | None = None
    tensor: str | None = None
    op: Operation | None = field(default=None, repr=False, compare=False)

    @classmethod
    def at(cls, rule: str, op: Operation, message: str) -> Diagnostic:
        return cls(
            rule=rule,
            message=message,
            op_name=op.name,
            fx_node=fx_node_of(op.location),
            source=position_of(op),
            tensor=first_tensor_name(op),
            op=op,
        )

    @property
    def where(self) -> str:
        return self.where_or("<unknown>")

    def where_or(self, fallback: str) -> str:
        """``file:line`` of the op, or ``fallback`` (a tool's input file) without one."""
        return format_place(self.source) if self.source else fallback

    @property
    def subject(self) -> str:
        return op_subject(self.op_name, self.fx_node, self.tensor)

    def __str__(self) -> str:
        return self.format()

    def format(self, fallback: str = "<unknown>") -> str:
        """The compiler-style line, placed at ``fallback`` when the op has no source."""
        return error_line(self.where_or(fallback), f"[{self.rule}] {self.subject}: {self.message}")


class VerificationError(ValueError):
    """A module that breaks rules; ``.diagnostics`` lists every violation found."""

    def __init__(self, diagnostics: list[Diagnostic], spec: str, stage: str):
        self.diagnostics = tuple(diagnostics)
        self.spec = spec
        self.stage = stage
        count = len(self.diagnostics)
        header = f"{count} violation{'s' if count != 1 else ''} of {spec} ({stage} stage):"
        super().__init__("\n".join([header, *map(str, self.diagnostics)]))

    @property
    def rules(self) -> set[str]:
        return {d.rule for d in self.diagnostics}


__all__ = ["Diagnostic", "Rule", "VerificationError"]
