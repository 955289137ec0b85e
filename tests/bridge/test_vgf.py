"""The VGF delegate: ``bridge.Partitioner(VgfCompileSpec(...))`` against ExecuTorch's own
``VgfPartitioner``.

Per zoo case and VGF config (``tests.support.vgf_runs``: INT with int8 IO; VGF's default
spec, INT+FP, with uint8 IO and ``preserve_io_quantization``; FP), both flows lower the
same exported program: our ``.vgf`` equals ExecuTorch's byte for byte, the ``.pte``
would carry it under ExecuTorch's runtime id ``VgfBackend``, and the TOSA flatbuffer the
converter read runs bit-identically to ExecuTorch's on the reference model. Then the
partitioner's own behaviour on one model: dumps (``.tosa`` and ``.vgf``), the ``.pte``,
``preserve_io_quantization`` on VGF specs, and a failing converter.

Needs the model converter (the pinned ``ai-ml-sdk-model-converter``); skipped without it.
"""

from __future__ import annotations

import stat

import numpy as np
import pytest

from runtime.model_converter import ModelConverterError
from tests.support.vgf_runs import VGF_DEFAULT_SPEC, VgfRun, vgf_case_configs, vgf_run

pytestmark = pytest.mark.slow

RANDOM_INPUTS = 2


@pytest.fixture(
    scope="module", params=vgf_case_configs(), ids=[f"{c}-{k}" for c, k in vgf_case_configs()]
)
def run(request) -> VgfRun:
    case, key = request.param
    return vgf_run(case, key)


def test_vgf_equals_executorchs_byte_for_byte(run):
    assert run.delegates
    for index, d in enumerate(run.delegates):
        assert d.ours_vgf[:4] == b"VGF1"
        assert d.ours_vgf == d.theirs_vgf, f"{run.name} [{run.key}] delegate {index}"
        assert d.ours_runtime_id == d.theirs_runtime_id == "VgfBackend"


def _random_inputs(flatbuffer: bytes, seed: int) -> list[np.ndarray]:
    from runtime import graph_io

    rng = np.random.default_rng(seed)
    inputs = []
    for tensor in graph_io(flatbuffer).inputs:
        if np.issubdtype(tensor.dtype, np.integer):
            info = np.iinfo(tensor.dtype)
            inputs.append(
                rng.integers(info.min, info.max, size=tensor.shape, endpoint=True).astype(
                    tensor.dtype
                )
            )
        else:
            inputs.append(rng.standard_normal(tensor.shape).astype(tensor.dtype))
    return inputs


def test_tosa_under_it_runs_bit_identically_to_executorchs(run):
    from runtime import graph_io, run_reference

    for index, d in enumerate(run.delegates):
        context = f"{run.name} [{run.key}] delegate {index}"
        assert graph_io(d.ours_tosa) == graph_io(d.theirs_tosa), context
        for seed in range(RANDOM_INPUTS):
            inputs = _random_inputs(d.ours_tosa, seed)
            ours, theirs = run_reference(d.ours_tosa, inputs), run_reference(d.theirs_tosa, inputs)
            assert len(ours) == len(theirs), context
            for a, b in zip(ours, theirs):
                np.testing.assert_array_equal(a, b, err_msg=f"{context} input {seed}")


# ----------------------------------------------------------------------------- one model


def _lower(spec: str, uint8_io: bool, partitioner):
    from bridge.capture import edge_compile_config, quantize_and_export, quiet
    from drivers.example import ExampleCNN, example_inputs

    with quiet():
        from executorch.exir import to_edge_transform_and_lower

        exported = quantize_and_export(ExampleCNN(), example_inputs(), spec, uint8_io)
        return to_edge_transform_and_lower(
            exported, partitioner=[partitioner], compile_config=edge_compile_config()
        )


def _vgf_spec(spec: str = VGF_DEFAULT_SPEC, preserve: bool = False, flags=None):
    from bridge.partitioner import VgfCompileSpec

    compile_spec = VgfCompileSpec(spec, compiler_flags=flags)
    if preserve:
        compile_spec._set_preserve_io_quantization(True)
    return compile_spec


@pytest.fixture(scope="module")
def dumped(tmp_path_factory):
    """The example CNN, uint8 IO on VGF's default spec, with stage dumps."""
    from bridge.partitioner import Partitioner

    dump = tmp_path_factory.mktemp("vgf-dumps")
    edge = _lower(VGF_DEFAULT_SPEC, True, Partitioner(_vgf_spec(preserve=True), dump_dir=dump))
    return edge, dump


def test_dumps_hold_the_tosa_and_the_vgf_of_the_delegate(dumped):
    from bridge.partitioner import compile_results
    from runtime.pte import delegates

    edge, dump = dumped
    (delegate,) = delegates(edge)
    (result,) = compile_results(edge)
    assert (dump / "tag0.tosa").read_bytes() == result.flatbuffer
    assert (dump / "tag0.vgf").read_bytes() == bytes(delegate.processed_bytes)
    assert "ui8" in (dump / "tag0" / "00-input.mlir").read_text()


def test_pte_carries_the_vgf_under_executorchs_runtime_id(dumped, tmp_path):
    from runtime.pte import delegates, write_pte

    edge, _ = dumped
    data = write_pte(edge, tmp_path / "model.pte").read_bytes()
    (delegate,) = delegates(edge)
    assert delegate.backend_id == "VgfBackend"
    assert b"VgfBackend" in data and b"VgfIRBackend" not in data
    assert bytes(delegate.processed_bytes) in data


@pytest.mark.parametrize("uint8_io", [True, False], ids=["uint8-io", "int8-io"])
def test_preserve_io_quantization_on_the_vgf_default_spec(uint8_io):
    """INT+FP: with the IO quantization kept outside, the delegate's IO is the integers
    (uint8 or int8), and the graph is the INT-only spec's."""
    from bridge.partitioner import Partitioner, compile_results
    from runtime import graph_io

    edge = _lower(VGF_DEFAULT_SPEC, uint8_io, Partitioner(_vgf_spec(preserve=True)))
    (result,) = compile_results(edge)
    io = graph_io(result.flatbuffer)
    assert {str(t.dtype) for t in (*io.inputs, *io.outputs)} == {"uint8" if uint8_io else "int8"}
    int_only = _lower("TOSA-1.0+INT", uint8_io, Partitioner(_vgf_spec("TOSA-1.0+INT")))
    assert [r.flatbuffer for r in compile_results(int_only)] == [result.flatbuffer]


def test_uint8_io_on_the_vgf_default_spec_without_preserve_is_refused():
    from bridge.partitioner import Partitioner
    from bridge.uint8_io import UnsafeUint8IOError

    with pytest.raises(UnsafeUint8IOError, match="VgfCompileSpec"):
        _lower(VGF_DEFAULT_SPEC, True, Partitioner(_vgf_spec()))


def test_lower_takes_the_vgf_spec_and_preserve_io_quantization():
    import bridge
    from drivers.example import ExampleCNN, example_inputs

    (module,) = bridge.lower(
        ExampleCNN(), example_inputs(), VGF_DEFAULT_SPEC, True, preserve_io_quantization=True
    )
    assert "ui8" in str(module.body.block.first_op.function_type)


def test_failing_converter_keeps_the_dumped_tosa(tmp_path, monkeypatch):
    from bridge.partitioner import Partitioner

    converter = tmp_path / "bin" / "model-converter"
    converter.parent.mkdir()
    converter.write_text(
        "#!/bin/sh\n"
        '[ "$1" = "--version" ] && { echo "model-converter 0.11.0"; exit 0; }\n'
        'echo "error: cannot lower" >&2; exit 2\n'
    )
    converter.chmod(converter.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("MODEL_CONVERTER_PATH", str(converter))
    dump = tmp_path / "dumps"
    with pytest.raises(ModelConverterError) as failed:
        _lower("TOSA-1.0+INT", False, Partitioner(_vgf_spec("TOSA-1.0+INT"), dump_dir=dump))
    message = str(failed.value)
    assert "\n" not in message
    assert f"input kept at {dump / 'tag0.tosa'};" in message
    assert (dump / "tag0.tosa").is_file() and not (dump / "tag0.vgf").exists()
    assert message.split("repro: ")[1].startswith(f"{converter} -i {dump / 'tag0.tosa'}")
