"""A TOSA target from a spec string: which profiles, extensions and level are legal.

The grammar is ExecuTorch's ``TosaSpecification``: ``TOSA-1.0+INT``, ``TOSA-1.0+FP``,
``TOSA-1.0+INT+FP``, extensions as short lower-case tokens (``int16``, ``int4``, ``bf16``,
``fp8e4m3``, ``fp8e5m2``, ``fft``, ``var``/``variable``, ``cf``/``controlflow``,
``doubleround``, ``inexactround``, ``dynamic``) and the level token ``8k``. Without ``8k``
the spec's "none" level applies (it has limits too: rank 32, ...). ExecuTorch's ``u55``
token names a subset of TOSA-1.0+INT for the Ethos-U55 and adds no extension.

The extension names, the profiles each extension may extend and the level limits all come
from the spec table of the string's version (``ir/spec``): ``TOSA-1.0...`` reads TOSA
1.0.2's, ``TOSA-1.1...`` the 1.1 draft's. ExecuTorch's 1.1 tokens that are no spec name:
``mxfp`` enables the MX formats (``EXT-MX-COMMON``, the fp4/fp6/fp8 ``EXT-MX-*`` and
``EXT-MXFP-CONV``), ``random`` and ``blockscale_ue5m3`` name extensions the draft does not
have and enable nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ir.spec import tosa_spec

SUPPORTED_VERSIONS = ("1.0", "1.1")
#: ExecuTorch's short names that are not the spec name's tail (one token may enable several)
_ALIASES = {"var": ("EXT-VARIABLE",), "cf": ("EXT-CONTROLFLOW",)}
_ALIASES_1_1 = {
    "mxfp": (
        "EXT-MX-COMMON",
        "EXT-MX-FP4E2M1",
        "EXT-MX-FP6E2M3",
        "EXT-MX-FP6E3M2",
        "EXT-MX-FP8E4M3",
        "EXT-MX-FP8E5M2",
        "EXT-MXFP-CONV",
    ),
}
#: tokens ExecuTorch accepts that change nothing TOSA checks
_NO_EXTENSION = {"u55"}
_NO_EXTENSION_1_1 = {"random", "blockscale_ue5m3"}


class SpecError(ValueError):
    """A spec string this project cannot read."""


@dataclass(frozen=True)
class Target:
    text: str
    profiles: frozenset[str]
    extensions: frozenset[str]
    level: str
    version: str = "1.0"  # major.minor: which spec table applies

    def enabled(self, name: str) -> bool:
        return name in self.profiles or name in self.extensions

    def allows(self, requirements: list[list[str]]) -> bool:
        """The spec's requirement lists: any one list whose names are all enabled."""
        return any(all(self.enabled(n) for n in req) for req in requirements)

    @property
    def limits(self) -> dict[str, int]:
        return tosa_spec(self.version)["levels"][self.level]


def _extension_names(version: str) -> dict[str, tuple[str, ...]]:
    names = {ext[len("EXT-") :].lower(): (ext,) for ext in tosa_spec(version)["extensions"]}
    return {**names, **_ALIASES, **(_ALIASES_1_1 if version == "1.1" else {})}


@cache
def parse_spec(text: str) -> Target:
    """``"TOSA-1.0+INT+int16+cf"`` -> Target; ``SpecError`` names the bad token."""
    head, *tokens = text.strip().split("+")
    if not head.upper().startswith("TOSA-"):
        raise SpecError(f"{text!r}: a TOSA spec starts with 'TOSA-<version>', e.g. 'TOSA-1.0+INT'")
    written = head[len("TOSA-") :]
    version = next(
        (v for v in SUPPORTED_VERSIONS if written == v or written.startswith(v + ".")), None
    )
    if version is None:
        raise SpecError(
            f"{text!r}: TOSA version {written} is not supported (this project implements 1.0 and "
            "1.1)"
        )
    extension_names = _extension_names(version)
    no_extension = _NO_EXTENSION | (_NO_EXTENSION_1_1 if version == "1.1" else set())
    profiles, extensions, level = set(), set(), "none"
    for token in tokens:
        if token in ("INT", "FP"):
            profiles.add(f"PRO-{token}")
        elif token.lower() == "8k":
            level = "8K"
        elif token.lower() in no_extension:
            continue
        elif token.lower() in extension_names:
            extensions.update(extension_names[token.lower()])
        else:
            known = ", ".join(sorted([*extension_names, *no_extension, "8k"]))
            raise SpecError(
                f"{text!r}: unknown token {token!r}; profiles INT, FP; extensions/levels: {known}"
            )
    if not profiles:
        raise SpecError(f"{text!r}: no profile; add +INT and/or +FP")
    supported_by = tosa_spec(version)["extensions"]
    for ext in sorted(extensions):
        if not profiles & set(supported_by[ext]):
            need = " or ".join(p[len("PRO-") :] for p in supported_by[ext])
            raise SpecError(
                f"{text!r}: extension {ext} extends {need}, which the spec does not enable"
            )
    return Target(text, frozenset(profiles), frozenset(extensions), level, version)


def as_target(spec: str | Target) -> Target:
    """The parsed target of ``spec``: a ``Target`` as it is, a spec string parsed once.

    Every API that takes a target accepts either, under the keyword ``spec``; it calls
    this at its edge and passes the ``Target`` on, so nothing below parses again.
    """
    if isinstance(spec, Target):
        return spec
    if not isinstance(spec, str):
        raise TypeError(
            f"spec: expected a TOSA spec string or an ir.verify.Target, got {type(spec).__name__}"
        )
    return parse_spec(spec)


__all__ = ["SpecError", "Target", "as_target", "parse_spec"]
