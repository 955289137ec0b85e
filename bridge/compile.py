"""The one compile path: a TOSA-level FX partition -> the IR's stages -> TOSA flatbuffer.

``compile_partition`` is what every driver runs once it has a TOSA-level graph: our
ExecuTorch backends (``bridge.partitioner``, in place of ExecuTorch's node visitors),
``tosa-ir compile`` and the example. Import (typed stage; one operand constant per
value when the pipeline canonicalizes first, ``merges_constants_first``) -> the pipeline (by default
``ir.defaults.DEFAULT_PIPELINE``, ``legalize-unsigned-io,canonicalize``: the signless
and the canonical stage; ``EXECUTORCH_PIPELINE`` stops at the signless stage, whose
bytes are ExecuTorch's) -> ``to_flatbuffer``. Every stage is verified against the target
(``ir.verify``; ``verify=False`` skips it, and then the import and the writer check the
structure themselves), each check made once: the pipeline's full check of its input
stands for the import's, its check of the last pass for the writer's. With ``dump_dir``
each stage's text is written as ``<dump_dir>/<name>/NN-<pass>.mlir`` (before its
verification, so a stage that fails can be read) and the bytes as
``<dump_dir>/<name>.tosa``.

The result keeps what the callers show: the final module, the dump files and the bytes,
and with ``keep_stages`` a copy of each stage's module, so no caller has to read its own
dumps back. A backend's ``preprocess`` keeps no copies: a copy per stage costs about as
much as the import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from bridge.fx_import import fx_to_ir
from ir.defaults import DEFAULT_PIPELINE, DEFAULT_SPEC
from ir.files import write_atomically
from ir.lowering.canonicalize import Canonicalize
from ir.lowering.pipeline import parse_pipeline, run_pipeline
from ir.lowering.signless import LegalizeUnsignedIO
from ir.verify import VerifyPass
from ir.verify.target import Target, as_target
from tosa_flatbuffer import CheckedFlatbuffer, to_checked_flatbuffer


@dataclass(frozen=True)
class Stage:
    """One stage of a compile: ``name`` as its dump is named (``00-input``,
    ``01-legalize-unsigned-io``, ...) and the module as it was after that pass."""

    name: str
    module: ModuleOp


@dataclass(frozen=True)
class CompileResult:
    """What ``compile_partition`` made of one partition.

    ``stages`` holds the module after each stage (the typed input first; copies, but the
    last one is ``module``) when the compile kept them, else the final stage alone;
    ``module`` the final stage (the one the flatbuffer holds);
    ``dumps`` the stage files written and ``flatbuffer_path`` the ``.tosa`` (both only with a
    ``dump_dir``).
    ``checked`` is the flatbuffer with the records the writer planned, which the runtime
    (reference model, Vela) takes without decoding and verifying it again.
    A failing stage raises instead (see ``compile_partition``): a result is always clean.
    """

    name: str
    target: Target
    stages: tuple[Stage, ...]
    module: ModuleOp
    checked: CheckedFlatbuffer
    dumps: tuple[Path, ...] = ()
    flatbuffer_path: Path | None = None

    @property
    def flatbuffer(self) -> bytes:
        return self.checked.data

    def __deepcopy__(self, memo: dict) -> CompileResult:
        """Shared, not copied: ExecuTorch deep-copies programs that carry a result in
        their delegates' metadata, and a result is never changed after it is made."""
        return self


def merges_constants_first(passes: tuple[ModulePass, ...]) -> bool:
    """Whether ``canonicalize`` merges equal constants before any pass could tell one
    constant per use from one per value: it runs, and before it only passes that edit no
    constant but to retype it alike for every reader (``legalize-unsigned-io``) or only
    verify. Then the import may make one per value (``fx_to_ir(unique_constants=True)``)
    and every stage from ``canonicalize`` on, the flatbuffer included, is the same."""
    for pass_ in passes:
        if isinstance(pass_, Canonicalize):
            return True
        if not isinstance(pass_, LegalizeUnsignedIO | VerifyPass):
            return False
    return False


def compile_partition(
    graph_module,
    exported_program=None,
    spec: str | Target = DEFAULT_SPEC,
    *,
    pipeline: str | tuple = DEFAULT_PIPELINE,
    dump_dir: str | Path | None = None,
    name: str = "graph",
    verify: bool = True,
    keep_stages: bool = False,
    on_pass: Callable[[int, int, str], None] | None = None,
) -> CompileResult:
    """Compile a TOSA-level FX graph (``exported_program`` resolves its parameters)
    through the IR for ``spec`` (a ``Target`` or a spec string).

    ``pipeline`` is a pipeline string or parsed passes (``ir.lowering.pipeline``);
    ``keep_stages`` keeps a copy of each stage's module in the result (a review's op
    counts and typed signature); ``on_pass(index, total, pass_name)`` is called before
    each pass. Raises
    ``bridge.fx_import.FxImportError`` for a graph we cannot import,
    ``ir.verify.VerificationError`` (every violation, and after which pass) for a stage
    that breaks the spec's rules, ``ir.lowering.pipeline.PipelineError`` for a bad
    pipeline string, ``tosa_flatbuffer.FlatbufferError`` for a graph we cannot write and
    ``OSError`` for a dump that cannot be written; dumps are written only for the stages
    that were reached.
    """
    target = as_target(spec)
    stages: list[Stage] = []

    def keep(index: int, pass_name: str, module: ModuleOp) -> None:
        stages.append(Stage(f"{index:02d}-{pass_name}", module.clone() if keep_stages else module))

    stages_dir = Path(dump_dir) / name if dump_dir is not None else None
    passes = parse_pipeline(pipeline) if isinstance(pipeline, str) else pipeline
    # verified once: with ``verify`` the pipeline checks its input in full (structure
    # included) and the final stage, so neither the import nor the writer repeats it
    module = fx_to_ir(
        graph_module,
        exported_program,
        spec=target,
        verify=not verify,
        unique_constants=merges_constants_first(passes),
    )
    dumps = run_pipeline(
        module,
        passes,
        spec=target,
        verify=verify,
        dump_dir=stages_dir,
        on_pass=on_pass,
        on_stage=keep,
    )
    stages[-1] = Stage(stages[-1].name, module)  # the final stage is the module itself
    if not keep_stages:
        del stages[:-1]
    checked = to_checked_flatbuffer(
        module,
        version=target.version,
        verify=not verify,  # ExecuTorch's version field
    )
    flatbuffer_path = None
    if dump_dir is not None:
        flatbuffer_path = Path(dump_dir) / f"{name}.tosa"
        write_atomically(flatbuffer_path, checked.data)
    return CompileResult(
        name, target, tuple(stages), module, checked, tuple(dumps), flatbuffer_path
    )


__all__ = ["CompileResult", "Stage", "compile_partition"]
