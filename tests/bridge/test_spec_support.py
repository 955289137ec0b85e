"""Spec-aware partitioning: what ExecuTorch delegates against the spec's profile tables
stays on the CPU with our Partitioner, and what remains verifies.

ExecuTorch 1.5.1 lowers an int32 ``bitwise_right_shift`` under ``TOSA-1.0+FP`` to an
``ARITHMETIC_RIGHT_SHIFT`` that TOSA 1.0 lists under PRO-INT only; the verifier refuses
that graph. Our Partitioner leaves the shift out of the delegate (the reason is the
verifier's own message) and delegates the rest.
"""

from __future__ import annotations

import pytest
import torch

from ir.verify.spec_rules import operator_type_refusal


class ShiftThenAdd(torch.nn.Module):
    def forward(self, x, y):
        return torch.bitwise_right_shift(x, y) + x, x * 2


def _inputs():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(-100, 100, (1, 4, 8), dtype=torch.int32, generator=g)
    y = torch.randint(0, 5, (1, 4, 8), dtype=torch.int32, generator=g)
    return x, y


def _lower(partitioner):
    from bridge.capture import edge_compile_config, quiet

    with quiet():
        from executorch.exir import to_edge_transform_and_lower

        exported = torch.export.export(ShiftThenAdd(), _inputs())
        return to_edge_transform_and_lower(
            exported, partitioner=[partitioner], compile_config=edge_compile_config()
        )


def _cpu_targets(edge) -> list[str]:
    graph = edge.exported_program().graph_module.graph
    return [
        str(n.target)
        for n in graph.nodes
        if n.op == "call_function"
        and "executorch_call_delegate" not in str(n.target)
        and "getitem" not in str(n.target)
    ]


def test_profile_tables_answer_like_the_verifier():
    shift = {"input1": "i32_t", "input2": "i32_t", "output": "i32_t"}
    rule, message = operator_type_refusal("ARITHMETIC_RIGHT_SHIFT", shift, "TOSA-1.0+FP")
    assert rule == "profile" and "needs PRO-INT" in message
    assert operator_type_refusal("ARITHMETIC_RIGHT_SHIFT", shift, "TOSA-1.0+INT") is None
    assert operator_type_refusal("ADD", shift, "TOSA-1.0+FP") is None  # PRO-FP has int32 ADD
    rule, _ = operator_type_refusal(
        "CAST", {"input": "bool_t", "output": "i8_t"}, "TOSA-1.0+FP+bf16"
    )
    assert rule == "profile"


def test_executorch_delegates_the_shift_and_the_verifier_refuses_it():
    from bridge.capture import quiet
    from ir.verify import VerificationError

    with quiet():
        from executorch.backends.arm.tosa.compile_spec import TosaCompileSpec
        from executorch.backends.arm.tosa.partitioner import TOSAPartitioner

    import ir.verify
    from bridge.fx_import import fx_to_ir
    from bridge.partitioner import tosa_level_partitions

    edge = _lower(TOSAPartitioner(TosaCompileSpec("TOSA-1.0+FP")))
    assert not any("shift" in t for t in _cpu_targets(edge))  # ExecuTorch delegated it
    (partition,) = tosa_level_partitions(
        torch.export.export(ShiftThenAdd(), _inputs()), None, "TOSA-1.0+FP", False
    )
    module = fx_to_ir(partition.graph_module, partition.exported_program, spec="TOSA-1.0+FP")
    with pytest.raises(
        VerificationError, match=r"\[profile\].*ARITHMETIC_RIGHT_SHIFT needs PRO-INT"
    ):
        ir.verify.verify(module, "TOSA-1.0+FP")


def test_our_partitioner_leaves_the_shift_on_the_cpu(tmp_path):
    from bridge.capture import quiet
    from bridge.partitioner import Partitioner

    with quiet():
        from executorch.backends.arm.tosa.compile_spec import TosaCompileSpec

    edge = _lower(Partitioner(TosaCompileSpec("TOSA-1.0+FP"), dump_dir=tmp_path))
    cpu = _cpu_targets(edge)
    assert any("bitwise_right_shift" in t for t in cpu), cpu
    assert not any(t.endswith(("add.Tensor", "mul.Tensor")) for t in cpu), (
        cpu
    )  # the rest is delegated
    # the delegates were written and verified through the IR
    assert list(tmp_path.glob("*.tosa"))
    assert edge.to_executorch().buffer  # the program serializes with the shift as a CPU op
    assert (
        "ARITHMETIC_RIGHT_SHIFT"
        not in "".join(p.read_text() for p in tmp_path.rglob("*.mlir")).upper()
    )


class Doubled(torch.nn.Module):
    def forward(self, x):
        return torch.nn.functional.interpolate(x, scale_factor=2.0, mode="nearest") + 1


def test_our_partitioner_leaves_dynamic_shapes_on_the_cpu(tmp_path):
    """ExecuTorch delegates a graph with a dynamic batch and writes the dimension as -1;
    a TOSA 1.0 shape is static, so ours keeps such nodes on the CPU, saying why."""
    from bridge.capture import edge_compile_config, quiet
    from bridge.partitioner import Partitioner

    with quiet():
        from executorch.backends.arm.tosa.compile_spec import TosaCompileSpec
        from executorch.exir import to_edge_transform_and_lower

        batch = torch.export.Dim("batch", min=1, max=2)
        exported = torch.export.export(
            Doubled(), (torch.rand(2, 4, 8, 3),), dynamic_shapes={"x": {0: batch}}
        )
        partitioner = Partitioner(TosaCompileSpec("TOSA-1.0+FP"), dump_dir=tmp_path)
        edge = to_edge_transform_and_lower(
            exported, partitioner=[partitioner], compile_config=edge_compile_config()
        )
    cpu = _cpu_targets(edge)
    assert any("upsample_nearest2d" in t for t in cpu) and any(
        "aten.add.Tensor" in t for t in cpu
    ), cpu
    delegated = "".join(p.read_text() for p in tmp_path.rglob("*.mlir"))
    assert "tosa.resize" not in delegated and "?" not in delegated  # at most a constant
    reasons = partitioner.reject_reasons
    assert any("TOSA 1.0 shapes are static" in r and "is dynamic" in r for r in reasons.values()), (
        reasons
    )
