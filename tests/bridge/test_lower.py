"""bridge.capture captures ExecuTorch's TOSA-level partitions, and its reference flatbuffers
are byte for byte the ones ExecuTorch's own TOSAPartitioner flow writes for the same model.

Each model is lowered once per session; the oracle is ExecuTorch's flow as drivers.example
ran it before bridge.capture existed (TOSAPartitioner, LoweredBackendModules in graph order).
"""

import operator
import subprocess
import sys

import pytest
import torch

from drivers.example import ExampleCNN, example_inputs
from ir.defaults import FP_SPEC, INT_SPEC

CF_INT_SPEC = "TOSA-1.0+INT+cf"  # control flow needs the cf extension
ALLOWED_NON_TOSA = ("dim_order_ops._to_dim_order_copy.default",)


class CondModel(torch.nn.Module):
    """A quantized torch.cond with a conv-free body: a two-branch TOSA COND_IF."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        def true_branch(arg: torch.Tensor) -> torch.Tensor:
            return torch.sin(arg)

        def false_branch(arg: torch.Tensor) -> torch.Tensor:
            return torch.cos(arg)

        return torch.cond(x.sum() > 0, true_branch, false_branch, [x])


class SplitModel(torch.nn.Module):
    """Three convs split by ``aten.relu6``, which the Arm quantizer leaves float: three
    partitions, so delegation order has to match graph order."""

    def __init__(self) -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            self.a = torch.nn.Conv2d(3, 4, 3)
            self.b = torch.nn.Conv2d(4, 4, 3)
            self.c = torch.nn.Conv2d(4, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.nn.functional.relu6(self.a(x))
        x = torch.nn.functional.relu6(self.b(x))
        return self.c(x)


def _cond_inputs() -> tuple[torch.Tensor]:
    return (torch.rand(2, 3, generator=torch.Generator().manual_seed(0)) - 0.5,)


def _original_quantize(model, inputs, spec):
    """drivers.example's quantization before bridge.capture: plain prepare_pt2e/convert_pt2e."""
    from executorch.backends.arm.quantizer import (
        TOSAQuantizer,
        get_symmetric_quantization_config,
        get_uint8_io_quantization_config,
    )
    from executorch.backends.arm.tosa.compile_spec import TosaCompileSpec
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = TOSAQuantizer(TosaCompileSpec(spec))
    quantizer.set_global(get_symmetric_quantization_config())
    quantizer.set_io(get_uint8_io_quantization_config())
    prepared = prepare_pt2e(
        torch.export.export(model.eval(), inputs).module(check_guards=False), quantizer
    )
    prepared(*inputs)
    return torch.export.export(convert_pt2e(prepared), inputs)


def executorch_flatbuffers(exported, spec, compile_config=None) -> list[bytes]:
    """ExecuTorch's own flow: TOSAPartitioner, then each LoweredBackendModule in graph order."""
    from executorch.backends.arm.tosa.compile_spec import TosaCompileSpec
    from executorch.backends.arm.tosa.partitioner import TOSAPartitioner
    from executorch.exir import to_edge_transform_and_lower
    from executorch.exir.lowered_backend_module import LoweredBackendModule

    from bridge.capture import quiet

    with quiet():
        edge = to_edge_transform_and_lower(
            exported,
            partitioner=[TOSAPartitioner(TosaCompileSpec(spec))],
            compile_config=compile_config,
        )
    graph_module = edge.exported_program().graph_module
    attributes = [
        getattr(graph_module, node.target)
        for node in graph_module.graph.nodes
        if node.op == "get_attr"
    ]
    return [bytes(m.processed_bytes) for m in attributes if isinstance(m, LoweredBackendModule)]


def _partitions(*args, **kwargs):
    from bridge.capture import quiet
    from bridge.partitioner import tosa_level_partitions

    with quiet():
        return tosa_level_partitions(*args, **kwargs)


@pytest.fixture(scope="session")
def cnn_partitions():
    return _partitions(ExampleCNN(), example_inputs(), INT_SPEC, True)


@pytest.fixture(scope="session")
def cnn_partitions_with_reference():
    return _partitions(ExampleCNN(), example_inputs(), INT_SPEC, True, with_reference=True)


@pytest.fixture(scope="session")
def cnn_executorch_flatbuffers():
    from bridge.capture import quiet

    with quiet():
        exported = _original_quantize(ExampleCNN(), example_inputs(), INT_SPEC)
    return executorch_flatbuffers(exported, INT_SPEC)


@pytest.fixture(scope="session")
def cond_partitions():
    return _partitions(CondModel(), _cond_inputs(), CF_INT_SPEC, False, with_reference=True)


def _call_function_names(graph_module) -> set[str]:
    return {
        getattr(node.target, "__name__", str(node.target))
        for node in graph_module.graph.nodes
        if node.op == "call_function" and node.target is not operator.getitem
    }


def test_example_cnn_is_one_tosa_level_partition(cnn_partitions):
    (partition,) = cnn_partitions
    names = _call_function_names(partition.graph_module)
    assert {"tosa.CONV2D.default", "tosa.DEPTHWISE_CONV2D.default", "tosa.RESCALE.default"} <= names
    assert all(name.startswith("tosa.") or name in ALLOWED_NON_TOSA for name in names), names
    # The graph is the program's own, so the signature resolves its placeholders.
    assert partition.graph_module is partition.exported_program.graph_module
    assert partition.reference_flatbuffer is None
    assert partition.compile_spec.tosa_spec.support_integer()


def test_reference_is_a_tosa_flatbuffer(cnn_partitions_with_reference):
    (partition,) = cnn_partitions_with_reference
    blob = partition.reference_flatbuffer
    assert isinstance(blob, bytes) and len(blob) > 1000
    assert blob[4:8] == b"TOSA"


def test_reference_equals_executorch_own_flow(
    cnn_partitions_with_reference, cnn_executorch_flatbuffers
):
    references = [p.reference_flatbuffer for p in cnn_partitions_with_reference]
    assert len(cnn_executorch_flatbuffers) == 1
    assert references == cnn_executorch_flatbuffers


def test_reference_does_not_change_the_captured_graph(
    cnn_partitions, cnn_partitions_with_reference
):
    """The reference runs on a deep copy, so our graph is the same with or without it."""
    (plain,), (with_reference,) = cnn_partitions, cnn_partitions_with_reference
    assert str(plain.graph_module.graph) == str(with_reference.graph_module.graph)


def test_example_flatbuffers_come_from_the_reference(cnn_executorch_flatbuffers):
    from drivers.example import executorch_tosa_flatbuffers

    assert executorch_tosa_flatbuffers(ExampleCNN(), example_inputs()) == cnn_executorch_flatbuffers


def test_partitions_come_in_graph_order():
    from bridge.capture import edge_compile_config, quantize_and_export, quiet

    partitions = _partitions(SplitModel(), example_inputs(), INT_SPEC, True, with_reference=True)
    with quiet():
        exported = quantize_and_export(SplitModel(), example_inputs(), INT_SPEC, True)
    expected = executorch_flatbuffers(exported, INT_SPEC, edge_compile_config())
    assert len(partitions) == 3
    assert [p.reference_flatbuffer for p in partitions] == expected


def test_cond_branches_are_transformed_and_reachable(cond_partitions):
    from executorch.exir.graph_module import get_cond_while_submodules

    (partition,) = cond_partitions
    graph_module = partition.graph_module
    branches = get_cond_while_submodules(graph_module)
    assert [name for name, _, _ in branches] == ["submodule_0", "submodule_1"]
    for name, branch, node in branches:
        assert getattr(graph_module, name) is branch
        names = _call_function_names(branch)
        assert "tosa.TABLE.default" in names, names  # quantized sin / cos
        assert all(n.startswith("tosa.") for n in names), names
        get_attr = next(a for a in node.args if getattr(a, "target", None) == name)
        assert get_attr.meta["tosa_control_flow_region_name"] == name


def test_cond_reference_equals_executorch_own_flow(cond_partitions):
    from bridge.capture import edge_compile_config, quantize_and_export, quiet

    with quiet():
        exported = quantize_and_export(CondModel(), _cond_inputs(), CF_INT_SPEC, False)
    expected = executorch_flatbuffers(exported, CF_INT_SPEC, edge_compile_config())
    assert [p.reference_flatbuffer for p in cond_partitions] == expected


def test_uint8_io_with_float_spec_is_refused():
    from bridge.capture import quantize_and_export
    from bridge.partitioner import tosa_level_partitions

    with pytest.raises(ValueError, match="uint8_io"):
        quantize_and_export(ExampleCNN(), example_inputs(), FP_SPEC, uint8_io=True)
    with pytest.raises(ValueError, match="uint8_io"):
        tosa_level_partitions(ExampleCNN(), example_inputs(), FP_SPEC)


@pytest.mark.parametrize(
    ("spec", "quantization", "message"),
    [
        (INT_SPEC, "16a8w", "int16"),
        (INT_SPEC, "int4", "quantization"),
        (FP_SPEC, "16a8w", "integer"),
    ],
)
def test_bad_quantization_is_refused(spec, quantization, message):
    from bridge.capture import quantize_and_export

    with pytest.raises(ValueError, match=message):
        quantize_and_export(
            ExampleCNN(), example_inputs(), spec, uint8_io=False, quantization=quantization
        )


def test_the_codec_and_the_text_tools_are_light():
    """What ``import bridge`` once promised for its flatbuffer half, now that the half is
    ``tosa_flatbuffer``: it, the IR and the text tools (tosa-ir-opt, tosa-ir-verify)
    start without torch; ``bridge`` itself is the torch border and imports it."""
    code = (
        "import sys, ir, tosa_flatbuffer, drivers.cli, drivers.verify, drivers.explorer.graph; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
