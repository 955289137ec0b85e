"""ExecuTorch's Arm flow up to the TOSA-level FX graph, for our IR.

ExecuTorch's ``TOSABackend`` runs the Arm pass pipeline on each delegated partition and
writes the resulting TOSA-level FX graph straight to a flatbuffer. To give that graph an
IR, this module takes the same route but stops one step earlier: ``to_tosa_level`` runs
the same passes as ``TOSABackend._preprocess_module`` and returns the transformed graph
instead of serialising it. Around it: ExecuTorch's quantization (``quantize_and_export``),
our compile-spec keys, and ``TosaCaptureBackend``, the backend that records each
partition at the TOSA level (``bridge.partitioner.tosa_level_partitions`` delegates to
it). The backends that compile through the IR are ``bridge.partitioner``'s.

Partitioning, quantization and pass pipelines therefore stay ExecuTorch's own; only the
last step (FX to flatbuffer) is replaced. With a reference, ExecuTorch's own flatbuffer
of the very same partition is kept next to it, as the oracle for our output.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import final

import torch
from torch.export import ExportedProgram
from torch.fx import GraphModule

from bridge.fx_import import CONSTANT_DATA_META, ModuleConstants
from ir.defaults import DEFAULT_SPEC
from ir.verify.target import Target, as_target

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

# ExecuTorch's Arm backend pulls in torchao, which logs about CUDA kernels it cannot load
# and registers pytree types torch calls deprecated: noise on every import of this
# module, nothing a caller can act on.
with quiet():
    # after the backend, as TOSABackend imports it: the pass package imports the backend
    from executorch.backends.arm._passes import ArmPassManager
    from executorch.backends.arm.quantizer import (
        TOSAQuantizer,
        get_symmetric_a16w8_quantization_config,
        get_symmetric_quantization_config,
        get_uint8_io_quantization_config,
    )
    from executorch.backends.arm.tosa.backend import TOSABackend
    from executorch.backends.arm.tosa.compile_spec import TosaCompileSpec
    from executorch.backends.arm.tosa.mapping import (
        TOSA_CONTROL_FLOW_REGION_NAME_META,
        TOSA_TENSOR_NAME_META,
    )
    from executorch.exir import EdgeCompileConfig
    from executorch.exir.backend.backend_details import BackendDetails, PreprocessResult
    from executorch.exir.graph_module import get_cond_while_submodules


# --------------------------------------------------------------------------- quantization


def check_lowering_options(
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
    spec: str | Target = DEFAULT_SPEC,
    uint8_io: bool = True,
    *,
    quantization: str = "8a8w",
) -> ExportedProgram:
    """The ATen-level program ExecuTorch's Arm flow starts from, for ``spec`` (a
    ``Target`` or a spec string).

    An integer spec (``TOSA-1.0+INT``) is quantized first with ExecuTorch's
    TOSAQuantizer: ``quantization="8a8w"`` (default) or ``"16a8w"`` (16-bit
    activations; the spec needs ``+int16``), with uint8 model IO when ``uint8_io``. A
    float-only spec exports the float model as it is; ``uint8_io=True`` is then a
    ValueError, because uint8 IO only exists in a quantized graph.

    The model is put in eval mode (in place), as export for inference expects.
    """
    if not example_inputs:
        raise ValueError("example_inputs is empty: export needs at least one input")
    compile_spec = TosaCompileSpec(as_target(spec).text)
    check_lowering_options(compile_spec, uint8_io, quantization)

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


# --------------------------------------------------------------------------- the TOSA level


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


def _pin_constant_data(
    graph_module: GraphModule, edge_program: ExportedProgram, region: str | None
) -> None:
    """Record on each constant placeholder the tensor it stands for *now*.

    The passes of two branches may register different constants under one name (a cond's
    ``2.0`` and ``1.0`` both become ``aten_view_copy_default_fused_const``); ExecuTorch
    gets away with it because it serialises each branch right after transforming it.
    The importer reads the graph after all branches are done, so it takes the data
    pinned here (a reference, not a copy) before the next branch can overwrite it.
    """
    constants = ModuleConstants(edge_program)
    for node in graph_module.graph.nodes:
        if node.op != "placeholder" or (region is not None and node.meta.get("is_input")):
            continue
        data = constants.find(node)
        if data is not None:
            node.meta[CONSTANT_DATA_META] = data


def to_tosa_level(
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
            getattr(o, "name", "")
            for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])
        ]
        transformed = to_tosa_level(
            submodule, edge_program, compile_spec, _region_name(region, name)
        )
        if transformed is not submodule:
            _set_submodule(graph_module, name, transformed)
    return graph_module


def executorch_flatbuffer(edge_program: ExportedProgram, compile_specs: list) -> bytes:
    """ExecuTorch's own TOSA flatbuffer of this partition, from a private copy.

    The pass pipeline rewrites the program in place, so the reference must run on a deep
    copy taken before our own transformation (to_backend itself hands preprocess a deep
    copy, so the program is known to survive one), and with its own compile spec object.
    """
    reference_program = copy.deepcopy(edge_program)
    compile_spec = arm_compile_spec(compile_specs)
    return bytes(TOSABackend._preprocess(reference_program, compile_spec).processed_bytes)


#: on a cond/while node: {branch target: its output node names before the Arm passes}.
#: ExecuTorch's while_loop visitor names unused results after these (it reads the branch
#: it never replaced), so the importer needs them to give the same names.
ORIGINAL_OUTPUT_NAMES_META = "tosa_ir_original_output_names"


# --------------------------------------------------------------------------- compile-spec keys

#: compile-spec keys of our own options: a folder for each partition's stage dumps,
#: b"0" to skip ir.verify between the stages, the pipeline of stages, b"1" to keep a copy
#: of each stage's module in the compile result, and b"1" for a captured partition to
#: carry ExecuTorch's own flatbuffer
DUMP_DIR_KEY = "tosa_ir_dump_dir"
VERIFY_KEY = "tosa_ir_verify"
PIPELINE_KEY = "tosa_ir_pipeline"
KEEP_STAGES_KEY = "tosa_ir_keep_stages"
WITH_REFERENCE_KEY = "tosa_ir_with_reference"
OWN_KEYS = (DUMP_DIR_KEY, VERIFY_KEY, PIPELINE_KEY, KEEP_STAGES_KEY, WITH_REFERENCE_KEY)


def own_specs(compile_specs: list) -> list:
    """Our entries of a compile-spec list (to pass them on)."""
    return [s for s in compile_specs if s.key in OWN_KEYS]


def arm_compile_spec(compile_specs: list, spec_class=TosaCompileSpec):
    """ExecuTorch's compile spec from the list, without our own keys (theirs would keep
    them as unknown entries and write them back into the .pte)."""
    return spec_class._from_list([s for s in compile_specs if s.key not in OWN_KEYS])


def own_value(compile_specs: list, key: str) -> str | None:
    """The text of our option ``key`` in a compile-spec list, or None when it is absent."""
    for s in compile_specs:
        if s.key == key:
            return bytes(s.value).decode("utf-8")
    return None


#: where a backend's ``PreprocessResult._delegate_info_meta`` ends up: ExecuTorch keeps it
#: on the lowered module's ``meta`` (shared, not copied, when the program is copied) and
#: never serialises it, so it is how a backend hands Python objects back to its caller
DELEGATE_INFO_META = "_delegate_info_meta"


# --------------------------------------------------------------------------- the capture backend


@final
class TosaCaptureBackend(BackendDetails):
    """Records a partition at the TOSA level instead of compiling it.

    ``preprocess`` runs ExecuTorch's Arm passes (``to_tosa_level``) and hands the
    ``TosaLevelPartition`` back on the lowered module (``DELEGATE_INFO_META``), for tests
    and tools that want the FX graph (``bridge.partitioner.tosa_level_partitions``).
    It is no device's backend: its delegate bytes are ExecuTorch's own flatbuffer of the
    partition when ``WITH_REFERENCE_KEY`` asks for it (a second run of the passes, on a
    copy), else empty. ExecuTorch looks backends up by class ``__name__`` among
    BackendDetails' direct subclasses, so the name must stay unique.
    """

    @staticmethod
    def preprocess(edge_program: ExportedProgram, compile_specs: list) -> PreprocessResult:
        reference = None
        if own_value(compile_specs, WITH_REFERENCE_KEY) == "1":
            reference = executorch_flatbuffer(edge_program, compile_specs)
        compile_spec = arm_compile_spec(compile_specs)
        graph_module = to_tosa_level(edge_program.graph_module, edge_program, compile_spec)
        partition = TosaLevelPartition(graph_module, edge_program, compile_spec, reference)
        return PreprocessResult(processed_bytes=reference or b"", _delegate_info_meta=partition)


def edge_compile_config() -> EdgeCompileConfig:
    """The EdgeCompileConfig of ExecuTorch's own Arm flows, for the same graphs as theirs.

    ``aot_arm_compiler``, the Arm recipes and the Arm test harness all turn the edge IR
    validity check off: with it on, torch 2.13's verifier re-runs the lowered graph and
    rejects programs the Arm flow handles (a quantized ``torch.cond`` fails on its
    predicate's scalar ``tosa.CONST_SHAPE``).
    """
    return EdgeCompileConfig(_check_ir_validity=False)
