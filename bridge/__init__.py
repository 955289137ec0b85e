"""The torch / ExecuTorch border: quantization, capture of ExecuTorch's TOSA-level
partitions, FX import into the IR, the one compile path from a partition to bytes, and
the ExecuTorch backends and partitioner whose bytes come from the IR.

The torch-free halves live elsewhere: the IR (and the shared defaults, ``ir.defaults``)
in ``ir``, the TOSA flatbuffer codec in ``tosa_flatbuffer``, the tools after it in
``runtime``, the command-line tools and the example in ``drivers``.
"""

from bridge.compile import CompileResult, compile_partition
from bridge.fx_import import fx_to_ir
from bridge.partitioner import Partitioner, compile_results, lower, tosa_level_partitions

__all__ = [
    "CompileResult",
    "Partitioner",
    "compile_partition",
    "compile_results",
    "fx_to_ir",
    "lower",
    "tosa_level_partitions",
]
