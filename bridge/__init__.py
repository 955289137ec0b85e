"""The borders: ExecuTorch FX graphs in, TOSA flatbuffers in and out.

Everything is loaded on first use: most of it needs torch and ExecuTorch, which take
seconds to import, and ``import bridge`` should not. The flatbuffer half
(``to_flatbuffer``, ``from_flatbuffer``, ``check_flatbuffer``, ``FlatbufferError``)
needs neither.
``bridge/capture.py`` holds them (the capture of ExecuTorch's TOSA-level partitions).
"""

INT_SPEC = "TOSA-1.0+INT"
FP_SPEC = "TOSA-1.0+FP"

# name -> (module, attribute); attribute None means the module itself.
_LAZY = {
    "lower": ("bridge.capture", "lower"),
    "tosa_level_partitions": ("bridge.capture", "tosa_level_partitions"),
    "fx_to_ir": ("bridge.fx_import", "fx_to_ir"),
    "fx_to_flatbuffer": ("bridge.compile", "fx_to_flatbuffer"),
    "Partitioner": ("bridge.partitioner", "Partitioner"),
    "to_flatbuffer": ("bridge.flatbuffer", "to_flatbuffer"),
    "from_flatbuffer": ("bridge.flatbuffer", "from_flatbuffer"),
    "check_flatbuffer": ("bridge.flatbuffer", "check_flatbuffer"),
    "FlatbufferError": ("bridge.flatbuffer", "FlatbufferError"),
}

__all__ = [
    "FP_SPEC",
    "INT_SPEC",
    "FlatbufferError",
    "Partitioner",
    "check_flatbuffer",
    "from_flatbuffer",
    "fx_to_flatbuffer",
    "fx_to_ir",
    "lower",
    "to_flatbuffer",
    "tosa_level_partitions",
]


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
