"""``legalize-unsigned-io`` across cond_if / while_loop, run: the lit texts of
``tests/filecheck/legalize-unsigned-io/boundary-{cond-if,nested-cond-if,while-loop}.mlir``
legalized, written as flatbuffers and run on the reference model with uint8 inputs
covering 0..255, against what the typed graphs mean (computed here in numpy)."""

from pathlib import Path

import numpy as np
import pytest

import ir
from ir.lowering.pipeline import run_pipeline
from runtime.reference import graph_io, run_reference
from tosa_flatbuffer import to_flatbuffer

LIT = Path(__file__).parents[1] / "filecheck" / "legalize-unsigned-io"
SPEC = "TOSA-1.0+INT+cf"
#: every uint8 value once, as 64 inputs of shape 1x4
ALL_UINT8 = np.arange(256, dtype=np.uint8).reshape(64, 1, 4)


def _legalized(name: str):
    module = ir.parse_module((LIT / name).read_text(), name=name)
    run_pipeline(module, "legalize-unsigned-io,canonicalize", spec=SPEC)
    return to_flatbuffer(module)


def _round_half_up_halve(x: np.ndarray) -> np.ndarray:
    """RESCALE by 2^30 >> 31, SINGLE_ROUND: (x + 1) >> 1."""
    return (x.astype(np.int32) + 1) >> 1


def _then_branch(x: np.ndarray) -> np.ndarray:
    """u - 128 clamped to [0, 127], + 128."""
    return (np.clip(x.astype(np.int32) - 128, 0, 127) + 128).astype(np.uint8)


CASES = {
    "boundary-cond-if.mlir": lambda p, x: _then_branch(x) if p else x[:, ::-1],
    "boundary-nested-cond-if.mlir": lambda p, x: x[:, ::-1] if p else x,
    "boundary-while-loop.mlir": lambda p, x: _round_half_up_halve(
        _round_half_up_halve(_round_half_up_halve(x))
    ).astype(np.uint8),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_legalized_control_flow_keeps_the_uint8_meaning(name):
    flatbuffer = _legalized(name)
    io = graph_io(flatbuffer)
    data_input = io.inputs[-1]
    assert data_input.unsigned and data_input.dtype == np.uint8
    assert io.outputs[0].unsigned and io.outputs[0].dtype == np.uint8
    has_predicate = len(io.inputs) == 2
    for predicate in (True, False) if has_predicate else (None,):
        for x in ALL_UINT8:
            inputs = [np.array(predicate), x] if has_predicate else [x]
            (got,) = run_reference(flatbuffer, inputs)
            want = CASES[name](predicate, x)
            np.testing.assert_array_equal(got, want, err_msg=f"{name}, pred={predicate}, x={x}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_legalized_control_flow_is_valid_tosa(name, tosa_opt):
    module = ir.parse_module((LIT / name).read_text(), name=name)
    run_pipeline(module, "legalize-unsigned-io,canonicalize", spec=SPEC)
    tosa_opt(
        ir.print_module(module),
        "--tosa-attach-target=profiles=pro_int extensions=controlflow",
        "--tosa-validate=strict-op-spec-alignment",
    )
