"""The borders: ExecuTorch FX graphs in, TOSA flatbuffers in and out.

``lower``, ``tosa_level_partitions`` and ``fx_to_ir`` are loaded on first use: they need
torch and ExecuTorch, which take seconds to import, and ``import bridge`` should not.
``bridge/capture.py`` holds them (the capture of ExecuTorch's TOSA-level partitions).
"""

INT_SPEC = "TOSA-1.0+INT"
FP_SPEC = "TOSA-1.0+FP"

# name -> (module, attribute); attribute None means the module itself.
_LAZY = {
    "lower": ("bridge.capture", "lower"),
    "tosa_level_partitions": ("bridge.capture", "tosa_level_partitions"),
    "fx_to_ir": ("bridge.fx_import", "fx_to_ir"),
}

__all__ = ["FP_SPEC", "INT_SPEC", "fx_to_ir", "lower", "tosa_level_partitions"]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'bridge' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
