"""A TOSA target from a spec string: which profiles, extensions and level are legal.

The grammar is ExecuTorch's ``TosaSpecification``: ``TOSA-1.0+INT``, ``TOSA-1.0+FP``,
``TOSA-1.0+INT+FP``, extensions as short lower-case tokens (``int16``, ``int4``, ``bf16``,
``fp8e4m3``, ``fp8e5m2``, ``fft``, ``var``/``variable``, ``cf``/``controlflow``,
``doubleround``, ``inexactround``, ``dynamic``) and the level token ``8k``. Without ``8k``
the spec's "none" level applies (it has limits too: rank 32, ...). ExecuTorch's ``u55``
token names a subset of TOSA-1.0+INT for the Ethos-U55 and adds no extension.

The extension names, the profiles each extension may extend and the level limits all come
from the spec table (``ir/spec``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ir.spec import tosa_spec

SUPPORTED_VERSIONS = ("1.0",)
#: ExecuTorch's short names that are not the spec name's tail
_ALIASES = {"var": "EXT-VARIABLE", "cf": "EXT-CONTROLFLOW"}
#: tokens ExecuTorch accepts that change nothing TOSA checks
_NO_EXTENSION = {"u55"}


class SpecError(ValueError):
    """A spec string this project cannot read."""


@dataclass(frozen=True)
class Target:
    text: str
    profiles: frozenset[str]
    extensions: frozenset[str]
    level: str

    def enabled(self, name: str) -> bool:
        return name in self.profiles or name in self.extensions

    def allows(self, requirements: list[list[str]]) -> bool:
        """The spec's requirement lists: any one list whose names are all enabled."""
        return any(all(self.enabled(n) for n in req) for req in requirements)

    @property
    def limits(self) -> dict[str, int]:
        return tosa_spec()["levels"][self.level]


def _extension_names() -> dict[str, str]:
    names = {ext[len("EXT-"):].lower(): ext for ext in tosa_spec()["extensions"]}
    return {**names, **_ALIASES}


@cache
def parse_spec(text: str) -> Target:
    """``"TOSA-1.0+INT+int16+cf"`` -> Target; ``SpecError`` names the bad token."""
    head, *tokens = text.strip().split("+")
    if not head.upper().startswith("TOSA-"):
        raise SpecError(f"{text!r}: a TOSA spec starts with 'TOSA-<version>', e.g. 'TOSA-1.0+INT'")
    version = head[len("TOSA-"):]
    if not any(version == v or version.startswith(v + ".") for v in SUPPORTED_VERSIONS):
        raise SpecError(f"{text!r}: TOSA version {version} is not supported (this project implements 1.0)")
    extension_names = _extension_names()
    profiles, extensions, level = set(), set(), "none"
    for token in tokens:
        if token in ("INT", "FP"):
            profiles.add(f"PRO-{token}")
        elif token.lower() == "8k":
            level = "8K"
        elif token.lower() in _NO_EXTENSION:
            continue
        elif token.lower() in extension_names:
            extensions.add(extension_names[token.lower()])
        else:
            known = ", ".join(sorted([*extension_names, *_NO_EXTENSION, "8k"]))
            raise SpecError(f"{text!r}: unknown token {token!r}; profiles INT, FP; extensions/levels: {known}")
    if not profiles:
        raise SpecError(f"{text!r}: no profile; add +INT and/or +FP")
    supported_by = tosa_spec()["extensions"]
    for ext in sorted(extensions):
        if not profiles & set(supported_by[ext]):
            need = " or ".join(p[len("PRO-"):] for p in supported_by[ext])
            raise SpecError(f"{text!r}: extension {ext} extends {need}, which the spec does not enable")
    return Target(text, frozenset(profiles), frozenset(extensions), level)


__all__ = ["SpecError", "Target", "parse_spec"]
