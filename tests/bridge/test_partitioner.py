"""``bridge.Partitioner``: ExecuTorch's flow with delegates written through the IR.

The TOSA delegate is our flatbuffer (``bridge.compile.compile_partition`` of the
partition) and runs like ExecuTorch's on the reference model; the Ethos-U delegate of
ExecuTorch's graph (``EXECUTORCH_PIPELINE``) is Vela's output for it, byte-identical to
ExecuTorch's own Ethos-U delegate;
the .pte carries them under ExecuTorch's runtime backend names; dumps are written per stage.
"""

from __future__ import annotations

import numpy as np
import pytest

from drivers.example import ExampleCNN, example_inputs


def _lower(partitioner_factory):
    from bridge.capture import edge_compile_config, quantize_and_export, quiet

    with quiet():
        from executorch.exir import to_edge_transform_and_lower

        exported = quantize_and_export(ExampleCNN(), example_inputs(), "TOSA-1.0+INT+u55", True)
        return to_edge_transform_and_lower(
            exported, partitioner=[partitioner_factory()], compile_config=edge_compile_config()
        )


@pytest.fixture(scope="module")
def ours_tosa(tmp_path_factory):
    from bridge.partitioner import Partitioner, TosaCompileSpec

    dump = tmp_path_factory.mktemp("dumps")
    edge = _lower(lambda: Partitioner(TosaCompileSpec("TOSA-1.0+INT+u55"), dump_dir=dump))
    return edge, dump


def _delegate_bytes(edge) -> list[bytes]:
    from runtime.pte import delegates

    return [bytes(d.processed_bytes) for d in delegates(edge)]


def test_tosa_delegate_is_our_flatbuffer_and_runs_like_executorchs(ours_tosa):
    from drivers.example import executorch_tosa_flatbuffers
    from runtime import graph_io, run_reference
    from tosa_flatbuffer import from_flatbuffer

    edge, dump = ours_tosa
    (ours,) = _delegate_bytes(edge)
    (theirs,) = executorch_tosa_flatbuffers(ExampleCNN(), example_inputs(), "TOSA-1.0+INT+u55")
    assert ours != theirs  # different writers: locations, tensor order
    assert (dump / "tag0.tosa").read_bytes() == ours
    assert "ui8" in (dump / "tag0" / "00-input.mlir").read_text()
    assert "ui8" not in (dump / "tag0" / "01-legalize-unsigned-io.mlir").read_text()
    from_flatbuffer(ours)  # reads back
    rng = np.random.default_rng(0)
    (spec,) = graph_io(ours).inputs
    x = rng.integers(0, 256, size=spec.shape, dtype=np.uint8)
    np.testing.assert_array_equal(run_reference(ours, [x])[0], run_reference(theirs, [x])[0])


def test_pte_names_the_runtime_backend(ours_tosa, tmp_path):
    from runtime.pte import delegates, write_pte

    edge, _ = ours_tosa
    path = write_pte(edge, tmp_path / "model.pte")
    data = path.read_bytes()
    assert [d.backend_id for d in delegates(edge)] == ["TOSABackend"]
    assert b"TOSABackend" in data and b"TosaIRBackend" not in data
    (ours,) = _delegate_bytes(edge)
    assert ours in data  # the delegate payload is our flatbuffer, inline


def test_ethos_u_delegate_equals_executorchs():
    from bridge.capture import quiet
    from bridge.partitioner import EthosUCompileSpec, Partitioner
    from ir.defaults import EXECUTORCH_PIPELINE

    with quiet():
        from executorch.backends.arm.ethosu import EthosUPartitioner

    ours = _delegate_bytes(
        _lower(
            lambda: Partitioner(EthosUCompileSpec("ethos-u55-128"), pipeline=EXECUTORCH_PIPELINE)
        )
    )
    theirs = _delegate_bytes(_lower(lambda: EthosUPartitioner(EthosUCompileSpec("ethos-u55-128"))))
    assert len(ours) == len(theirs) == 1
    assert ours == theirs  # Vela's blob for our flatbuffer is ExecuTorch's, byte for byte
