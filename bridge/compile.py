"""The whole IR path as one call: TOSA-level FX graph -> stages -> TOSA flatbuffer.

``fx_to_flatbuffer`` is what our ExecuTorch backend's ``preprocess`` runs in place of
ExecuTorch's node visitors: import (typed stage) -> the pipeline (by default
``legalize-unsigned-io``: the signless stage, whose bytes are ExecuTorch's; add
``canonicalize`` for smaller files) -> ``to_flatbuffer``. Every stage is verified against
the spec (``ir.verify``; ``verify=False`` skips it). With ``dump_dir`` each stage's text
is written as ``<dump_dir>/<name>/NN-<pass>.mlir`` (before its verification, so a stage
that fails can be read) and the bytes as ``<dump_dir>/<name>.tosa``.
"""

from __future__ import annotations

from pathlib import Path

from bridge import INT_SPEC
from ir.files import write_atomically

#: ExecuTorch's own result, as IR stages: its flatbuffer has exactly this graph
EXECUTORCH_PIPELINE = "legalize-unsigned-io"


def fx_to_flatbuffer(
    graph_module,
    exported_program=None,
    spec: str = INT_SPEC,
    *,
    pipeline: str = EXECUTORCH_PIPELINE,
    dump_dir: str | Path | None = None,
    dump_name: str = "graph",
    verify: bool = True,
) -> bytes:
    """The TOSA flatbuffer of a TOSA-level FX graph, through our IR.

    Raises ``bridge.fx_import.FxImportError`` for a graph we cannot import,
    ``ir.verify.VerificationError`` (every violation, and after which pass) for a stage
    that breaks the spec's rules, ``ir.lowering.pipeline.PipelineError`` for a bad
    pipeline string and ``tosa_flatbuffer.FlatbufferError`` for a graph we cannot write;
    dumps are written only for the stages that were reached.
    """
    from tosa_flatbuffer import to_flatbuffer
    from bridge.fx_import import fx_to_ir
    from ir.lowering.pipeline import run_pipeline
    from ir.verify import parse_spec

    stages_dir = Path(dump_dir) / dump_name if dump_dir is not None else None
    module = fx_to_ir(graph_module, exported_program, tosa_spec=spec)
    run_pipeline(module, pipeline, spec=spec, verify=verify, dump_dir=stages_dir)
    flatbuffer = to_flatbuffer(module, version=parse_spec(spec).version)  # ExecuTorch's version field
    if dump_dir is not None:
        write_atomically(Path(dump_dir) / f"{dump_name}.tosa", flatbuffer)
    return flatbuffer
