"""The torch / ExecuTorch border: quantization, capture of ExecuTorch's TOSA-level
partitions, FX import into the IR, and the ExecuTorch backends and partitioner whose
bytes come from the IR.

The torch-free halves live elsewhere: the IR in ``ir``, the TOSA flatbuffer codec in
``tosa_flatbuffer``, the tools after it in ``runtime``, the command-line tools and the
example in ``drivers``.
"""

INT_SPEC = "TOSA-1.0+INT"
FP_SPEC = "TOSA-1.0+FP"

from bridge.capture import lower, tosa_level_partitions  # noqa: E402 -- after the specs they use
from bridge.compile import fx_to_flatbuffer  # noqa: E402
from bridge.fx_import import fx_to_ir  # noqa: E402
from bridge.partitioner import Partitioner  # noqa: E402

__all__ = [
    "FP_SPEC",
    "INT_SPEC",
    "Partitioner",
    "fx_to_flatbuffer",
    "fx_to_ir",
    "lower",
    "tosa_level_partitions",
]
