"""ExecuTorch programs (.pte) whose delegates came through our IR.

``bridge.Partitioner`` delegates to ``TosaIRBackend`` / ``EthosUIRBackend`` /
``VgfIRBackend``; a device's ExecuTorch runtime knows the backends by ExecuTorch's names
(``TOSABackend``, ``EthosUBackend``, ``VgfBackend``) and its delegate payload formats,
which ours keep (a bare TOSA flatbuffer; ExecuTorch's own Vela blob; the model
converter's ``.vgf``). ``to_pte`` renames the delegates to the runtime
names before serialising, so the .pte is what ExecuTorch's own flow would write, with our
bytes inside.
"""

from __future__ import annotations

from pathlib import Path

#: our backend ids -> the ExecuTorch runtime backends whose payload format they produce
RUNTIME_BACKEND_IDS = {
    "TosaIRBackend": "TOSABackend",
    "EthosUIRBackend": "EthosUBackend",
    "VgfIRBackend": "VgfBackend",
}


def delegates(edge_manager) -> list:
    """The LoweredBackendModules of an EdgeProgramManager's program, in graph order."""
    from executorch.exir.lowered_backend_module import get_lowered_backend_modules

    return list(get_lowered_backend_modules(edge_manager.exported_program().graph_module))


def to_pte(edge_manager) -> bytes:
    """The .pte bytes of a lowered EdgeProgramManager, delegates under runtime names."""
    for lowered in delegates(edge_manager):
        lowered._backend_id = RUNTIME_BACKEND_IDS.get(lowered.backend_id, lowered.backend_id)
    return bytes(edge_manager.to_executorch().buffer)


def write_pte(edge_manager, path: str | Path) -> Path:
    """Write ``to_pte(edge_manager)`` to ``path`` (whole or not at all)."""
    from ir.files import write_atomically

    path = Path(path)
    write_atomically(path, to_pte(edge_manager))
    return path


__all__ = ["RUNTIME_BACKEND_IDS", "delegates", "to_pte", "write_pte"]
