"""The drop-in for ExecuTorch: partition like the Arm backend, delegate through our IR.

``Partitioner(compile_spec)`` takes ExecuTorch's own compile specs:

- ``TosaCompileSpec``: partitions exactly like ``TOSAPartitioner``; each delegate's bytes
  are our TOSA flatbuffer (``TosaIRBackend``: ArmPassManager, then ``fx_to_flatbuffer``).
- ``EthosUCompileSpec``: partitions exactly like ``EthosUPartitioner``; each delegate is
  Vela's output for our flatbuffer, compiled by ExecuTorch's own Ethos-U step with the
  spec's Vela flags (``EthosUIRBackend``).

``dump_dir`` asks each partition to write its stage dumps (``<tag>/00-input.mlir``,
``<tag>/01-legalize-unsigned-io.mlir``, ...) and ``<tag>.tosa`` into a folder; each stage
is verified (``ir.verify``) unless ``verify=False``; ``pipeline`` names the stages
(default ``legalize-unsigned-io``: ExecuTorch's bytes; ``legalize-unsigned-io,canonicalize``
for smaller files). The options travel as compile-spec entries, the
way ExecuTorch passes options to a backend's ``preprocess``.

So ``to_edge_transform_and_lower(ep, partitioner=[Partitioner(spec)])`` is ExecuTorch's
flow with the last step (FX -> flatbuffer) replaced by the IR path.
"""

from __future__ import annotations

from pathlib import Path
from typing import final

from torch.fx.passes.operator_support import chain

from bridge.capture import (
    DUMP_DIR_KEY,
    PIPELINE_KEY,
    VERIFY_KEY,
    TosaIRBackend,
    _arm_compile_spec,
    ir_flatbuffer,
    own_specs,
    quiet,
)
from bridge.cpu_report import RejectReasons
from bridge.spec_support import ProfileSupport
from bridge.uint8_io import Uint8IOPartitioning

with quiet():
    from executorch.backends.arm.ethosu import EthosUCompileSpec
    from executorch.backends.arm.ethosu.backend import EthosUBackend
    from executorch.backends.arm.tosa.backend import TOSABackend
    from executorch.backends.arm.tosa.compile_spec import TosaCompileSpec
    from executorch.backends.arm.tosa.partitioner import TOSAPartitioner
    from executorch.exir._serialize._named_data_store import NamedDataStore
    from executorch.exir.backend.backend_details import BackendDetails, PreprocessResult
    from executorch.exir.backend.compile_spec_schema import CompileSpec
    from executorch.exir.backend.partitioner import DelegationSpec

@final
class EthosUIRBackend(BackendDetails):
    """``EthosUBackend.preprocess`` with our flatbuffer where TOSABackend's would be."""

    @staticmethod
    def preprocess(edge_program, compile_specs: list) -> PreprocessResult:
        compile_spec = _arm_compile_spec(compile_specs, EthosUCompileSpec)
        tosa_specs = TOSABackend.filter_tosa_compile_specs(compile_spec)._to_list()
        flatbuffer = ir_flatbuffer(edge_program, tosa_specs + own_specs(compile_specs))
        result = EthosUBackend._compile_tosa_flatbuffer(flatbuffer, compile_spec)
        if not result.external_blocks:
            return PreprocessResult(processed_bytes=result.processed_bytes)
        store = NamedDataStore()
        for block in result.external_blocks:
            store.add_named_data(block.key, block.payload, alignment=block.alignment, external_tag=block.placement)
        return PreprocessResult(
            processed_bytes=result.processed_bytes,
            data_store_output=store.get_named_data_store_output(),
        )


class Partitioner(Uint8IOPartitioning, RejectReasons, TOSAPartitioner):
    """ExecuTorch's Arm partitioner, delegating to our IR backends.

    Every partitioning decision reads ``self.compile_spec`` as in ``TOSAPartitioner``
    (which ``EthosUPartitioner`` also is); the delegation spec differs, and uint8-IO data
    movement that ExecuTorch would leave on the CPU in float is made int8 first
    (``bridge.uint8_io``), so it is delegated; ``reject_reasons`` keeps why the rest was
    not (``bridge.cpu_report.cpu_ops``).
    """

    def __init__(
        self,
        compile_spec: TosaCompileSpec | EthosUCompileSpec,
        additional_checks=None,
        *,
        dump_dir: str | Path | None = None,
        verify: bool = True,
        pipeline: str | None = None,
    ) -> None:
        super().__init__(compile_spec, additional_checks)
        backend = EthosUIRBackend if isinstance(compile_spec, EthosUCompileSpec) else TosaIRBackend
        specs = compile_spec._to_list()
        if dump_dir is not None:
            specs.append(CompileSpec(DUMP_DIR_KEY, str(dump_dir).encode("utf-8")))
        if not verify:
            specs.append(CompileSpec(VERIFY_KEY, b"0"))
        if pipeline is not None:
            specs.append(CompileSpec(PIPELINE_KEY, pipeline.encode("utf-8")))
        self.delegation_spec = DelegationSpec(backend.__name__, specs)

    def _create_operator_support(self, containing_program, reporter):
        """ExecuTorch's support checks, then the spec's profile tables
        (``bridge.spec_support``): what the target cannot run stays on the CPU."""
        return chain(
            super()._create_operator_support(containing_program, reporter),
            ProfileSupport(str(self.tosa_spec), reporter),
        )


__all__ = ["EthosUIRBackend", "Partitioner", "TosaIRBackend"]
