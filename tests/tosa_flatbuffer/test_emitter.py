"""The direct flatbuffer emitter writes the very bytes the ``flatbuffers`` Builder writes.

``to_flatbuffer`` writes with ``tosa_flatbuffer.emitter.Emitter``; ``BuilderEmitter``
(the path with ``TOSA_IR_NO_SPEEDUPS=1``) writes the same records with the Builder and
the generated ``tosa`` code, as ExecuTorch's serializer does. Both write every graph
here and must agree byte for byte: the op table, the lit texts that reach the flatbuffer,
synthetic modules (150 and 1k ops, and one whose weights are large enough to be joined
into the file from the IR's buffers), hand-made records for the Builder's corner cases
(defaults left out, non-ASCII names, empty and odd-length data, shared vtables), and,
with the slow tests, every zoo case.
"""

from __future__ import annotations

import struct
import tracemalloc
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from tosa.DType import DType

import ir
from bench.synthetic import blocks_for_ops, blocks_for_weights, synthetic_module, weight_bytes
from ir.lowering.pipeline import run_pipeline
from tests.support.op_cases import CASES, HAND_BUILT, build_case_module
from tests.support.zoo import case_config_ids, case_configs
from tosa_flatbuffer import decode, to_checked_flatbuffer, to_flatbuffer
from tosa_flatbuffer.decode import FbBlock, FbGraph, FbOperator, FbTensor
from tosa_flatbuffer.emitter import BuilderEmitter, Emitter
from tosa_flatbuffer.schema import WRITE_VERSION, WRITE_VERSION_1_1
from tosa_flatbuffer.writer import emit

FILECHECK = Path(__file__).resolve().parents[1] / "filecheck"
SPEC = "TOSA-1.0+INT"


def _assert_same_bytes(graph: FbGraph, expected: bytes | None = None) -> bytes:
    """Both emitters' bytes of ``graph``, equal (and equal to ``expected`` if given)."""
    direct = emit(graph, Emitter())
    builder = emit(graph, BuilderEmitter())
    assert isinstance(direct, bytes)
    if direct != builder:
        differing = (i for i, (a, b) in enumerate(zip(direct, builder)) if a != b)
        at = next(differing, min(len(direct), len(builder)))
        pytest.fail(f"{len(direct)} vs {len(builder)} bytes, first difference at byte {at}")
    if expected is not None:
        assert direct == expected
    return direct


def _assert_module(module) -> None:
    checked = to_checked_flatbuffer(module)
    _assert_same_bytes(checked.graph, checked.data)


@pytest.mark.parametrize("spec_name", [*CASES, *HAND_BUILT])
def test_op_table(spec_name):
    _assert_module(build_case_module(spec_name))


def _writable_lit_modules() -> list[tuple[str, object]]:
    """Every module of the lit texts that ``to_flatbuffer`` writes, as is or after
    ``legalize-unsigned-io`` (the typed ones)."""
    found = []
    for path in sorted(FILECHECK.rglob("*.mlir")):
        try:
            module = ir.parse_module(path.read_text())
            run_pipeline(module, "legalize-unsigned-io", spec=SPEC)
            to_flatbuffer(module)
        except Exception:  # a text about an error: not a graph to write
            continue
        found.append((str(path.relative_to(FILECHECK)), module))
    return found


def test_lit_texts():
    modules = _writable_lit_modules()
    names = [name for name, _ in modules]
    assert {"to-flatbuffer/round-trip.mlir", "to-flatbuffer/refuses-typed.mlir"} <= set(names)
    for name, module in modules:
        checked = to_checked_flatbuffer(module)
        assert emit(checked.graph, BuilderEmitter()) == checked.data, name


def _signless(module):
    run_pipeline(module, "legalize-unsigned-io", spec=SPEC)
    return module


@pytest.mark.parametrize("ops", [150, 1_000])
def test_synthetic(ops):
    _assert_module(_signless(synthetic_module(blocks_for_ops(ops))))


def test_large_weights_are_written_once():
    """4 MB of 1 MB weights: each joined from the IR's buffer into the file, so that
    writing peaks at little more than the file (the Builder's peaked at twice)."""
    module = _signless(
        synthetic_module(blocks_for_weights(4 << 20, 1024), channels=1024, spatial=1)
    )
    weights = weight_bytes(module)
    _assert_module(module)
    to_flatbuffer(module)  # caches warm: the peak below is the writing alone
    tracemalloc.start()
    try:
        data = to_flatbuffer(module)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(data) > weights
    assert peak < 1.2 * weights, f"peak {peak} bytes for {weights} bytes of weights"


# ----------------------------------------------------------------------------- by hand


def _graph(tensors, operators, *, version=WRITE_VERSION, inputs=("x",), outputs=("y",)):
    block = FbBlock("main", tuple(inputs), tuple(outputs))
    for t in tensors:
        block.tensors[t.name] = t
    block.operators.extend(operators)
    return FbGraph(version, {"main": [block]})


def _identity(x: str, y: str, location: str = "") -> FbOperator:
    return FbOperator("IDENTITY", {}, (x,), (y,), location)


@pytest.mark.parametrize("size", [0, 1, 3, 4095, 4096, 4097, 70_001])
@pytest.mark.parametrize("version", [WRITE_VERSION, WRITE_VERSION_1_1])
def test_data_sizes_and_versions(size, version):
    """Data vectors around the size from which they are joined in, not copied; odd sizes
    move everything after them off alignment; 1.1 is the draft flag left at its default."""
    data = memoryview(np.arange(size, dtype=np.uint8).tobytes())
    graph = _graph(
        [
            FbTensor("x", (1, size), DType.INT8, None),
            FbTensor("c", (size,), DType.INT8, data),
            FbTensor("y", (1, size), DType.INT8, None),
        ],
        [_identity("x", "y", 'loc("a"("m.py":1:2))')],
        version=version,
    )
    written = _assert_same_bytes(graph)
    read = decode(written).main.tensors["c"].data
    assert bytes(read or b"") == bytes(data)  # the reader gives no data for an empty vector


def test_defaults_names_and_shared_vtables():
    """Fields equal to their defaults (type 0, rank 0, axis 0, False) are left out of
    their tables; names of every length mod 4, empty and non-ASCII; many tables with
    the same field offsets share one vtable, across table kinds as the Builder does."""
    names = ["", "a", "ab", "abc", "abcd", "é", "日本語", "x" * 257]
    tensors = [FbTensor(n or "empty", (2, 3), DType.UNKNOWN, None) for n in names]
    tensors += [
        FbTensor("x", (), DType.BOOL, None),
        FbTensor("y", (0,), DType.FP32, memoryview(b"")),
        FbTensor("v", (4,), DType.INT32, memoryview(bytes(16)), True, "état"),
        FbTensor("s", (0,), DType.SHAPE, None),
        FbTensor("s3", (3,), DType.SHAPE, memoryview(np.arange(3, dtype="<i8").tobytes())),
    ]
    operators = [
        FbOperator("ARGMAX", {"axis": 0, "nan_mode": 0}, ("x",), ("y",), ""),
        FbOperator("ARGMAX", {"axis": 3, "nan_mode": 1}, ("x",), ("y",), "loc(unknown)"),
        FbOperator(
            "CLAMP",
            {"min_val": b"\x80", "max_val": b"\x7f\x00\x00", "nan_mode": 2},
            ("x",),
            ("y",),
            "ü",
        ),
        FbOperator(
            "TRANSPOSE", {"perms": np.asarray([1, 0, 2], dtype=np.int32)}, ("x",), ("y",), ""
        ),
        FbOperator(
            "CUSTOM",
            {"operator_name": "", "domain_name": "dömain", "implementation_attrs": b"abcde"},
            ("x", "y", "x"),
            (),
            "",
        ),
        *[_identity(n, "y", n) for n in names],
    ]
    graph = _graph(tensors, operators, inputs=names, outputs=())
    _assert_same_bytes(graph)


def test_nested_regions():
    """A block per region, regions after main: the cond_if of the op table, renamed."""
    checked = to_checked_flatbuffer(build_case_module("COND_IF"))
    regions = {f"{name}_é": blocks for name, blocks in checked.graph.regions.items()}
    _assert_same_bytes(replace(checked.graph, regions=regions))


def test_bad_field_value_is_refused_alike():
    """A value the schema cannot hold fails in both emitters (the writer's planning
    refuses such modules before either runs)."""
    graph = _graph(
        [FbTensor("x", (1,), DType.INT8, None), FbTensor("y", (1,), DType.INT32, None)],
        [FbOperator("ARGMAX", {"axis": 1 << 40, "nan_mode": 0}, ("x",), ("y",), "")],
    )
    with pytest.raises(struct.error):
        emit(graph, Emitter())
    with pytest.raises(TypeError):  # the Builder's range check
        emit(graph, BuilderEmitter())


# ----------------------------------------------------------------------------- the zoo


@pytest.mark.slow
@pytest.mark.parametrize(("case", "key"), case_configs(), ids=case_config_ids())
def test_zoo(case, key):
    """Every zoo partition's signless module (``tests.support.zoo_runs.capture``, shared
    with the zoo tests of the session): the two emitters agree, and with the flatbuffer
    the zoo compares with ExecuTorch's."""
    from tests.support.zoo_runs import capture

    for p in capture(case.name, key).partitions:
        checked = to_checked_flatbuffer(p.signless.clone())
        _assert_same_bytes(checked.graph, p.ours)
