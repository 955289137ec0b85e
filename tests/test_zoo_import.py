"""The zoo through fx_to_ir: every case and config, every partition.

For each partition ExecuTorch delegates, the imported module verifies, its text is
accepted by ``tosa-opt``, and after ``legalize-unsigned-io`` its graph equals what
``tosa-opt --tosa-deserialize`` shows for ExecuTorch's own flatbuffer of the same
partition (op sequence, attributes, types, operands, constant bytes).
"""

import pytest

import ir
from bridge.fx_import import fx_to_ir
from ir.lowering.signless import is_unsigned, to_signless
from ir.mlir_tools import deserialize_with_tosa_opt
from tests.ir_compare import assert_same_graph, op_histogram
from tests.zoo import CONFIGS, case_config_ids, case_configs


@pytest.mark.parametrize("case, key", case_configs(), ids=case_config_ids())
def test_zoo_case_imports_like_executorch(case, key, tmp_path, tosa_opt):
    from bridge.capture import quiet, tosa_level_partitions

    config = CONFIGS[key]
    with quiet():
        partitions = tosa_level_partitions(
            case.factory(),
            case.inputs_factory(),
            config.spec,
            config.uint8_io,
            quantization=config.quantization,
            with_reference=True,
        )
    assert partitions
    for index, partition in enumerate(partitions):
        context = f"{case.name} [{key}] partition {index}"
        typed = fx_to_ir(partition.graph_module, partition.exported_program, tosa_spec=config.spec)
        func = next(op for op in typed.walk() if op.name == "func.func")
        io_types = [*func.function_type.inputs, *func.function_type.outputs]
        assert any(is_unsigned(t) for t in io_types) == config.uint8_io, context

        signless = to_signless(typed.clone())
        tosa_opt(ir.print_module(signless))  # MLIR parses and verifies our text

        fb_path = tmp_path / f"p{index}.tosa"
        fb_path.write_bytes(partition.reference_flatbuffer)
        theirs = ir.parse_module(deserialize_with_tosa_opt(fb_path, tmp_path / f"p{index}.mlir"))
        assert_same_graph(signless, theirs, context=context)
        assert sum(op_histogram(signless).values()) > 1, context
