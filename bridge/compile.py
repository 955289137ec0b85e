"""The whole IR path as one call: TOSA-level FX graph -> stages -> TOSA flatbuffer.

``fx_to_flatbuffer`` is what our ExecuTorch backend's ``preprocess`` runs in place of
ExecuTorch's node visitors: import (typed stage) -> ``legalize-unsigned-io`` (signless)
-> ``to_flatbuffer``, each stage verified against the spec (``ir.verify``; ``verify=False``
skips it), and with ``dump_dir`` each stage's text written next to the bytes
(``<name>.typed.mlir``, ``<name>.signless.mlir``, ``<name>.tosa``), before its
verification, so a stage that fails can be read.
"""

from __future__ import annotations

from pathlib import Path

from bridge import INT_SPEC
from ir.files import write_atomically


def fx_to_flatbuffer(
    graph_module,
    exported_program=None,
    spec: str = INT_SPEC,
    *,
    dump_dir: str | Path | None = None,
    dump_name: str = "graph",
    verify: bool = True,
) -> bytes:
    """The TOSA flatbuffer of a TOSA-level FX graph, through our IR.

    Raises ``bridge.fx_import.FxImportError`` for a graph we cannot import and
    ``bridge.flatbuffer.FlatbufferError`` for one we cannot write and
    ``ir.verify.VerificationError`` (every violation) for a stage that breaks the spec's
    rules; dumps are written only for the stages that were reached.
    """
    import ir
    import ir.verify
    from bridge.flatbuffer import to_flatbuffer
    from bridge.fx_import import fx_to_ir
    from ir.lowering.signless import to_signless

    def dump(suffix: str, module) -> None:
        """Print a stage only when asked: preprocess runs once per partition."""
        if dump_dir is not None:
            text = ir.print_module(module, debuginfo=True)
            write_atomically(Path(dump_dir) / f"{dump_name}.{suffix}", text)

    def check(module, stage: str) -> None:
        if verify:
            ir.verify.verify(module, spec, stage=stage)

    typed = fx_to_ir(graph_module, exported_program, tosa_spec=spec)
    dump("typed.mlir", typed)
    check(typed, None)  # typed when the IO is unsigned, else already signless
    signless = to_signless(typed)  # in place: the typed text is already written
    dump("signless.mlir", signless)
    check(signless, "signless")
    flatbuffer = to_flatbuffer(signless)
    if dump_dir is not None:
        write_atomically(Path(dump_dir) / f"{dump_name}.tosa", flatbuffer)
    return flatbuffer
