"""runtime.vela against ExecuTorch's own Ethos-U path and against the TOSA graph it compiles.

The graphs are ExecuTorch's flatbuffers (lowered once per session): the example CNN with
uint8 IO, and two small zoo cases that Vela must refuse, one in FP and one with an operator
the Ethos-U55 cannot run.
"""

from __future__ import annotations

import os
import tempfile

import pytest

from runtime.vela import VelaError, compile_vela, vela_args

U55 = "ethos-u55-128"
U85 = "ethos-u85-256"


def _single_partition(blobs: list[bytes]) -> bytes:
    assert len(blobs) == 1, f"expected one delegated partition, got {len(blobs)}"
    return blobs[0]


@pytest.fixture(scope="session")
def int_flatbuffer() -> bytes:
    from drivers.example import ExampleCNN, example_inputs, executorch_tosa_flatbuffers

    return _single_partition(executorch_tosa_flatbuffers(ExampleCNN(), example_inputs()))


@pytest.fixture(scope="session")
def example(int_flatbuffer):
    return compile_vela(int_flatbuffer)


def _main_block(flatbuffer: bytes) -> tuple[list[tuple[str, str]], set[str]]:
    """(op name, first output) per operator of the first block, and its tensor names,
    read with the TOSA schema classes of tosa-tools."""
    from tosa import Op, TosaGraph

    names = {value: name for name, value in vars(Op.Op).items() if not name.startswith("_")}
    block = TosaGraph.TosaGraph.GetRootAs(flatbuffer, 0).Regions(0).Blocks(0)
    ops = [
        (names[block.Operators(i).Op()], block.Operators(i).Outputs(0).decode())
        for i in range(block.OperatorsLength())
    ]
    tensors = {block.Tensors(i).Name().decode() for i in range(block.TensorsLength())}
    return ops, tensors


def _executorch_blob(flatbuffer: bytes, accelerator: str, **spec) -> bytes:
    """ExecuTorch's delegate payload: EthosUCompileSpec's flags through arm_vela.vela_compile."""
    from executorch.backends.arm.arm_vela import vela_compile
    from executorch.backends.arm.ethosu.compile_spec import EthosUCompileSpec

    flags = list(EthosUCompileSpec(accelerator, **spec).compiler_flags)
    result = vela_compile(flatbuffer, flags)
    assert result.external_blocks == ()
    return result.processed_bytes


# --------------------------------------------------------------------------- ExecuTorch


@pytest.mark.parametrize("accelerator", [U55, "ethos-u65-256", U85])
def test_default_args_are_executorchs(accelerator):
    from executorch.backends.arm.ethosu.compile_spec import EthosUCompileSpec

    assert vela_args(accelerator) == EthosUCompileSpec(accelerator).compiler_flags


def test_explicit_args_are_executorchs():
    from executorch.backends.arm.ethosu.compile_spec import EthosUCompileSpec

    ours = vela_args(
        U55,
        system_config="Ethos_U55_Deep_Embedded",
        memory_mode="Shared_Sram",
        extra_args=["--verbose-weights"],
    )
    theirs = EthosUCompileSpec(
        U55,
        system_config="Ethos_U55_Deep_Embedded",
        memory_mode="Shared_Sram",
        extra_flags=["--verbose-weights"],
    ).compiler_flags
    assert ours == theirs
    assert vela_args(U55, optimise="Size")[-1] == "--optimise=Size"


def test_delegate_blob_is_executorchs(example, int_flatbuffer):
    assert example.delegate_blob == _executorch_blob(int_flatbuffer, U55)


def test_delegate_blob_is_executorchs_on_u85(int_flatbuffer):
    result = compile_vela(int_flatbuffer, U85)
    assert result.delegate_blob == _executorch_blob(int_flatbuffer, U85)
    assert result.summary.system_config == "Ethos_U85_SYS_DRAM_Mid"


def test_delegate_blob_frames_the_command_stream(example):
    blob = example.delegate_blob
    assert blob.startswith(b"vela_bin_stream\x00")
    assert blob[-32:-16].startswith(b"vela_end_stream")
    assert len(blob) % 16 == 0
    assert len(example.command_stream) > 0
    assert example.command_stream in blob


# --------------------------------------------------------------------------- output


def test_compile_is_deterministic(example, int_flatbuffer):
    again = compile_vela(int_flatbuffer)
    assert again.command_stream == example.command_stream
    assert again.delegate_blob == example.delegate_blob
    assert again.summary == example.summary


def test_extra_args_reach_vela(example, int_flatbuffer):
    """A smaller SRAM arena than the graph's peak makes Vela schedule differently."""
    arena = example.summary.sram_bytes // 2
    small = compile_vela(int_flatbuffer, extra_args=[f"--arena-cache-size={arena}"])
    assert small.args[0] == f"--arena-cache-size={arena}"
    assert small.command_stream != example.command_stream
    assert small.summary.cycles != example.summary.cycles


# --------------------------------------------------------------------------- summary


def test_placement_covers_every_non_constant_operator(example, int_flatbuffer):
    ops, _ = _main_block(int_flatbuffer)
    non_constant = [(op, output) for op, output in ops if op not in ("CONST", "CONST_SHAPE")]
    summary = example.summary
    assert [(p.op, p.output) for p in summary.placement] == non_constant
    assert summary.npu_ops + summary.cpu_ops == len(non_constant)
    # Vela has no CPU fallback for TOSA: a graph it compiles runs wholly on the NPU.
    assert (summary.npu_ops, summary.cpu_ops) == (len(non_constant), 0)


def test_placement_names_real_tensors(example, int_flatbuffer):
    ops, tensors = _main_block(int_flatbuffer)
    assert all(p.output in tensors for p in example.summary.placement)
    assert all(ops[p.index][1] == p.output for p in example.summary.placement)


def test_per_op_cycles_add_up_to_the_total(example):
    summary = example.summary
    assert summary.cycles > 0
    assert sum(p.cycles or 0 for p in summary.placement) == summary.cycles
    heavy = [
        p for p in summary.placement if p.op in ("CONV2D", "DEPTHWISE_CONV2D", "ADD", "AVG_POOL2D")
    ]
    assert heavy and all(p.cycles and p.cycles > 0 for p in heavy)
    # Operators Vela folds away have no cycles of their own, and fewer operations than
    # TOSA operators get scheduled.
    assert next(p for p in summary.placement if p.op == "RESHAPE").cycles is None
    assert summary.scheduled_ops < len(summary.placement)


def test_summary_figures(example):
    summary = example.summary
    assert summary.accelerator == "Ethos_U55_128"
    assert (summary.system_config, summary.memory_mode) == (
        "Ethos_U55_High_End_Embedded",
        "Shared_Sram",
    )
    # Shared_Sram: feature maps in SRAM, weights read from off-chip flash.
    assert summary.sram_bytes > 0 and summary.off_chip_flash_bytes > 0
    assert summary.flash_bytes == summary.off_chip_flash_bytes + summary.on_chip_flash_bytes
    assert 0 < summary.npu_cycles <= summary.cycles
    assert summary.macs > 0
    assert summary.inference_time_s == pytest.approx(summary.cycles / summary.core_clock_hz)


def test_format_lists_each_operator(example):
    text = example.summary.format()
    lines = text.splitlines()
    assert len(lines) == 4 + len(example.summary.placement)
    assert "16 NPU / 0 CPU" in lines[0]
    assert any("CONV2D" in line and "tosa_conv2d_default" in line for line in lines)


# --------------------------------------------------------------------------- failures


def test_garbage_is_a_vela_error():
    with pytest.raises(VelaError, match="not a TOSA flatbuffer"):
        compile_vela(b"this is not a flatbuffer" * 8)


def test_truncated_flatbuffer_is_a_vela_error(int_flatbuffer):
    with pytest.raises(VelaError) as raised:
        compile_vela(int_flatbuffer[: len(int_flatbuffer) // 2])
    assert str(raised.value)


def test_fp_graph_is_refused():
    from tests.support.zoo import executorch_tosa_flatbuffers

    flatbuffer = _single_partition(executorch_tosa_flatbuffers("avg_pool", "fp"))
    with pytest.raises(VelaError, match="data type not supported"):
        compile_vela(flatbuffer)


def test_unsupported_operator_is_refused_not_left_to_the_cpu():
    """Bilinear RESIZE has no Ethos-U55 lowering; with TOSA input Vela refuses the graph
    rather than placing the operator on the CPU."""
    from tests.support.zoo import executorch_tosa_flatbuffers

    flatbuffer = _single_partition(executorch_tosa_flatbuffers("upsample_bilinear", "int"))
    with pytest.raises(VelaError, match=r"\(Resize\) could not run on NPU"):
        compile_vela(flatbuffer, U55)
    assert compile_vela(flatbuffer, U85).summary.cpu_ops == 0


def test_bad_arguments_are_vela_errors(int_flatbuffer):
    with pytest.raises(VelaError, match="unknown accelerator"):
        compile_vela(int_flatbuffer, "ethos-u99-1")
    with pytest.raises(VelaError, match=r"System_Config.Nope not found"):
        compile_vela(int_flatbuffer, system_config="Nope")
    with pytest.raises(VelaError, match="argument --cop-format: invalid choice"):
        compile_vela(int_flatbuffer, extra_args=["--cop-format=COP9"])
    with pytest.raises(VelaError, match="output"):
        compile_vela(int_flatbuffer, extra_args=["--output-format=tflite"])


# --------------------------------------------------------------------------- hygiene


def test_vela_output_is_captured_unless_verbose(int_flatbuffer, capfd):
    compile_vela(int_flatbuffer)
    quiet = capfd.readouterr()
    assert "Network summary" not in quiet.out + quiet.err
    compile_vela(int_flatbuffer, verbose=True)
    assert "Network summary" in capfd.readouterr().out


def test_error_carries_vela_output_and_leaves_terminal_alone(int_flatbuffer, capfd):
    with pytest.raises(VelaError) as raised:
        compile_vela(int_flatbuffer, extra_args=["--cop-format=COP9"])
    assert "usage: vela" in raised.value.log
    assert "usage: vela" not in str(raised.value)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
    print("still here")
    assert capfd.readouterr().out == "still here\n"


def test_temporary_folder_is_removed(int_flatbuffer, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    compile_vela(int_flatbuffer)
    with pytest.raises(VelaError):
        compile_vela(int_flatbuffer, system_config="Nope")
    assert os.listdir(tmp_path) == []


def test_passthrough_operations_count_as_cpu():
    """Vela never leaves a TOSA operator to the CPU today (see above), so the CPU side of
    the placement is checked on a debug database in Vela's layout: a "Passthrough" row
    is Vela's mark for an operation it hands to the host."""
    from runtime.vela import _placement
    from tosa_flatbuffer.decode import FbOperator

    ops = [
        FbOperator("CONST", {}, (), ("w",), ""),
        FbOperator("CONV2D", {}, ("x", "w"), ("a",), ""),
        FbOperator("CUSTOM", {}, ("a",), ("b",), ""),
    ]
    source = [
        {"id": "1", "operator": "Const", "ext_key": "0"},
        {"id": "2", "operator": "Conv2D", "ext_key": "1"},
        {"id": "3", "operator": "Custom", "ext_key": "2"},
    ]
    perf = [
        {"source_id": "2", "operator": "Conv2D", "op_cycles": "70"},
        {"source_id": "3", "operator": "Passthrough", "op_cycles": "5"},
    ]
    placement = _placement(ops, source, perf)
    assert [(p.index, p.target, p.cycles) for p in placement] == [(1, "NPU", 70), (2, "CPU", 5)]
    assert [p.output for p in placement] == ["a", "b"]
