"""A real ExecuTorch Arm flatbuffer, shown as MLIR by tosa-opt, reads into our dialect and
prints back byte-identical; its structure verifies. The model is exported once per spec."""

import pytest

import ir
from ir.dialects import tosa_ext as tosa
from ir.mlir_tools import deserialize_with_tosa_opt

pytestmark = pytest.mark.slow

SPECS = {
    "int-uint8-io": ("TOSA-1.0+INT", True),
    "int": ("TOSA-1.0+INT", False),
    "fp": ("TOSA-1.0+FP", False),
}


@pytest.fixture(scope="session")
def example_mlir(tmp_path_factory):
    from drivers.example import ExampleCNN, example_inputs, executorch_tosa_flatbuffers

    texts = {}
    for key, (spec, uint8_io) in SPECS.items():
        (flatbuffer,) = executorch_tosa_flatbuffers(ExampleCNN(), example_inputs(), spec, uint8_io)
        folder = tmp_path_factory.mktemp(key)
        (folder / "partition0.tosa").write_bytes(flatbuffer)
        texts[key] = deserialize_with_tosa_opt(folder / "partition0.tosa", folder / "p0.mlir")
    return texts


@pytest.mark.parametrize("key", sorted(SPECS))
def test_executorch_graph_round_trips_through_our_text(key, example_mlir):
    text = example_mlir[key]
    module = ir.parse_module(text, name=f"{key}.mlir")
    assert ir.print_module(module).strip() == text.strip()
    ops = [op for op in module.walk() if isinstance(op, tosa.TosaOp | tosa.ConstOp)]
    assert len(ops) > 20


def test_uint8_io_lives_only_in_the_boundary_rescale_flags(example_mlir):
    module = ir.parse_module(example_mlir["int-uint8-io"])
    rescales = [op for op in module.walk() if isinstance(op, tosa.RescaleOp)]
    flagged_in = [r for r in rescales if r.input_unsigned.value.data]
    flagged_out = [r for r in rescales if r.output_unsigned.value.data]
    assert len(flagged_in) == 1 and len(flagged_out) == 1
    func = next(op for op in module.walk() if op.name == "func.func")
    assert flagged_in[0].input in func.body.blocks.first.args
    plain = ir.parse_module(example_mlir["int"])
    assert not any(
        r.input_unsigned.value.data or r.output_unsigned.value.data
        for r in plain.walk()
        if isinstance(r, tosa.RescaleOp)
    )
