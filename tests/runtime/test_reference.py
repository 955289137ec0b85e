"""runtime.reference: the TOSA reference model in process, typed IO, quiet, clear errors.

One ExecuTorch flatbuffer (the built-in example, uint8 IO, ~3 s to lower) is shared by
the module; every other graph is a few operators built here with ``tosa_serializer``.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import ml_dtypes
import numpy as np
import pytest
import tosa_reference_model
import tosa_serializer as ts

from runtime import ReferenceModelError, graph_io, run_reference

# --------------------------------------------------------------------------- graphs


def _serialize(build) -> bytes:
    """A TOSA 1.0.0 flatbuffer (the version ExecuTorch writes) whose main block ``build``
    fills."""
    graph = ts.TosaSerializer("", targetMajor=1, targetMinor=0, targetPatch=0, targetDraft=False)
    build(graph)
    return bytes(graph.serialize())


def _identity(dtype: ts.DType, shape: list[int]) -> bytes:
    """x -> IDENTITY -> output, one tensor type."""

    def build(graph):
        graph.addInputTensor(ts.TosaSerializerTensor("x", shape, dtype))
        out = graph.addIntermediate(shape, dtype)
        attribute = ts.TosaSerializerAttribute()
        attribute.IdentityAttribute()
        graph.addOperator(ts.Op.IDENTITY, ["x"], [out.name], attribute)
        graph.addOutputTensor(out)

    return _serialize(build)


def _add_rescale(graph, source, out, in_dtype, in_zp, out_zp, *, shift=30, unsigned=(False, False)):
    """RESCALE ``source`` into ``out`` by 2^30 / 2^shift (1.0 at shift 30)."""
    tag = out.name
    graph.addConst([1], ts.DType.INT32, [1 << 30], name=tag + "_multiplier")
    graph.addConst([1], ts.DType.INT8, [shift], name=tag + "_shift")
    graph.addConst([1], in_dtype, [in_zp], name=tag + "_input_zp")
    graph.addConst([1], out.dtype, [out_zp], name=tag + "_output_zp")
    attribute = ts.TosaSerializerAttribute()
    attribute.RescaleAttribute(
        scale32=True,
        rounding_mode=ts.RoundingMode.SINGLE_ROUND,
        per_channel=False,
        input_unsigned=unsigned[0],
        output_unsigned=unsigned[1],
    )
    inputs = [source] + [tag + s for s in ("_multiplier", "_shift", "_input_zp", "_output_zp")]
    graph.addOperator(ts.Op.RESCALE, inputs, [out.name], attribute)


def _unsigned_round_trip(dtype: ts.DType, zero_point: int) -> bytes:
    """Unsigned in -> RESCALE (input_unsigned) -> signed -> RESCALE (output_unsigned) ->
    unsigned out, both at scale 1: the output equals the input."""

    def build(graph):
        graph.addInputTensor(ts.TosaSerializerTensor("x", [2, 3], dtype))
        signed = graph.addIntermediate([2, 3], dtype)
        _add_rescale(graph, "x", signed, dtype, zero_point, 0, unsigned=(True, False))
        out = graph.addIntermediate([2, 3], dtype)
        _add_rescale(graph, signed.name, out, dtype, 0, zero_point, unsigned=(False, True))
        graph.addOutputTensor(out)

    return _serialize(build)


def _rescale(in_dtype: ts.DType, in_zp: int, shift: int) -> bytes:
    """One RESCALE to int8; an int32 input with a non-zero zero point is an ERROR_IF, a
    shift outside [2, 62] a REQUIRE (UNPREDICTABLE)."""

    def build(graph):
        graph.addInputTensor(ts.TosaSerializerTensor("x", [1, 4], in_dtype))
        out = graph.addIntermediate([1, 4], ts.DType.INT8)
        _add_rescale(graph, "x", out, in_dtype, in_zp, 0, shift=shift)
        graph.addOutputTensor(out)

    return _serialize(build)


def _max_pool(height: int, stride: int, out_height: int) -> bytes:
    """A 1x1 MAX_POOL2D striding down the height of a (1, height, 1, 1) int8 tensor."""

    def build(graph):
        graph.addInputTensor(ts.TosaSerializerTensor("x", [1, height, 1, 1], ts.DType.INT8))
        out = graph.addIntermediate([1, out_height, 1, 1], ts.DType.INT8)
        attribute = ts.TosaSerializerAttribute()
        attribute.MaxPool2dAttribute(
            [1, 1], [stride, 1], [0, 0, 0, 0], ts.NanPropagationMode.PROPAGATE
        )
        graph.addOperator(ts.Op.MAX_POOL2D, ["x"], [out.name], attribute)
        graph.addOutputTensor(out)

    return _serialize(build)


@pytest.fixture(scope="module")
def example() -> bytes:
    """ExecuTorch's flatbuffer of the example CNN: uint8 (1, 3, 32, 32) in, uint8 (1, 10) out."""
    from drivers.example import ExampleCNN, example_inputs, executorch_tosa_flatbuffers

    flatbuffers = executorch_tosa_flatbuffers(ExampleCNN(), example_inputs())
    assert len(flatbuffers) == 1
    return flatbuffers[0]


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (1, 3, 32, 32), dtype=np.uint8)


@pytest.fixture
def cpp_forbidden(monkeypatch):
    """Fail the test if anything reaches the reference model."""

    def refuse(*args, **kwargs):
        raise AssertionError("tosa_reference_model.run was called")

    monkeypatch.setattr(tosa_reference_model, "run", refuse)


# --------------------------------------------------------------------------- uint8 IO, ExecuTorch graph


def test_graph_io_of_executorch_uint8_graph(example):
    io = graph_io(example)
    assert [(t.dtype, t.shape, t.unsigned, t.tosa_dtype) for t in io.inputs] == [
        (np.dtype(np.uint8), (1, 3, 32, 32), True, "INT8")
    ]
    assert [(t.dtype, t.shape, t.unsigned, t.tosa_dtype) for t in io.outputs] == [
        (np.dtype(np.uint8), (1, 10), True, "INT8")
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        io.inputs[0].unsigned = False


def test_uint8_graph_runs_deterministically_and_follows_its_input(example):
    first = run_reference(example, [_image(0)])
    again = run_reference(example, [_image(0)])
    other = run_reference(example, [_image(1)])
    assert [(o.dtype, o.shape) for o in first] == [(np.dtype(np.uint8), (1, 10))]
    assert np.array_equal(first[0], again[0])
    assert not np.array_equal(first[0], other[0])


def test_int8_where_the_graph_reads_uint8_names_the_input(example):
    name = graph_io(example).inputs[0].name
    with pytest.raises(ReferenceModelError) as raised:
        run_reference(example, [_image(0).view(np.int8)])
    error = raised.value
    assert (error.status, error.input_index, error.tensor_name) == ("INPUT_MISMATCH", 0, name)
    message = str(error)
    assert f"input 0 {name!r} expects uint8 (1, 3, 32, 32), given int8 (1, 3, 32, 32)" in message
    assert "input_unsigned = true" in message


def test_normal_run_prints_nothing(example, capfd):
    capfd.readouterr()
    run_reference(example, [_image(0)])
    # the reference model prints a version note on stdout on every run, unless captured
    assert capfd.readouterr() == ("", "")


# --------------------------------------------------------------------------- typed IO, small graphs


def test_uint16_io_round_trips():
    graph = _unsigned_round_trip(ts.DType.INT16, -32768)  # zero point 32768 as int16 bits
    io = graph_io(graph)
    assert [t.dtype for t in io.inputs + io.outputs] == [np.dtype(np.uint16)] * 2
    values = np.array([[0, 1, 32767], [32768, 40000, 65535]], dtype=np.uint16)
    (out,) = run_reference(graph, [values])
    assert out.dtype == np.uint16
    assert np.array_equal(out, values)


def test_int16_where_the_graph_reads_uint16_is_refused(cpp_forbidden):
    graph = _unsigned_round_trip(ts.DType.INT16, -32768)
    with pytest.raises(ReferenceModelError, match=r"expects uint16 \(2, 3\), given int16 \(2, 3\)"):
        run_reference(graph, [np.zeros((2, 3), np.int16)])


def test_uint8_where_the_graph_reads_int8_is_refused(cpp_forbidden):
    with pytest.raises(ReferenceModelError) as raised:
        run_reference(_identity(ts.DType.INT8, [2, 3]), [np.zeros((2, 3), np.uint8)])
    assert raised.value.status == "INPUT_MISMATCH"
    assert "expects int8 (2, 3), given uint8 (2, 3)" in str(raised.value)
    assert "as signed" in str(raised.value)


ROUND_TRIP_DTYPES = [
    (ts.DType.BOOL, np.array([[True, False, True], [False, True, False]])),
    (ts.DType.INT8, np.array([[-128, -1, 0], [1, 64, 127]], dtype=np.int8)),
    (ts.DType.INT16, np.array([[-32768, -1, 0], [1, 300, 32767]], dtype=np.int16)),
    (ts.DType.INT32, np.array([[-(2**31), -1, 0], [1, 70000, 2**31 - 1]], dtype=np.int32)),
    (ts.DType.FP32, np.array([[-1.5, 0.0, 1e-30], [3.25, 1e30, -7.0]], dtype=np.float32)),
    (ts.DType.FP16, np.array([[-1.5, 0.0, 1e-4], [3.25, 6e4, -7.0]], dtype=np.float16)),
    (ts.DType.BF16, np.array([[-1.5, 0.0, 1e-30], [3.25, 1e30, -7.0]], dtype=ml_dtypes.bfloat16)),
    (
        ts.DType.FP8E4M3,
        np.array([[-1.5, 0.0, 0.25], [3.25, 448, -7.0]], dtype=ml_dtypes.float8_e4m3fn),
    ),
    (
        ts.DType.FP8E5M2,
        np.array([[-1.5, 0.0, 0.25], [3.0, 57344, -7.0]], dtype=ml_dtypes.float8_e5m2),
    ),
]


@pytest.mark.parametrize(
    "dtype,values", ROUND_TRIP_DTYPES, ids=[d.name for d, _ in ROUND_TRIP_DTYPES]
)
def test_identity_returns_the_input_dtype_shape_and_bytes(dtype, values):
    (out,) = run_reference(_identity(dtype, [2, 3]), [values])
    assert (out.dtype, out.shape) == (values.dtype, values.shape)
    assert out.tobytes() == values.tobytes()


def test_int48_io_is_refused_before_running(cpp_forbidden):
    # the binding cannot carry INT48: it would return an empty float64 array, "valid"
    graph = _identity(ts.DType.INT48, [2, 3])
    assert graph_io(graph).inputs[0].dtype == np.int64
    with pytest.raises(ReferenceModelError, match="input 0 'x' is INT48") as raised:
        run_reference(graph, [np.zeros((2, 3), np.int64)])
    assert raised.value.status == "UNSUPPORTED"


# --------------------------------------------------------------------------- input checks


@pytest.mark.parametrize("count", [0, 2])
def test_wrong_input_count(count, cpp_forbidden):
    inputs = [np.zeros((2, 3), np.int8)] * count
    with pytest.raises(
        ReferenceModelError, match=rf"takes 1 input\(s\) \('x' int8 \(2, 3\)\), given {count}"
    ):
        run_reference(_identity(ts.DType.INT8, [2, 3]), inputs)


def test_wrong_shape_with_the_same_bytes(cpp_forbidden):
    # the reference model itself would run this: it only compares byte counts
    with pytest.raises(ReferenceModelError) as raised:
        run_reference(_identity(ts.DType.INT8, [2, 3]), [np.zeros((3, 2), np.int8)])
    assert (raised.value.status, raised.value.input_index, raised.value.tensor_name) == (
        "INPUT_MISMATCH",
        0,
        "x",
    )
    assert "input 0 'x' expects int8 (2, 3), given int8 (3, 2)" in str(raised.value)


def test_wrong_dtype_with_the_same_bytes(cpp_forbidden):
    with pytest.raises(
        ReferenceModelError, match=r"input 0 'x' expects int32 \(2, 3\), given float32 \(2, 3\)"
    ):
        run_reference(_identity(ts.DType.INT32, [2, 3]), [np.zeros((2, 3), np.float32)])


def test_input_that_is_not_an_array(cpp_forbidden):
    with pytest.raises(
        ReferenceModelError, match="expects a numpy array int8 \\(2, 3\\), given list"
    ):
        run_reference(_identity(ts.DType.INT8, [2, 3]), [[[0, 0, 0], [0, 0, 0]]])


def test_non_contiguous_input_runs_as_its_values():
    values = np.arange(12, dtype=np.int8).reshape(2, 6)[:, ::2]
    (out,) = run_reference(_identity(ts.DType.INT8, [2, 3]), [values])
    assert np.array_equal(out, values)


# --------------------------------------------------------------------------- failing graphs


def test_error_if_graph(capfd):
    capfd.readouterr()
    with pytest.raises(ReferenceModelError) as raised:
        run_reference(_rescale(ts.DType.INT32, in_zp=5, shift=30), [np.zeros((1, 4), np.int32)])
    error = raised.value
    assert error.status == "ERROR_IF"
    assert str(error).startswith("graph hit an ERROR_IF")
    assert "zero point not 0" in str(error)
    assert "ERROR_IF() fails" in error.log
    # the gdb backtrace the reference model attaches to every ERROR_IF is dropped
    assert "Attaching debugger" not in str(error)
    assert "#1 " not in error.log
    # ... and nothing reached the terminal
    assert capfd.readouterr() == ("", "")


def test_unpredictable_graph(capfd):
    capfd.readouterr()
    with pytest.raises(ReferenceModelError) as raised:
        run_reference(_rescale(ts.DType.INT8, in_zp=0, shift=70), [np.zeros((1, 4), np.int8)])
    assert raised.value.status == "UNPREDICTABLE"
    assert "shift value should stay within [2, 62] but is 70" in str(raised.value)
    assert capfd.readouterr() == ("", "")


def test_graph_the_reference_model_will_not_load(capfd):
    # (8193 - 1) / 8193 is no whole output row: passes tosa_flatbuffer, fails validation
    capfd.readouterr()
    with pytest.raises(ReferenceModelError) as raised:
        run_reference(_max_pool(8193, 8193, 1), [np.zeros((1, 8193, 1, 1), np.int8)])
    assert raised.value.status == "INVALID"
    assert "exact integer output dimensions" in str(raised.value)
    assert capfd.readouterr() == ("", "")


def test_level_eightk_is_opt_in():
    graph, inputs = _max_pool(8194, 8193, 2), [np.ones((1, 8194, 1, 1), np.int8)]
    (out,) = run_reference(graph, inputs)  # default level NONE: a stride of 8193 is fine
    assert out.ravel().tolist() == [1, 1]
    with pytest.raises(ReferenceModelError, match="exceeds a limit of TOSA level EIGHTK") as raised:
        run_reference(graph, inputs, tosa_level="EIGHTK")
    assert raised.value.status == "UNPREDICTABLE"


def test_unknown_level_is_refused(cpp_forbidden):
    with pytest.raises(ValueError, match="tosa_level"):
        run_reference(_identity(ts.DType.INT8, [1]), [np.zeros(1, np.int8)], tosa_level="8K")


def test_truncated_flatbuffer_never_reaches_cpp(example, cpp_forbidden):
    from tosa_flatbuffer import FlatbufferError

    with pytest.raises(ReferenceModelError) as raised:
        run_reference(example[: len(example) // 2], [_image(0)])
    assert raised.value.status == "BAD_FLATBUFFER"
    assert isinstance(raised.value.__cause__, FlatbufferError)


@pytest.fixture
def decode_calls(monkeypatch) -> list[int]:
    """The sizes of the buffers ``tosa_flatbuffer.decode`` reads from now on."""
    import tosa_flatbuffer

    calls: list[int] = []
    decode = tosa_flatbuffer.decode

    def counting(data):
        calls.append(len(data))
        return decode(data)

    monkeypatch.setattr(tosa_flatbuffer, "decode", counting)
    return calls


def test_flatbuffer_is_decoded_once_per_run(decode_calls):
    """graph_io's records come from the graph check_flatbuffer decoded, not a second read."""
    (out,) = run_reference(_identity(ts.DType.INT8, [2, 3]), [np.ones((2, 3), np.int8)])
    assert out.tolist() == [[1, 1, 1], [1, 1, 1]]
    assert len(decode_calls) == 1


def test_checked_flatbuffer_is_not_decoded_again(decode_calls):
    """A flatbuffer checked once runs any number of times without another decode."""
    import tosa_flatbuffer

    checked = tosa_flatbuffer.check_flatbuffer(_identity(ts.DType.INT8, [2, 3]))
    assert len(decode_calls) == 1
    assert [t.name for t in graph_io(checked).inputs] == ["x"]
    for _ in range(2):
        (out,) = run_reference(checked, [np.ones((2, 3), np.int8)])
        assert out.tolist() == [[1, 1, 1], [1, 1, 1]]
    assert len(decode_calls) == 1


def test_graph_io_of_garbage_is_bad_flatbuffer():
    with pytest.raises(
        ReferenceModelError, match="cannot read the flatbuffer's main block"
    ) as raised:
        graph_io(b"this is not a flatbuffer" * 4)
    assert raised.value.status == "BAD_FLATBUFFER"


# --------------------------------------------------------------------------- output capture


def test_capture_takes_c_and_python_output_and_restores_on_error(capfd):
    import ctypes

    from runtime._capture import captured_output

    libc = ctypes.CDLL(None)
    capfd.readouterr()
    with pytest.raises(RuntimeError, match="inside"), captured_output() as captured:
        libc.printf(b"from C\n")  # buffered by C stdio: flushed on the way out
        print("from Python")
        print("to stderr", file=sys.stderr)
        raise RuntimeError("inside")
    # C's line lands when stdio is flushed, so only the lines, not their order, are fixed
    assert sorted(captured.text.splitlines()) == ["from C", "from Python", "to stderr"]
    assert capfd.readouterr() == ("", "")
    print("after")
    libc.printf(b"C after\n")
    libc.fflush(None)
    assert capfd.readouterr().out == "after\nC after\n"


def test_nested_captures_keep_their_own_text():
    from runtime._capture import captured_output

    with captured_output() as outer:
        print("outer")
        with captured_output() as inner:
            print("inner")
        print("outer again")
    assert (outer.text, inner.text) == ("outer\nouter again\n", "inner\n")


# --------------------------------------------------------------------------- imports


def test_running_needs_no_torch(tmp_path):
    graph = tmp_path / "identity.tosa"
    graph.write_bytes(_identity(ts.DType.INT8, [2, 3]))
    script = (
        "import sys, numpy as np\n"
        "from runtime import run_reference\n"
        f"data = open({str(graph)!r}, 'rb').read()\n"
        "(out,) = run_reference(data, [np.ones((2, 3), np.int8)])\n"
        "assert out.tolist() == [[1, 1, 1], [1, 1, 1]], out\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout == "False\n"
    assert done.stderr == ""
