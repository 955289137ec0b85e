"""The defaults every layer shares, in one place: the target, the pipeline, the NPU.

They live at the bottom layer (``ir``, which imports no torch) because the verifier
needs the spec, the pipeline runner the pipeline, and everything above them the same
values: ``bridge`` (the ExecuTorch backends and ``Partitioner``), ``runtime`` (Vela) and
the command-line tools all import them from here.

One default pipeline for the API and the tools: ``legalize-unsigned-io,canonicalize``,
every stage of ``ir.lowering.pipeline``. The canonical stage keeps every output bit of
the signless one (the zoo checks it on the reference model) and makes the files smaller;
it is what ``tosa-ir compile``, ``tosa-ir debug``, ``run_pipeline`` and the example
already ran. A caller who wants ExecuTorch's own bytes (a byte-for-byte comparison, as
the ExecuTorch test suite swap and the Ethos-U identity test make) names
``EXECUTORCH_PIPELINE``.
"""

from __future__ import annotations

#: ExecuTorch's spelling (``TosaSpecification``) of the two base profiles
INT_SPEC = "TOSA-1.0+INT"
FP_SPEC = "TOSA-1.0+FP"
DEFAULT_SPEC = INT_SPEC

#: the stages after import: signless, then canonical
DEFAULT_PIPELINE = "legalize-unsigned-io,canonicalize"
#: the signless stage only: its flatbuffer is ExecuTorch's, op for op
EXECUTORCH_PIPELINE = "legalize-unsigned-io"

#: the Ethos-U configuration Vela compiles for
DEFAULT_ACCELERATOR = "ethos-u55-128"

__all__ = [
    "DEFAULT_ACCELERATOR",
    "DEFAULT_PIPELINE",
    "DEFAULT_SPEC",
    "EXECUTORCH_PIPELINE",
    "FP_SPEC",
    "INT_SPEC",
]
