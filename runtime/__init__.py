"""After the IR: the TOSA reference model and Vela."""

from runtime.reference import (
    GraphIO,
    IoTensor,
    ReferenceModelError,
    checked_for_reference,
    graph_io,
    run_reference,
)

__all__ = [
    "GraphIO",
    "IoTensor",
    "ReferenceModelError",
    "checked_for_reference",
    "graph_io",
    "run_reference",
]

from runtime.vela import OpPlacement, VelaError, VelaResult, VelaSummary, compile_vela, vela_args

__all__ += ["OpPlacement", "VelaError", "VelaResult", "VelaSummary", "compile_vela", "vela_args"]
