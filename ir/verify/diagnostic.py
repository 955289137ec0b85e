"""What a verifier reports: which rule, what is wrong, and where.

A ``Diagnostic`` prints the way compilers print errors, so editors and reviewers can jump
to it::

    model.py:12: error: [rescale-shift] 'tosa.rescale' (FX node 'conv2d'): shift 70 is outside [2, 62]

``VerificationError`` carries every diagnostic of one run, not just the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.ir import Operation

from ir.diagnostics import fx_node_of, position_of
from ir.tensor_names import tensor_names


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
        location = op.location
        names = [n for n in tensor_names(op) if n] if op.results else []
        return cls(
            rule=rule,
            message=message,
            op_name=op.name,
            fx_node=fx_node_of(location),
            source=position_of(op),
            tensor=names[0] if names else None,
            op=op,
        )

    @property
    def where(self) -> str:
        return self.where_or("<unknown>")

    def where_or(self, fallback: str) -> str:
        """``file:line`` of the op, or ``fallback`` (a tool's input file) without one."""
        return f"{self.source[0]}:{self.source[1]}" if self.source else fallback

    @property
    def subject(self) -> str:
        text = f"'{self.op_name}'"
        if self.fx_node:
            return f"{text} (FX node '{self.fx_node}')"
        if self.tensor:
            return f"{text} (tensor '{self.tensor}')"
        return text

    def __str__(self) -> str:
        return self.format()

    def format(self, fallback: str = "<unknown>") -> str:
        """The compiler-style line, placed at ``fallback`` when the op has no source."""
        return f"{self.where_or(fallback)}: error: [{self.rule}] {self.subject}: {self.message}"


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
