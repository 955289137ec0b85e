"""The drop-in for ExecuTorch: partition like the Arm backend, delegate through our IR.

``Partitioner(compile_spec)`` takes ExecuTorch's own compile specs (or a ``Target`` or a
spec string, meaning ``TosaCompileSpec`` of it); the compile spec's kind picks the
backend, one per delegate kind:

- ``TosaCompileSpec``: partitions exactly like ``TOSAPartitioner``; each delegate's bytes
  are our TOSA flatbuffer (``TosaIRBackend``: ArmPassManager, then
  ``bridge.compile.compile_partition``).
- ``EthosUCompileSpec``: partitions exactly like ``EthosUPartitioner``; each delegate is
  Vela's output for our flatbuffer, compiled by ExecuTorch's own Ethos-U step with the
  spec's Vela flags (``EthosUIRBackend``).
- ``VgfCompileSpec``: partitions exactly like ``VgfPartitioner``; each delegate is the ML
  SDK Model Converter's ``.vgf`` of our flatbuffer (``VgfIRBackend``: ExecuTorch's extra
  VGF passes registered around the ArmPassManager as ``VgfBackend`` does, then
  ``compile_partition``, then ``runtime.model_converter.convert_to_vgf`` with the spec's
  converter flags).

``dump_dir`` asks each partition to write its stage dumps (``<tag>/00-input.mlir``,
``<tag>/01-legalize-unsigned-io.mlir``, ...) and ``<tag>.tosa`` into a folder; each stage
is verified (``ir.verify``) unless ``verify=False``; ``pipeline`` names the stages
(default ``ir.defaults.DEFAULT_PIPELINE``, ``legalize-unsigned-io,canonicalize``;
``EXECUTORCH_PIPELINE``, ``legalize-unsigned-io``, gives ExecuTorch's own bytes). The
options travel as compile-spec entries, the way ExecuTorch passes options to a
backend's ``preprocess``; each delegate's ``CompileResult`` comes back on its lowered
module (``compile_results``).

So ``to_edge_transform_and_lower(ep, partitioner=[Partitioner(spec)])`` is ExecuTorch's
flow with the last step (FX -> flatbuffer) replaced by the IR path.

``tosa_level_partitions`` and ``lower`` stop one step earlier: ``Partitioner(...,
capture=Capture())`` delegates to ``bridge.capture.TosaCaptureBackend``, which records
each partition at the TOSA level instead of compiling it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import final

import torch
from torch.export import ExportedProgram
from torch.fx import GraphModule
from torch.fx.passes.operator_support import chain

from bridge.capture import (
    DELEGATE_INFO_META,
    DUMP_DIR_KEY,
    KEEP_STAGES_KEY,
    PIPELINE_KEY,
    VERIFY_KEY,
    WITH_REFERENCE_KEY,
    TosaCaptureBackend,
    TosaLevelPartition,
    arm_compile_spec,
    check_lowering_options,
    edge_compile_config,
    own_specs,
    own_value,
    quantize_and_export,
    quiet,
    to_tosa_level,
)
from bridge.compile import CompileResult, compile_partition
from bridge.cpu_report import CpuOp, RejectReasons, cpu_ops, warn_cpu_ops
from bridge.fx_import import fx_to_ir
from bridge.spec_support import ProfileSupport
from bridge.uint8_io import Uint8IOPartitioning
from ir.defaults import DEFAULT_PIPELINE, DEFAULT_SPEC
from ir.files import write_atomically
from ir.verify.target import Target, as_target

with quiet():
    from executorch.backends.arm.ethosu import EthosUCompileSpec
    from executorch.backends.arm.ethosu.backend import EthosUBackend
    from executorch.backends.arm.tosa.backend import TOSABackend, arm_get_first_delegation_tag
    from executorch.backends.arm.tosa.compile_spec import TosaCompileSpec
    from executorch.backends.arm.tosa.partitioner import TOSAPartitioner
    from executorch.backends.arm.vgf import VgfCompileSpec
    from executorch.backends.arm.vgf import backend as vgf_backend
    from executorch.exir import to_edge_transform_and_lower
    from executorch.exir._serialize._named_data_store import NamedDataStore
    from executorch.exir.backend.backend_details import BackendDetails, PreprocessResult
    from executorch.exir.backend.compile_spec_schema import CompileSpec
    from executorch.exir.backend.partitioner import DelegationSpec
    from executorch.exir.delegate import executorch_call_delegate
    from executorch.exir.dialects._ops import ops as exir_ops
    from executorch.exir.graph_module import get_control_flow_submodules


# --------------------------------------------------------------------------- the backends


def compile_edge_program(
    edge_program: ExportedProgram,
    compile_spec: TosaCompileSpec,
    *,
    pipeline: str = DEFAULT_PIPELINE,
    dump_dir: str | Path | None = None,
    verify: bool = True,
    keep_stages: bool = False,
) -> CompileResult:
    """``TOSABackend._preprocess(edge_program, compile_spec)``, through our IR.

    The same ArmPassManager run on the same partition, then ``compile_partition``
    instead of ExecuTorch's node visitors and serializer; this is also what the
    ExecuTorch test suite swap (``tools/et_suite``) puts in place of
    ``TOSABackend._preprocess``. The dumps are named after the delegation tag.
    """
    graph_module = to_tosa_level(edge_program.graph_module, edge_program, compile_spec)
    return compile_partition(
        graph_module,
        edge_program,
        str(compile_spec.tosa_spec),
        pipeline=pipeline,
        dump_dir=dump_dir,
        name=arm_get_first_delegation_tag(graph_module) or "partition",
        verify=verify,
        keep_stages=keep_stages,
    )


def _compile_with_own_options(
    edge_program: ExportedProgram, compile_specs: list, spec_class
) -> CompileResult:
    """``compile_edge_program`` with the options our ``Partitioner`` put in the list."""
    return compile_edge_program(
        edge_program,
        arm_compile_spec(compile_specs, spec_class),
        pipeline=own_value(compile_specs, PIPELINE_KEY) or DEFAULT_PIPELINE,
        dump_dir=own_value(compile_specs, DUMP_DIR_KEY),
        verify=own_value(compile_specs, VERIFY_KEY) != "0",
        keep_stages=own_value(compile_specs, KEEP_STAGES_KEY) == "1",
    )


@final
class TosaIRBackend(BackendDetails):
    """Our ExecuTorch backend for a TOSA delegate: the bytes come through the IR.

    ExecuTorch looks backends up by class ``__name__`` among BackendDetails' direct
    subclasses, so this name must stay unique. The ``CompileResult`` rides along on
    the lowered module (``compile_results``).
    """

    @staticmethod
    def preprocess(edge_program: ExportedProgram, compile_specs: list) -> PreprocessResult:
        result = _compile_with_own_options(edge_program, compile_specs, TosaCompileSpec)
        return PreprocessResult(processed_bytes=result.flatbuffer, _delegate_info_meta=result)


@final
class EthosUIRBackend(BackendDetails):
    """``EthosUBackend.preprocess`` with our flatbuffer where TOSABackend's would be."""

    @staticmethod
    def preprocess(edge_program: ExportedProgram, compile_specs: list) -> PreprocessResult:
        compile_spec = arm_compile_spec(compile_specs, EthosUCompileSpec)
        tosa_specs = TOSABackend.filter_tosa_compile_specs(compile_spec)._to_list()
        result = _compile_with_own_options(
            edge_program, tosa_specs + own_specs(compile_specs), TosaCompileSpec
        )
        vela = EthosUBackend._compile_tosa_flatbuffer(result.flatbuffer, compile_spec)
        if not vela.external_blocks:
            return PreprocessResult(
                processed_bytes=vela.processed_bytes, _delegate_info_meta=result
            )
        store = NamedDataStore()
        for block in vela.external_blocks:
            store.add_named_data(
                block.key, block.payload, alignment=block.alignment, external_tag=block.placement
            )
        return PreprocessResult(
            processed_bytes=vela.processed_bytes,
            data_store_output=store.get_named_data_store_output(),
            _delegate_info_meta=result,
        )


@contextlib.contextmanager
def vgf_passes() -> Iterator[None]:
    """ExecuTorch's VGF-only passes (the grid-sampler custom lowering) registered into the
    ArmPassManager for a while, as ``VgfBackend.preprocess`` registers them, and the
    registry put back as it was afterwards (it is global: a TOSA partition lowered next
    must not see them)."""
    snapshot = vgf_backend._snapshot_registered_pass_insertions()
    try:
        vgf_backend._register_vgf_rewrite_passes()
        yield
    finally:
        vgf_backend._restore_registered_pass_insertions(snapshot)


@final
class VgfIRBackend(BackendDetails):
    """``VgfBackend.preprocess`` with our flatbuffer where TOSABackend's would be: the
    VGF passes, our stages and flatbuffer, then the model converter. The ``.tosa`` the
    converter reads is the dump's when there is a ``dump_dir`` (with the ``.vgf`` written
    next to it, whole or not at all); a converter that fails raises
    ``runtime.model_converter.ModelConverterError`` with the input kept on disk."""

    @staticmethod
    def preprocess(edge_program: ExportedProgram, compile_specs: list) -> PreprocessResult:
        from runtime.model_converter import convert_to_vgf

        compile_spec = arm_compile_spec(compile_specs, VgfCompileSpec)
        tosa_specs = TOSABackend.filter_tosa_compile_specs(compile_spec)._to_list()
        with vgf_passes():
            result = _compile_with_own_options(
                edge_program, tosa_specs + own_specs(compile_specs), TosaCompileSpec
            )
        vgf = convert_to_vgf(
            result.flatbuffer,
            flags=tuple(compile_spec.compiler_flags),
            name=result.name,
            tosa_path=result.flatbuffer_path,
        )
        if result.flatbuffer_path is not None:
            write_atomically(result.flatbuffer_path.with_suffix(".vgf"), vgf)
        return PreprocessResult(processed_bytes=vgf, _delegate_info_meta=result)


# --------------------------------------------------------------------------- the partitioner


@dataclass(frozen=True)
class Capture:
    """Ask ``Partitioner`` to record each partition at the TOSA level instead of
    compiling it (``bridge.capture.TosaCaptureBackend``); ``with_reference`` keeps
    ExecuTorch's own flatbuffer of each partition too, as the delegate's bytes."""

    with_reference: bool = False


class Partitioner(Uint8IOPartitioning, RejectReasons, TOSAPartitioner):
    """ExecuTorch's Arm partitioner, delegating to our IR backends.

    Every partitioning decision reads ``self.compile_spec`` as in ``TOSAPartitioner``
    (which ``EthosUPartitioner`` also is); the delegation spec differs, and uint8-IO data
    movement that ExecuTorch would leave on the CPU in float is made int8 first
    (``bridge.uint8_io``), so it is delegated; what the spec's profile tables refuse
    stays on the CPU (``check_profiles=False``: ExecuTorch's own partitions);
    ``reject_reasons`` keeps why the rest was not delegated (``bridge.cpu_report.cpu_ops``).
    ``keep_stages`` keeps a copy of each stage's module in every delegate's
    ``CompileResult`` (``compile_results``; a review's op counts per stage).
    """

    def __init__(
        self,
        compile_spec: TosaCompileSpec | EthosUCompileSpec | VgfCompileSpec | Target | str,
        additional_checks=None,
        *,
        dump_dir: str | Path | None = None,
        verify: bool = True,
        pipeline: str | None = None,
        capture: Capture | None = None,
        check_profiles: bool = True,
        keep_stages: bool = False,
    ) -> None:
        if isinstance(compile_spec, (Target, str)):
            compile_spec = TosaCompileSpec(as_target(compile_spec).text)
        super().__init__(compile_spec, additional_checks)
        if isinstance(compile_spec, VgfCompileSpec):
            # as VgfPartitioner: grid_sampler_2d goes to the VGF custom lowering
            self.register_custom_partition_op(exir_ops.edge.aten.grid_sampler_2d.default)
        self.target = as_target(str(self.tosa_spec))
        self.check_profiles = check_profiles
        specs = compile_spec._to_list()
        if dump_dir is not None:
            specs.append(CompileSpec(DUMP_DIR_KEY, str(dump_dir).encode("utf-8")))
        if not verify:
            specs.append(CompileSpec(VERIFY_KEY, b"0"))
        if pipeline is not None:
            specs.append(CompileSpec(PIPELINE_KEY, pipeline.encode("utf-8")))
        if keep_stages:
            specs.append(CompileSpec(KEEP_STAGES_KEY, b"1"))
        if capture is not None and capture.with_reference:
            specs.append(CompileSpec(WITH_REFERENCE_KEY, b"1"))
        self.delegation_spec = DelegationSpec(_backend(compile_spec, capture).__name__, specs)

    def _create_operator_support(self, containing_program, reporter):
        """ExecuTorch's support checks, then the spec's profile tables
        (``bridge.spec_support``): what the target cannot run stays on the CPU. Without
        ``check_profiles`` the partitions are exactly ExecuTorch's."""
        if not self.check_profiles:
            return super()._create_operator_support(containing_program, reporter)
        return chain(
            super()._create_operator_support(containing_program, reporter),
            ProfileSupport(self.target, reporter),
        )


def _backend(compile_spec, capture: Capture | None) -> type[BackendDetails]:
    if capture is not None:
        if isinstance(compile_spec, (EthosUCompileSpec, VgfCompileSpec)):
            raise ValueError(
                "capture records TOSA-level partitions: give a TosaCompileSpec, not an "
                f"{type(compile_spec).__name__}"
            )
        return TosaCaptureBackend
    if isinstance(compile_spec, EthosUCompileSpec):
        return EthosUIRBackend
    if isinstance(compile_spec, VgfCompileSpec):
        return VgfIRBackend
    return TosaIRBackend


# --------------------------------------------------------------------------- what came back


def _lowered_modules(graph_module: GraphModule) -> list:
    """The delegates of a lowered graph, in the order ExecuTorch lowers them: this
    graph's in graph order, then those inside each control-flow branch it kept."""
    found = [
        getattr(graph_module, node.args[0].name)
        for node in graph_module.graph.nodes
        if node.op == "call_function" and node.target is executorch_call_delegate
    ]
    for _, submodule, _ in get_control_flow_submodules(graph_module):
        found.extend(_lowered_modules(submodule))
    return found


def _delegate_infos(edge_manager, kind: type) -> list:
    infos = [
        (m.meta or {}).get(DELEGATE_INFO_META)
        for m in _lowered_modules(edge_manager.exported_program().graph_module)
    ]
    return [info for info in infos if isinstance(info, kind)]


def compile_results(edge_manager) -> list[CompileResult]:
    """Each delegate's ``CompileResult`` (stages, dumps, bytes) of a program lowered with
    our ``Partitioner``, in graph order, as the delegates' bytes are in the .pte."""
    return _delegate_infos(edge_manager, CompileResult)


def partition_name(partition: TosaLevelPartition, index: int) -> str:
    """ExecuTorch's delegation tag of a captured partition (``tag0``), the name our
    backends give its dumps; ``partition<index>`` for a graph without one."""
    return arm_get_first_delegation_tag(partition.graph_module) or f"partition{index}"


class Partitions(list):
    """The ``TosaLevelPartition`` list of a lowering, with ``cpu_ops``: every compute op
    left outside the delegates, with the partitioner's reason (``bridge.cpu_report``)."""

    cpu_ops: tuple[CpuOp, ...] = ()


def tosa_level_partitions(
    model_or_exported_program: torch.nn.Module | ExportedProgram,
    example_inputs: tuple | None,
    spec: str | Target = DEFAULT_SPEC,
    uint8_io: bool = True,
    *,
    quantization: str = "8a8w",
    with_reference: bool = False,
    preserve_io_quantization: bool = False,
    vgf: bool = False,
) -> Partitions:
    """Each partition ExecuTorch's Arm flow delegates, at the TOSA level, in graph order.

    A model goes through ``quantize_and_export`` first; an ExportedProgram is taken as
    already exported (and quantized), so ``example_inputs`` may be None and the
    quantization options are only checked against ``spec`` (a ``Target`` or a spec
    string). With ``with_reference`` each partition also carries ExecuTorch's own
    flatbuffer of it, at the cost of a second run of the pass pipeline and of
    ExecuTorch's serialiser. ``preserve_io_quantization`` keeps the IO
    quantize/dequantize outside the delegates on a spec with float support
    (ExecuTorch's compile-spec option; INT-only specs always do): uint8 IO on
    ``TOSA-1.0+INT+FP`` needs it (``bridge.uint8_io.check_float_boundary``). ``vgf``
    partitions as ``VgfPartitioner`` and runs ExecuTorch's extra VGF passes
    (``vgf_passes``): the partitions the VGF delegate compiles.
    """
    target = as_target(spec)
    compile_spec = TosaCompileSpec(target.text)
    check_lowering_options(compile_spec, uint8_io, quantization)
    if preserve_io_quantization:
        with quiet():  # ExecuTorch warns that INT-only specs need no such option
            compile_spec._set_preserve_io_quantization(True)
    if isinstance(model_or_exported_program, ExportedProgram):
        exported = model_or_exported_program
    else:
        exported = quantize_and_export(
            model_or_exported_program, example_inputs, target, uint8_io, quantization=quantization
        )

    # ExecuTorch's own partitions (no profile check), so its flatbuffer of each is the oracle
    partitioner = Partitioner(
        compile_spec, capture=Capture(with_reference=with_reference), check_profiles=False
    )
    if vgf:
        partitioner.register_custom_partition_op(exir_ops.edge.aten.grid_sampler_2d.default)
    with vgf_passes() if vgf else contextlib.nullcontext():
        edge = to_edge_transform_and_lower(
            exported, partitioner=[partitioner], compile_config=edge_compile_config()
        )
    outside = cpu_ops(edge.exported_program().graph_module, partitioner.reject_reasons)
    partitions = Partitions(_delegate_infos(edge, TosaLevelPartition))
    if not partitions:
        reasons = "".join(f"\n  {op.format()}" for op in outside)
        raise RuntimeError(f"ExecuTorch delegated nothing to TOSA for {target.text}{reasons}")
    partitions.cpu_ops = outside
    return partitions


def lower(
    model: torch.nn.Module | ExportedProgram,
    example_inputs: tuple | None,
    spec: str | Target = DEFAULT_SPEC,
    uint8_io: bool = True,
    **kwargs,
):
    """Our IR (one xDSL ModuleOp per delegated partition) of ``model`` under ``spec``.

    Keyword arguments are those of ``tosa_level_partitions``. Compute ops left on the
    CPU are reported in one ``bridge.cpu_report.CpuFallbackWarning``, each with the
    partitioner's reason.
    """
    target = as_target(spec)
    partitions = tosa_level_partitions(model, example_inputs, target, uint8_io, **kwargs)
    warn_cpu_ops(partitions.cpu_ops)
    return [fx_to_ir(p.graph_module, p.exported_program, spec=target) for p in partitions]


__all__ = [
    "Capture",
    "EthosUIRBackend",
    "Partitioner",
    "Partitions",
    "TosaIRBackend",
    "VgfIRBackend",
    "compile_edge_program",
    "compile_results",
    "lower",
    "partition_name",
    "tosa_level_partitions",
    "vgf_passes",
]
