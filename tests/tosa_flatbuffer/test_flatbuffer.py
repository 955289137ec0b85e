"""IR <-> TOSA flatbuffer, checked against MLIR's own (de)serializer.

Every one of the 75 operators (tests/support/op_cases.py) is written by ``to_flatbuffer``, read
back by ``from_flatbuffer`` and by ``tosa-opt --tosa-deserialize``; files written by
``tosa-opt --tosa-serialize`` are read by ``from_flatbuffer``. Bad modules and bad bytes
give ``FlatbufferError`` naming what and where.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects.builtin import IntegerType, Signedness, TensorType

import ir
from ir.dialects.tosa_ext import TOSA_1_1_OPS
from ir.mlir_tools import deserialize_with_tosa_opt, run_tosa_opt
from ir.tensor_names import tensor_names
from tests.support.ir_compare import assert_same_graph
from tests.support.op_cases import CASES, HAND_BUILT, build_case_module
from tosa_flatbuffer import (
    FlatbufferError,
    check_flatbuffer,
    decode,
    from_flatbuffer,
    to_checked_flatbuffer,
    to_flatbuffer,
)
from tosa_flatbuffer.writer import emit

ALL_OPS = [*CASES, *HAND_BUILT]
# MLIR's deserializer only reads zero points that are CONST tensors; in these cases they
# are function arguments, so tosa-opt cannot read the file back (its own file neither).
ZERO_POINT_ARGUMENT_OPS = {
    "AVG_POOL2D",
    "CONV2D",
    "CONV3D",
    "DEPTHWISE_CONV2D",
    "MATMUL",
    "TRANSPOSE_CONV2D",
    "NEGATE",
    "RESCALE",
}


def _tosa_opt_reads(data: bytes, tmp_path: Path):
    path = tmp_path / "file.tosa"
    path.write_bytes(data)
    return ir.parse_module(deserialize_with_tosa_opt(path, tmp_path / "file.mlir"))


def _tosa_opt_writes(module, tmp_path: Path) -> bytes:
    path = tmp_path / "mlir.tosa"
    run_tosa_opt(
        ir.print_module(module),
        "--tosa-serialize=retain-graph-input-output-names",
        f"--tosa-flatbuffer-filename={path}",
    )
    return path.read_bytes()


@pytest.mark.parametrize("op", ALL_OPS)
def test_op_writes_reads_and_rewrites_identically(op, tmp_path):
    module = build_case_module(op)
    data = to_flatbuffer(module)
    assert data[4:8] == b"TOSA"
    one_one = op in {o.spec_name() for o in TOSA_1_1_OPS}
    assert decode(data).version == ((1, 1, 0, True) if one_one else (1, 0, 0, False))
    assert to_flatbuffer(build_case_module(op)) == data, "same module, different bytes"

    back = from_flatbuffer(data)
    assert_same_graph(back, module, context=f"{op}: ours read back")
    assert to_flatbuffer(back) == data, "fb -> IR -> fb changed the bytes"

    if op not in ZERO_POINT_ARGUMENT_OPS:
        assert_same_graph(
            back, _tosa_opt_reads(data, tmp_path), context=f"{op}: tosa-opt reading ours"
        )


def _plain(value):
    """An attribute value as the writer plans it (bytes, arrays) or decode reads it."""
    if isinstance(value, bytes):
        return list(value)
    return value if isinstance(value, str) else np.asarray(value).tolist()


def _records(graph) -> tuple:
    """A graph's records as plain values (attribute arrays as lists, data as bytes)."""
    blocks = {}
    for region, region_blocks in graph.regions.items():
        for block in region_blocks:
            tensors = {
                name: (
                    t.shape,
                    t.dtype,
                    None if t.data is None else bytes(t.data),
                    t.variable,
                    t.variable_name,
                )
                for name, t in block.tensors.items()
            }
            operators = [
                (
                    o.op,
                    {k: _plain(v) for k, v in o.attributes.items()},
                    o.inputs,
                    o.outputs,
                    o.location,
                )
                for o in block.operators
            ]
            blocks[region, block.name] = (block.inputs, block.outputs, tensors, operators)
    return graph.version, list(graph.regions), blocks


@pytest.mark.parametrize("op", ALL_OPS)
def test_writer_records_are_what_decode_reads(op):
    """``to_checked_flatbuffer`` hands the runtime the records it wrote instead of a
    second decode: they must be the records ``decode`` reads from its bytes."""
    checked = to_checked_flatbuffer(build_case_module(op))
    assert checked.data == to_flatbuffer(build_case_module(op))
    assert _records(checked.graph) == _records(decode(checked.data))
    assert check_flatbuffer(checked) is checked


def test_check_flatbuffer_keeps_bytes_and_records():
    data = to_flatbuffer(build_case_module(ALL_OPS[0]))
    checked = check_flatbuffer(bytearray(data))
    assert checked.data == data and isinstance(checked.data, bytes)
    assert len(checked) == len(data) and bytes(checked) == data
    assert _records(checked.graph) == _records(decode(data))


@pytest.mark.parametrize("op", ALL_OPS)
def test_op_reads_what_tosa_opt_writes(op, tmp_path):
    module = build_case_module(op)
    theirs = _tosa_opt_writes(module, tmp_path)
    assert decode(theirs).version[:2] == (1, 1)  # MLIR writes a 1.1 draft
    ours = from_flatbuffer(theirs)
    expected = module if op in ZERO_POINT_ARGUMENT_OPS else _tosa_opt_reads(theirs, tmp_path)
    assert_same_graph(ours, expected, context=f"{op}: reading tosa-opt's file")


def test_tensor_names_and_locations_survive(tmp_path):
    text = """
    func.func @main(%x: tensor<2x3xf32> {tosa.tensor_name = "image"}) -> (tensor<2x3xf32> {tosa.tensor_name = "logits"}) {
      %0 = tosa.abs %x {tosa.tensor_name = "magnitude"} : (tensor<2x3xf32>) -> tensor<2x3xf32> loc("abs_node"("model.py":12:0))
      %1 = tosa.exp %0 : (tensor<2x3xf32>) -> tensor<2x3xf32> loc("exp_node"("model.py":13:0))
      return %1 : tensor<2x3xf32>
    }
    """
    data = to_flatbuffer(ir.parse_module(text))
    graph = decode(data)
    assert graph.main.inputs == ("image",)
    assert graph.main.outputs == ("logits",)
    assert [op.outputs for op in graph.main.operators] == [("magnitude",), ("logits",)]
    assert graph.main.operators[0].location == 'loc("abs_node"("model.py":12:0))'

    back = from_flatbuffer(data)
    abs_op = next(op for op in back.walk() if op.name == "tosa.abs")
    assert tensor_names(abs_op) == ["magnitude"]
    assert ir.print_module(back, debuginfo=True).count('"model.py":1') == 2


def test_unnamed_tensors_get_unique_names():
    text = """
    func.func @main(%x: tensor<4xi32>) -> tensor<4xi32> {
      %0 = tosa.add %x, %x {tosa.tensor_name = "t"} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
      %1 = tosa.add %0, %0 {tosa.tensor_name = "t"} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
      %2 = tosa.add %1, %1 : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
      return %2 : tensor<4xi32>
    }
    """
    graph = decode(to_flatbuffer(ir.parse_module(text)))
    names = [op.outputs[0] for op in graph.main.operators]
    assert names[:2] == ["t", "t_1"]
    assert len(set(names) | set(graph.main.inputs)) == 4


def test_constants_are_copied_as_bytes():
    weights = np.arange(-128, 128, dtype=np.int8).reshape(16, 16)
    module = ir.parse_module(
        "func.func @main() -> tensor<16x16xi8> {\n"
        f'  %0 = "tosa.const"() <{{values = dense<{weights.tolist()}> : tensor<16x16xi8>}}> : () -> tensor<16x16xi8>\n'
        "  return %0 : tensor<16x16xi8>\n}"
    )
    tensor = decode(to_flatbuffer(module)).main.tensors["main_output_0"]
    assert bytes(tensor.data) == weights.tobytes()


def test_refuses_unsigned_types_naming_the_op():
    text = """
    func.func @main(%x: tensor<4xui8>) -> tensor<4xi8> {
      %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
      %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
      %iz = "tosa.const"() <{values = dense<128> : tensor<1xui8>}> : () -> tensor<1xui8>
      %oz = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
      %0 = tosa.rescale %x, %m, %s, %iz, %oz {input_unsigned = true, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<4xui8>, tensor<1xi32>, tensor<1xi8>, tensor<1xui8>, tensor<1xi8>) -> tensor<4xi8> loc("rescale_in"("model.py":3:0))
      return %0 : tensor<4xi8>
    }
    """
    for verify in (True, False):  # the writable-type check runs without verify too
        with pytest.raises(FlatbufferError, match=r"ui8.*legalize-unsigned-io"):
            to_flatbuffer(ir.parse_module(text), verify=verify)


def test_refuses_a_module_that_does_not_verify():
    module = build_case_module("ADD")
    add = next(op for op in module.walk() if op.name == "tosa.add")
    add.results[0]._type = TensorType(IntegerType(32), [7, 7])  # wrong result shape
    with pytest.raises(FlatbufferError, match="does not verify"):
        to_flatbuffer(module)
    with pytest.raises(FlatbufferError, match="does not verify"):
        to_checked_flatbuffer(module)


def test_verify_false_writes_the_same_bytes_and_records():
    """``verify=False`` (for a module its caller has just verified) skips xDSL's
    verifier, nothing else: the same bytes and records as the default."""
    module = build_case_module("CONV2D")
    checked = to_checked_flatbuffer(module)
    unverified = to_checked_flatbuffer(module, verify=False)
    assert unverified.data == checked.data == to_flatbuffer(module, verify=False)
    assert emit(unverified.graph) == checked.data


def test_a_block_may_return_its_input():
    module = ir.parse_module(
        "func.func @main(%x: tensor<4xi8>) -> (tensor<4xi8>, tensor<4xi8>) {\n  return %x, %x : tensor<4xi8>, tensor<4xi8>\n}"
    )
    data = to_flatbuffer(module)
    main = decode(data).main
    assert main.outputs == (main.inputs[0], main.inputs[0])
    assert to_flatbuffer(from_flatbuffer(data)) == data


def test_signed_integer_type_is_refused():
    module = build_case_module("ABS")
    arg = next(op for op in module.walk() if op.name == "func.func").body.block.args[0]
    arg._type = TensorType(IntegerType(8, Signedness.SIGNED), [2, 3])
    with pytest.raises(FlatbufferError):
        to_flatbuffer(module)


# ----------------------------------------------------------------------------- bad bytes


def _sample_file() -> bytes:
    module = build_case_module("CONV2D")
    return to_flatbuffer(module)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "too short"),
        (b"\x08\x00\x00\x00TFL3" + bytes(32), "not a TOSA flatbuffer"),
        (b"\xff\xff\x00\x00TOSA" + bytes(8), "past the end"),
    ],
)
def test_garbage_is_a_clear_error(data, message):
    with pytest.raises(FlatbufferError, match=message):
        from_flatbuffer(data)


def test_every_truncation_is_a_clear_error():
    data = _sample_file()
    for size in range(0, len(data), 7):
        with pytest.raises(FlatbufferError):
            from_flatbuffer(data[:size])


def test_version_mismatch_is_a_clear_error():
    data = bytearray(_sample_file())
    graph = decode(bytes(data))
    assert graph.version == (1, 0, 0, False)
    # find the version table's major field: 4 bytes == 1 followed by minor == 0
    from tosa.TosaGraph import TosaGraph

    version = TosaGraph.GetRootAs(bytes(data), 0).Version()
    major_at = version._tab.Pos + version._tab.Offset(4)
    data[major_at : major_at + 4] = (2).to_bytes(4, "little")
    with pytest.raises(FlatbufferError, match=r"TOSA version 2\.0\.0 is not supported"):
        from_flatbuffer(bytes(data))


def test_bit_flips_never_escape_as_other_errors():
    data = _sample_file()
    rng = np.random.default_rng(7)
    outcomes = {"read": 0, "refused": 0}
    for position in rng.choice(len(data) * 8, size=400, replace=False):
        flipped = bytearray(data)
        flipped[position // 8] ^= 1 << (position % 8)
        try:
            check_flatbuffer(bytes(flipped))
            outcomes["read"] += 1
        except FlatbufferError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0 and outcomes["read"] > 0, outcomes


def test_corrupt_files_do_not_crash_the_reference_model(tmp_path):
    """Truncated and bit-flipped files through ``runtime.run_reference``, in a child
    process so that a crash is a failed test with its reason, not a dead test run."""
    script = r"""
import sys
import numpy as np
from tosa_flatbuffer import to_flatbuffer
from runtime.reference import ReferenceModelError, run_reference
from tests.support.op_cases import build_case_module

data = to_flatbuffer(build_case_module("CONV2D"))
x = np.ones((1, 8, 8, 4), np.float32)
w = np.ones((2, 1, 1, 4), np.float32)
b = np.zeros((2,), np.float32)
z = np.zeros((1,), np.float32)
inputs = [x, w, b, z, z]
assert run_reference(data, inputs)[0].shape == (1, 8, 8, 2)
rng = np.random.default_rng(3)
counts = {"ran": 0}
files = [data[:n] for n in range(0, len(data), 13)]
for position in rng.choice(len(data) * 8, size=300, replace=False):
    flipped = bytearray(data)
    flipped[position // 8] ^= 1 << (position % 8)
    files.append(bytes(flipped))
for f in files:
    try:
        run_reference(f, inputs)
        counts["ran"] += 1
    except ReferenceModelError as err:
        counts[err.status] = counts.get(err.status, 0) + 1
print(counts)
"""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"child exited {done.returncode}:\n{done.stderr[-3000:]}"
    counts = eval(done.stdout.strip().splitlines()[-1])
    assert counts.get("BAD_FLATBUFFER", 0) > 0, counts  # refused before reaching C++
    assert sum(counts.values()) == len(range(0, len(_sample_file()), 13)) + 300
