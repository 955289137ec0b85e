"""The stages as one pass pipeline, the xDSL way: ``legalize-unsigned-io,canonicalize``.

    typed (fx_to_ir) -> legalize-unsigned-io (signless) -> canonicalize (canonical) -> to_flatbuffer

``run_pipeline`` applies a pipeline string of registered passes (``available_passes()``:
the stages and the verifiers, with options as ``verify-spec{tosa_spec="TOSA-1.0+INT"}``),
verifies the module before the first pass and after each one against the spec (on by
default: a pass that breaks a rule is named in the error's note; the input in full, then
what each pass changed, ``ir.verify.incremental``, or in full with ``verify_each``), and
with ``dump_dir`` prints the module before and after each pass into numbered files
(``00-input.mlir``, ``01-legalize-unsigned-io.mlir``, ...): MLIR's
``--mlir-print-ir-after-all`` as files a reviewer can diff. The text is deterministic, so
the files are byte-stable across runs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline
from xdsl.utils.exceptions import ArgSpecParseError

from ir.defaults import DEFAULT_PIPELINE, DEFAULT_SPEC
from ir.files import write_atomically
from ir.verify.target import Target, as_target

#: the stages after import, each a pipeline of its own (``ir.defaults.DEFAULT_PIPELINE``
#: runs them all)
STAGE_PIPELINES = {"signless": "legalize-unsigned-io", "canonical": "canonicalize"}


class PipelineError(ValueError):
    """A pipeline string naming an unknown pass or a bad option."""


def available_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Every pass a pipeline string may name, by its kebab-case name."""
    from ir.lowering.canonicalize import Canonicalize
    from ir.lowering.expose import ExposeIntermediates
    from ir.lowering.signless import LegalizeUnsignedIO
    from ir.verify import VERIFY_PASSES

    classes = [LegalizeUnsignedIO, Canonicalize, ExposeIntermediates, *VERIFY_PASSES]
    return {cls.name: (lambda cls=cls: cls) for cls in classes}


def parse_pipeline(text: str) -> tuple[ModulePass, ...]:
    """The passes of ``text``, options checked; ``PipelineError`` in one line otherwise
    (xDSL's message spans a position line, the text and a caret). Parsed once per text:
    the passes are frozen dataclasses, so one tuple serves every call."""
    return _parse_pipeline(text)


@lru_cache(maxsize=64)
def _parse_pipeline(text: str) -> tuple[ModulePass, ...]:
    passes = available_passes()
    try:
        return PassPipeline.parse_spec(passes, text).passes
    except (ValueError, ArgSpecParseError) as err:
        known = ", ".join(sorted(passes))
        raise PipelineError(
            f"pipeline {text!r}: {_one_line(str(err))}; available passes: {known}"
        ) from None


def _one_line(message: str) -> str:
    """xDSL's ``pass-pipeline:1:COL`` / text / caret / message as ``column COL: message``."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    position = next((line for line in lines if line.startswith("pass-pipeline:")), None)
    if position is None:
        return "; ".join(lines)
    column = position.rsplit(":", 1)[-1]
    return f"column {column}: {lines[-1]}"


def run_pipeline(
    module: ModuleOp,
    pipeline: str | tuple[ModulePass, ...] = DEFAULT_PIPELINE,
    *,
    spec: str | Target = DEFAULT_SPEC,
    verify: bool = True,
    verify_each: bool = False,
    dump_dir: str | Path | None = None,
    debuginfo: bool = True,
    on_pass: Callable[[int, int, str], None] | None = None,
    on_stage: Callable[[int, str, ModuleOp], None] | None = None,
) -> list[Path]:
    """Apply ``pipeline`` to ``module`` in place; return the dump files written.

    Verification (``verify``, on by default): the input in full, then after each pass
    what the pass changed, for a pass that reports it (``ir.verify.incremental``, which
    argues why that verifies the output as fully as re-verifying everything); a pass
    that does not report is followed by a full verification. ``verify_each`` verifies in
    full after every pass (MLIR's ``mlir-opt`` default; ``tosa-ir-opt --verify-each``).
    Either way a violation is reported with every diagnostic of the whole module.

    ``on_pass(index, total, name)`` is called before each pass (a progress bar's hook);
    ``on_stage(index, name, module)`` after the input (index 0, ``input``) and after each
    pass has been verified: the stages as they are, for a caller that keeps them.
    Raises ``ir.verify.VerificationError`` (noting the pass after which the module broke a
    rule) or ``PipelineError``.
    """
    import ir
    import ir.verify
    from ir.verify import incremental
    from ir.verify.incremental import Changes, ReportsChanges

    target = as_target(spec)
    passes = parse_pipeline(pipeline) if isinstance(pipeline, str) else pipeline
    context = ir.make_context()
    written: list[Path] = []

    def dump(index: int, name: str) -> None:
        if dump_dir is None:
            return
        path = Path(dump_dir) / f"{index:02d}-{name}.mlir"
        write_atomically(path, ir.print_module(module, debuginfo=debuginfo))
        written.append(path)

    verified: tuple[str, ...] = ()  # the rule groups the module was last verified against

    def check(after: str, groups: tuple[str, ...], changes: Changes, stage_before: str) -> str:
        """Verify (all of it, or what ``changes`` says); return the stage now."""
        nonlocal verified
        if not verify:
            return stage_before
        stage = ir.verify.detect_stage(module)
        unverified = tuple(g for g in groups if g not in verified)
        verified = groups
        if not changes.everything and incremental.clean_after(
            module,
            target,
            stage,
            changes,
            stage_changed=stage != stage_before,
            groups=groups,
            unverified=unverified,
        ):
            return stage
        try:
            ir.verify.verify(module, target, stage, groups=groups)
        except ir.verify.VerificationError as err:
            err.add_note(f"(the module breaks these rules {after})")
            raise
        return stage

    def apply(pass_: ModulePass) -> Changes:
        if verify and not verify_each and isinstance(pass_, ReportsChanges):
            return pass_.apply_reporting(context, module)
        pass_.apply(context, module)
        return Changes(everything=True)

    dump(0, "input")
    groups = _input_groups(passes)
    stage = check("as it came in, before any pass", groups, Changes(everything=True), "")
    if on_stage is not None:
        on_stage(0, "input", module)
    for index, pass_ in enumerate(passes, 1):
        if on_pass is not None:
            on_pass(index, len(passes), pass_.name)
        try:
            changes = apply(pass_)
        except ir.verify.VerificationError as err:
            err.add_note(f"(pass #{index} '{pass_.name}' refused the module)")
            raise
        dump(index, pass_.name)
        if not isinstance(pass_, ir.verify.VerifyPass):
            stage = check(f"after pass #{index} '{pass_.name}'", ir.verify.GROUPS, changes, stage)
        if on_stage is not None:
            on_stage(index, pass_.name, module)
    return written


def _input_groups(passes) -> tuple[str, ...]:
    """The rule groups an input is held to before the first pass. In front of
    ``legalize-unsigned-io`` that is every group but the typed stage's boundary rules:
    that pass places missing boundary RESCALEs and then checks exactly those rules
    itself, refusing what it could not legalize with the same diagnostics."""
    import ir.verify
    from ir.lowering.signless import LegalizeUnsignedIO

    if passes and isinstance(passes[0], LegalizeUnsignedIO):
        return tuple(g for g in ir.verify.GROUPS if g != "stage")
    return ir.verify.GROUPS


__all__ = [
    "STAGE_PIPELINES",
    "PipelineError",
    "available_passes",
    "parse_pipeline",
    "run_pipeline",
]
