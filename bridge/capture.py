"""ExecuTorch's Arm flow up to the TOSA-level FX graph, captured for our IR.

ExecuTorch's ``TOSABackend`` runs the Arm pass pipeline on each delegated partition and
writes the resulting TOSA-level FX graph straight to a flatbuffer. To give that graph an
IR, this module takes the same route but stops one step earlier: ``CapturePartitioner``
partitions exactly like ``TOSAPartitioner`` and hands each partition to
``TosaIRBackend``, whose ``preprocess`` runs the same passes as
``TOSABackend._preprocess_module`` and records the transformed graph instead of
serialising it.

Partitioning, quantization and pass pipelines therefore stay ExecuTorch's own; only the
last step (FX to flatbuffer) is replaced. With ``with_reference=True`` ExecuTorch's own
flatbuffer of the very same partition is kept next to it, as the oracle for our output.

Importing this module imports torch and ExecuTorch (the backend class must subclass
theirs), so ``bridge`` imports it lazily.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import final

import torch
from torch.export import ExportedProgram
from torch.fx import GraphModule

from bridge import INT_SPEC

INT16_SPEC = "TOSA-1.0+INT+int16"
QUANTIZATIONS = ("8a8w", "16a8w")

# Loggers that chat on import or while lowering: torchao warns about CUDA kernels it
# cannot load, torch's pytree about deprecated Enum registration, and the Arm backend
# logs every partitioning step at INFO.
_NOISY_LOGGERS = ("torchao", "torch.utils._pytree", "torch._export", "executorch")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence the warnings and log lines of torch, torchao and ExecuTorch for a while.

    Lowering a model prints pages of warnings that say nothing about the model; a tool's
    own output should not drown in them. Levels and filters are put back afterwards so a
    caller's logging set-up is left as it was.
    """
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)


# ExecuTorch's Arm backend pulls in torchao, which logs about CUDA kernels it cannot load
# and registers pytree types torch calls deprecated: noise on every import of this
# module, nothing a caller can act on.
with quiet():
    from executorch.backends.arm.tosa.backend import TOSABackend
    from executorch.backends.arm.tosa.compile_spec import TosaCompileSpec
    from executorch.backends.arm.tosa.mapping import (
        TOSA_CONTROL_FLOW_REGION_NAME_META,
        TOSA_TENSOR_NAME_META,
    )
    from executorch.backends.arm.tosa.partitioner import TOSAPartitioner
    from executorch.exir.backend.backend_details import BackendDetails, PreprocessResult
    from executorch.exir.backend.partitioner import DelegationSpec
    from executorch.exir.graph_module import get_cond_while_submodules

# After ExecuTorch: these name its quantize ops, which torchao registers on import.
from bridge.cpu_report import CpuOp, RejectReasons, cpu_ops, warn_cpu_ops  # noqa: E402
from bridge.uint8_io import Uint8IOPartitioning  # noqa: E402


# --------------------------------------------------------------------------- quantization


def _check_lowering_options(
    compile_spec: TosaCompileSpec, uint8_io: bool, quantization: str
) -> None:
    """Refuse option combinations the spec cannot honour, before any slow work.

    uint8 IO only exists as RESCALE flags of a quantized graph, and 16-bit activations
    need the ``int16`` extension; silently dropping either would hand back a graph the
    caller did not ask for.
    """
    tosa_spec = compile_spec.tosa_spec
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization={quantization!r}: expected one of {QUANTIZATIONS}")
    if not tosa_spec.support_integer():
        if uint8_io:
            raise ValueError(
                f"uint8_io=True needs an integer TOSA spec, got {tosa_spec}: uint8 IO is a "
                "property of a quantized graph; pass uint8_io=False for a float spec"
            )
        if quantization != "8a8w":
            raise ValueError(
                f"quantization={quantization!r} needs an integer TOSA spec, got {tosa_spec}"
            )
        return
    if quantization == "16a8w" and not tosa_spec.support_extension("int16"):
        raise ValueError(
            f"quantization='16a8w' needs the int16 extension, got {tosa_spec}: "
            f"use a spec such as {INT16_SPEC!r}"
        )


def _quantize(
    model: torch.nn.Module,
    inputs: tuple,
    compile_spec: TosaCompileSpec,
    uint8_io: bool,
    quantization: str,
) -> GraphModule:
    """Post-training quantization with ExecuTorch's own TOSAQuantizer.

    Int8 (or, for ``16a8w``, int16) activations and int8 weights everywhere; with
    ``uint8_io`` the graph input and output get the uint8 config of "Arm backend: Support
    for uint8 I/O", which the backend folds into RESCALE ops with ``input_unsigned`` /
    ``output_unsigned`` at the partition's edges. The example inputs are the only
    calibration batch, so fixed inputs give reproducible quantization parameters.
    """
    from executorch.backends.arm.quantizer import (
        TOSAQuantizer,
        get_symmetric_a16w8_quantization_config,
        get_symmetric_quantization_config,
        get_uint8_io_quantization_config,
    )

    # check_guards=False: torch 2.13 otherwise adds a `_guards_fn` call to the graph,
    # which the Arm annotator does not know and trips over.
    graph_module = torch.export.export(model, inputs).module(check_guards=False)

    quantizer = TOSAQuantizer(compile_spec)
    if quantization == "16a8w":
        quantizer.set_global(get_symmetric_a16w8_quantization_config())
    else:
        quantizer.set_global(get_symmetric_quantization_config())
    if uint8_io:
        quantizer.set_io(get_uint8_io_quantization_config())

    # The quantizer's own driver (the one ExecuTorch's Arm test harness uses):
    # prepare_pt2e, one calibration pass over the example inputs, convert_pt2e, as
    # before; it also prepares and converts cond branches and while conditions, which
    # torchao alone leaves float (a while_loop then is not delegated at all). For a graph
    # without control flow it is exactly prepare_pt2e / calibrate / convert_pt2e.
    return quantizer._quantize_with_submodules(graph_module, [inputs])


def quantize_and_export(
    model: torch.nn.Module,
    example_inputs: tuple,
    spec: str = INT_SPEC,
    uint8_io: bool = True,
    *,
    quantization: str = "8a8w",
) -> ExportedProgram:
    """The ATen-level program ExecuTorch's Arm flow starts from, for ``spec``.

    An integer spec (``TOSA-1.0+INT``) is quantized first with ExecuTorch's
    TOSAQuantizer: ``quantization="8a8w"`` (default) or ``"16a8w"`` (16-bit
    activations; the spec needs ``+int16``), with uint8 model IO when ``uint8_io``. A
    float-only spec exports the float model as it is; ``uint8_io=True`` is then a
    ValueError, because uint8 IO only exists in a quantized graph.

    The model is put in eval mode (in place), as export for inference expects.
    """
    if not example_inputs:
        raise ValueError("example_inputs is empty: export needs at least one input")
    compile_spec = TosaCompileSpec(spec)
    _check_lowering_options(compile_spec, uint8_io, quantization)

    model = model.eval()
    if compile_spec.tosa_spec.support_integer():
        model = _quantize(model, example_inputs, compile_spec, uint8_io, quantization)
    return torch.export.export(model, example_inputs)


def io_quantization(exported: ExportedProgram) -> tuple[list[tuple], list[tuple]]:
    """Each graph input's quantize and each output's dequantize arguments
    ``(scale, zero_point, qmin, qmax, dtype)``, in order: a quantized model's delegate
    reads and writes the integers between them (empty lists for a float model)."""
    q = torch.ops.quantized_decomposed.quantize_per_tensor.default
    dq = torch.ops.quantized_decomposed.dequantize_per_tensor.default
    graph = exported.graph_module.graph
    inputs = [
        tuple(user.args[1:6])
        for node in graph.nodes
        if node.op == "placeholder"
        for user in node.users
        if user.target == q
    ]
    output = next(n for n in graph.nodes if n.op == "output")
    outputs = [tuple(a.args[1:6]) for a in output.args[0] if getattr(a, "target", None) == dq]
    return inputs, outputs


def quantize_tensor(x: torch.Tensor, params: tuple):
    """``x`` quantized with ``io_quantization`` arguments, as a numpy array."""
    scale, zero_point, qmin, qmax, dtype = params
    q = torch.ops.quantized_decomposed.quantize_per_tensor.default
    return q(x, scale, zero_point, qmin, qmax, dtype).numpy()


# --------------------------------------------------------------------------- the backend


@dataclass
class TosaLevelPartition:
    """One delegated partition after ExecuTorch's Arm pass pipeline.

    ``graph_module`` is the transformed top-level graph (``tosa.*`` ops); its cond /
    while submodules are the transformed ones too, reachable with ``getattr`` through
    their ``get_attr`` nodes. ``exported_program`` is the partition's program, updated by
    the pipeline (its graph signature names the parameters and buffers the graph's
    placeholders stand for). ``reference_flatbuffer`` is ExecuTorch's own flatbuffer of
    this partition, when it was asked for.
    """

    graph_module: GraphModule
    exported_program: ExportedProgram
    compile_spec: TosaCompileSpec
    reference_flatbuffer: bytes | None = None


@dataclass
class _Collector:
    """Where ``TosaIRBackend.preprocess`` puts its partitions during one lowering."""

    with_reference: bool
    partitions: list[TosaLevelPartition] = field(default_factory=list)


# ExecuTorch calls preprocess as a static method with no way to pass our options
# through, so the active lowering is found here. A ContextVar (not a global) keeps
# concurrent lowerings in different threads or tasks apart.
_COLLECTOR: contextvars.ContextVar[_Collector | None] = contextvars.ContextVar(
    "tosa_ir_collector", default=None
)


@contextlib.contextmanager
def _collecting(with_reference: bool) -> Iterator[_Collector]:
    collector = _Collector(with_reference=with_reference)
    token = _COLLECTOR.set(collector)
    try:
        yield collector
    finally:
        _COLLECTOR.reset(token)


def _annotate_region_names(graph_module: GraphModule, parent_region: str | None) -> None:
    """Name each cond / while branch's region as TOSABackend does, on its ``get_attr`` node.

    ExecuTorch sets this metadata just before serialising (nested in
    ``_preprocess_module``, not callable from here); the cond_if / while_loop visitors
    read it for their region names, so an importer that wants the same names needs it
    on the graph too.
    """
    for node in graph_module.graph.nodes:
        if node.op != "call_function":
            continue
        if node.target is torch.ops.higher_order.cond:
            branches = node.args[1:3]
        elif node.target is torch.ops.higher_order.while_loop:
            branches = node.args[0:2]
        else:
            continue
        for get_attr in branches:
            get_attr.meta[TOSA_CONTROL_FLOW_REGION_NAME_META] = _region_name(
                parent_region, get_attr.target
            )


def _region_name(parent_region: str | None, name: str) -> str:
    """TOSABackend's globally unique region name of a (possibly nested) branch."""
    return name if parent_region is None else f"{parent_region}__{name}"


def _set_submodule(graph_module: GraphModule, target: str, submodule: GraphModule) -> None:
    """Make ``getattr`` along ``target`` (a get_attr target, maybe dotted) give ``submodule``."""
    owner_path, _, attribute = target.rpartition(".")
    owner = graph_module.get_submodule(owner_path) if owner_path else graph_module
    setattr(owner, attribute, submodule)


def _pin_constant_data(graph_module: GraphModule, edge_program: ExportedProgram, region: str | None) -> None:
    """Record on each constant placeholder the tensor it stands for *now*.

    The passes of two branches may register different constants under one name (a cond's
    ``2.0`` and ``1.0`` both become ``aten_view_copy_default_fused_const``); ExecuTorch
    gets away with it because it serialises each branch right after transforming it.
    The importer reads the graph after all branches are done, so it takes the data
    pinned here (a reference, not a copy) before the next branch can overwrite it.
    """
    from bridge.fx_import import CONSTANT_DATA_META, ModuleConstants

    constants = ModuleConstants(edge_program)
    for node in graph_module.graph.nodes:
        if node.op != "placeholder" or (region is not None and node.meta.get("is_input")):
            continue
        data = constants.find(node)
        if data is not None:
            node.meta[CONSTANT_DATA_META] = data


def _to_tosa_level(
    graph_module: GraphModule,
    edge_program: ExportedProgram,
    compile_spec: TosaCompileSpec,
    region: str | None = None,
) -> GraphModule:
    """``TOSABackend._preprocess_module`` without the serialiser: the same passes, in order.

    The top graph is transformed through ``edge_program`` (the pass manager updates the
    program in place); each cond / while branch is regularised against its control-flow
    node, transformed by a fresh pass manager and recursed into, exactly as ExecuTorch
    does. ExecuTorch serialises a transformed branch and drops it; here it is put back
    on its parent, because the importer reaches branches through the parent's
    ``get_attr`` nodes and the pass manager returns a new GraphModule (for every branch
    tried), leaving the parent holding a half-done one (the top pipeline already
    inserted its RESCALEs, but ``aten.sin`` is still there).
    """
    # Imported here as TOSABackend does: the pass package imports the backend back.
    from executorch.backends.arm._passes import ArmPassManager

    graph_module = ArmPassManager(compile_spec).transform_to_backend_pipeline(
        exported_program=edge_program, graph_module=graph_module
    )
    _annotate_region_names(graph_module, region)
    _pin_constant_data(graph_module, edge_program, region)
    if region is not None:
        for node in graph_module.graph.nodes:
            node.meta[TOSA_TENSOR_NAME_META] = f"_{region}"

    for name, submodule, control_flow_node in get_cond_while_submodules(graph_module):
        TOSABackend._regularize_submodule(submodule, control_flow_node)
        outputs = submodule.graph.output_node().args[0]
        control_flow_node.meta.setdefault(ORIGINAL_OUTPUT_NAMES_META, {})[name] = [
            getattr(o, "name", "") for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])
        ]
        transformed = _to_tosa_level(
            submodule, edge_program, compile_spec, _region_name(region, name)
        )
        if transformed is not submodule:
            _set_submodule(graph_module, name, transformed)
    return graph_module


def _executorch_flatbuffer(edge_program: ExportedProgram, compile_specs: list) -> bytes:
    """ExecuTorch's own TOSA flatbuffer of this partition, from a private copy.

    The pass pipeline rewrites the program in place, so the reference must run on a deep
    copy taken before our own transformation (to_backend itself hands preprocess a deep
    copy, so the program is known to survive one), and with its own compile spec object.
    """
    reference_program = copy.deepcopy(edge_program)
    compile_spec = _arm_compile_spec(compile_specs)
    return bytes(TOSABackend._preprocess(reference_program, compile_spec).processed_bytes)


#: on a cond/while node: {branch target: its output node names before the Arm passes}.
#: ExecuTorch's while_loop visitor names unused results after these (it reads the branch
#: it never replaced), so the importer needs them to give the same names.
ORIGINAL_OUTPUT_NAMES_META = "tosa_ir_original_output_names"

#: compile-spec keys of our own options: a folder for each partition's stage dumps,
#: b"0" to skip ir.verify between the stages, the pipeline of stages
DUMP_DIR_KEY = "tosa_ir_dump_dir"
VERIFY_KEY = "tosa_ir_verify"
PIPELINE_KEY = "tosa_ir_pipeline"
OWN_KEYS = (DUMP_DIR_KEY, VERIFY_KEY, PIPELINE_KEY)


def own_specs(compile_specs: list) -> list:
    """Our entries of a compile-spec list (to pass them on)."""
    return [s for s in compile_specs if s.key in OWN_KEYS]


def _arm_compile_spec(compile_specs: list, spec_class=None):
    """ExecuTorch's compile spec from the list, without our own keys (theirs would keep
    them as unknown entries and write them back into the .pte)."""
    spec_class = spec_class or TosaCompileSpec
    return spec_class._from_list([s for s in compile_specs if s.key not in OWN_KEYS])


def _own_value(compile_specs: list, key: str) -> str | None:
    for s in compile_specs:
        if s.key == key:
            return bytes(s.value).decode("utf-8")
    return None


def ir_flatbuffer(edge_program: ExportedProgram, compile_specs: list, spec_class=None) -> bytes:
    """A partition's TOSA flatbuffer through our IR: ArmPassManager, then
    ``fx_to_flatbuffer`` (what ``TOSABackend._preprocess`` does with node visitors)."""
    from bridge.compile import EXECUTORCH_PIPELINE

    return compile_spec_flatbuffer(
        edge_program,
        _arm_compile_spec(compile_specs, spec_class),
        pipeline=_own_value(compile_specs, PIPELINE_KEY) or EXECUTORCH_PIPELINE,
        dump_dir=_own_value(compile_specs, DUMP_DIR_KEY),
        verify=_own_value(compile_specs, VERIFY_KEY) != "0",
    )


def compile_spec_flatbuffer(
    edge_program: ExportedProgram,
    compile_spec: TosaCompileSpec,
    *,
    pipeline: str,
    dump_dir: str | None = None,
    verify: bool = True,
) -> bytes:
    """``TOSABackend._preprocess(edge_program, compile_spec)``'s bytes, through our IR.

    The same ArmPassManager run on the same partition, then ``fx_to_flatbuffer`` instead
    of ExecuTorch's node visitors and serializer; this is also what the ExecuTorch test
    suite swap (``tools/et_suite``) puts in place of ``TOSABackend._preprocess``.
    """
    from executorch.backends.arm.tosa.backend import arm_get_first_delegation_tag

    from bridge.compile import fx_to_flatbuffer

    graph_module = _to_tosa_level(edge_program.graph_module, edge_program, compile_spec)
    name = arm_get_first_delegation_tag(graph_module) or "partition"
    return fx_to_flatbuffer(
        graph_module,
        edge_program,
        str(compile_spec.tosa_spec),
        pipeline=pipeline,
        dump_dir=dump_dir,
        dump_name=name,
        verify=verify,
    )


@final
class TosaIRBackend(BackendDetails):
    """Our ExecuTorch backend: a partition's delegate bytes come through the IR.

    ExecuTorch looks backends up by class ``__name__`` among BackendDetails' direct
    subclasses, so this name must stay unique. Inside ``tosa_level_partitions`` it records
    the TOSA-level partition instead (for tests and tools that want the FX graph).
    """

    @staticmethod
    def preprocess(edge_program: ExportedProgram, compile_specs: list) -> PreprocessResult:
        collector = _COLLECTOR.get()
        if collector is None:
            return PreprocessResult(processed_bytes=ir_flatbuffer(edge_program, compile_specs))

        reference = None
        if collector.with_reference:
            reference = _executorch_flatbuffer(edge_program, compile_specs)

        compile_spec = _arm_compile_spec(compile_specs)
        graph_module = _to_tosa_level(edge_program.graph_module, edge_program, compile_spec)
        collector.partitions.append(
            TosaLevelPartition(graph_module, edge_program, compile_spec, reference)
        )
        return PreprocessResult(processed_bytes=reference or b"")


class CapturePartitioner(Uint8IOPartitioning, RejectReasons, TOSAPartitioner):
    """``TOSAPartitioner``'s partitions, delegated to ``TosaIRBackend`` instead of TOSABackend.

    The backend id is the one thing TOSAPartitioner hard-codes, and every partitioning
    decision reads ``self.compile_spec``, which the parent's constructor sets as usual;
    uint8-IO data movement is made int8 first (``bridge.uint8_io``), so it is delegated,
    and the reject reasons are kept (``bridge.cpu_report``).
    """

    def __init__(self, compile_spec: TosaCompileSpec, additional_checks=None) -> None:
        super().__init__(compile_spec, additional_checks)
        self.delegation_spec = DelegationSpec(TosaIRBackend.__name__, compile_spec._to_list())


# --------------------------------------------------------------------------- entry points


def edge_compile_config():
    """The EdgeCompileConfig of ExecuTorch's own Arm flows, for the same graphs as theirs.

    ``aot_arm_compiler``, the Arm recipes and the Arm test harness all turn the edge IR
    validity check off: with it on, torch 2.13's verifier re-runs the lowered graph and
    rejects programs the Arm flow handles (a quantized ``torch.cond`` fails on its
    predicate's scalar ``tosa.CONST_SHAPE``).
    """
    from executorch.exir import EdgeCompileConfig

    return EdgeCompileConfig(_check_ir_validity=False)


class Partitions(list):
    """The ``TosaLevelPartition`` list of a lowering, with ``cpu_ops``: every compute op
    left outside the delegates, with the partitioner's reason (``bridge.cpu_report``)."""

    cpu_ops: tuple[CpuOp, ...] = ()


def tosa_level_partitions(
    model_or_exported_program: torch.nn.Module | ExportedProgram,
    example_inputs: tuple | None,
    spec: str = INT_SPEC,
    uint8_io: bool = True,
    *,
    quantization: str = "8a8w",
    with_reference: bool = False,
    preserve_io_quantization: bool = False,
) -> Partitions:
    """Each partition ExecuTorch's Arm flow delegates, at the TOSA level, in delegation order.

    A model goes through ``quantize_and_export`` first; an ExportedProgram is taken as
    already exported (and quantized), so ``example_inputs`` may be None and the
    quantization options are only checked against ``spec``. With ``with_reference`` each
    partition also carries ExecuTorch's own flatbuffer of it, at the cost of a second run
    of the pass pipeline and of ExecuTorch's serialiser. ``preserve_io_quantization``
    keeps the IO quantize/dequantize outside the delegates on a spec with float support
    (ExecuTorch's compile-spec option; INT-only specs always do): uint8 IO on
    ``TOSA-1.0+INT+FP`` needs it (``bridge.uint8_io.check_float_boundary``).
    """
    from executorch.exir import to_edge_transform_and_lower

    compile_spec = TosaCompileSpec(spec)
    _check_lowering_options(compile_spec, uint8_io, quantization)
    if preserve_io_quantization:
        with quiet():  # ExecuTorch warns that INT-only specs need no such option
            compile_spec._set_preserve_io_quantization(True)
    if isinstance(model_or_exported_program, ExportedProgram):
        exported = model_or_exported_program
    else:
        exported = quantize_and_export(
            model_or_exported_program,
            example_inputs,
            spec,
            uint8_io,
            quantization=quantization,
        )

    partitioner = CapturePartitioner(compile_spec)
    with _collecting(with_reference) as collector:
        edge = to_edge_transform_and_lower(
            exported,
            partitioner=[partitioner],
            compile_config=edge_compile_config(),
        )
    outside = cpu_ops(edge.exported_program().graph_module, partitioner.reject_reasons)
    if not collector.partitions:
        reasons = "".join(f"\n  {op.format()}" for op in outside)
        raise RuntimeError(f"ExecuTorch delegated nothing to TOSA for {spec}{reasons}")
    partitions = Partitions(collector.partitions)
    partitions.cpu_ops = outside
    return partitions


def lower(
    model: torch.nn.Module | ExportedProgram,
    example_inputs: tuple | None,
    spec: str = INT_SPEC,
    uint8_io: bool = True,
    **kwargs,
):
    """Our IR (one xDSL ModuleOp per delegated partition) of ``model`` under ``spec``.

    Keyword arguments are those of ``tosa_level_partitions``. Compute ops left on the
    CPU are reported in one ``bridge.cpu_report.CpuFallbackWarning``, each with the
    partitioner's reason.
    """
    from bridge.fx_import import fx_to_ir

    partitions = tosa_level_partitions(model, example_inputs, spec, uint8_io, **kwargs)
    warn_cpu_ops(partitions.cpu_ops)
    return [fx_to_ir(p.graph_module, p.exported_program, tosa_spec=spec) for p in partitions]
