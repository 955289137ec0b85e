"""``drivers.debug``: the per-op comparison names the op that loses accuracy.

Three claims, each able to fail:

* clean graphs are clean: on every zoo case and config ``first`` is None with the
  default threshold, except the exceptions listed (with their reason) in
  ``BY_DESIGN``, where the numbers are checked to be what the reason says;
* a corruption is found where it is: a single op of a real zoo module is broken in one
  of nine ways and passed through ``module=``-style evaluation, and ``first`` names the
  broken op or an op downstream of it, in at least 95% of the cases (each case is also
  checked to really change the graph's output, so the detection is not vacuous);
* the real case: ExecuTorch 1.5.1 loses a ReLU fused into a conv whose output
  quantization is shared with a concat's, and ``first`` names that conv's RESCALE.

Captures are shared per session through ``tests.zoo_runs.debug_capture``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pytest
import torch
from xdsl.dialects.builtin import IntegerAttr, ModuleOp
from xdsl.ir import Operation
from xdsl.rewriter import InsertPoint, Rewriter

from drivers.debug import Threshold, capture, evaluate
from ir.builders import const, numpy_from_dense
from ir.dialects.tosa_ext import ConstOp
from ir.lowering.expose import main_func
from ir.tensor_names import tensor_names
from tests.support.zoo import CASES, case_config_ids, case_configs
from tests.support.zoo_runs import debug_capture

pytestmark = pytest.mark.slow

# --------------------------------------------------------------------------- clean graphs

#: (case, config) -> why ``first`` is not None on the unmodified graph. The 16-bit TABLE
#: is a 513-entry table interpolated linearly (TOSA 1.0 TABLE for i16), torch evaluates
#: the function itself: a few LSB of 65536 differ by design, downstream of the TABLE.
BY_DESIGN = {
    ("sigmoid_tanh_gelu", "int16"): "16-bit TABLE interpolation (sigmoid, tanh, GELU)",
    ("softmax", "int16"): "16-bit TABLE interpolation (exp, reciprocal)",
    ("attention", "int16"): "int16 matmul requantization (i48 accumulator, 2 LSB of 65536 on "
    "4.7% of q @ k^T) and 16-bit TABLE interpolation (the softmax's exp, reciprocal)",
}
#: the exceptions whose first row lies downstream of a TABLE
TABLE_FIRST = {("sigmoid_tanh_gelu", "int16"), ("softmax", "int16")}
#: where provenance gives no per-op torch value: the rows exist but are not compared
#: (FP LSTM/GRU stay one aten.lstm/gru node with a tuple result in the float program,
#: decomposed only by the Arm passes; cond/while_loop regions are not exposed)
MOSTLY_UNCOMPARED = {
    ("lstm", "fp"),
    ("gru", "fp"),
    ("while_loop", "fp-cf"),
    ("while_loop", "int-cf"),
    ("while_loop", "int16-cf"),
    ("cond", "fp-cf"),
    ("cond", "int-cf"),
    ("cond", "int16-cf"),
}


@pytest.mark.parametrize(("case", "key"), case_configs(), ids=case_config_ids())
def test_clean_graph_has_no_first(case, key):
    report = evaluate(debug_capture(case.name, key))
    compared = [r for r in report.rows if r.compared and r.proxy_of is None]
    assert report.rows, "no rows"
    if (case.name, key) not in MOSTLY_UNCOMPARED:
        assert compared, report.format()  # TABLE-heavy graphs compare few rows of their own
    if (case.name, key) not in BY_DESIGN:
        assert report.first is None, report.format()
        return
    first = report.first
    assert first is not None, f"listed as an exception but clean: {BY_DESIGN[case.name, key]}"
    assert first.max_lsb is not None and first.max_lsb <= 4, report.format()
    if (case.name, key) in TABLE_FIRST:
        assert any(r.op == "tosa.table" for r in report.rows[: first.index]), report.format()


def test_rows_name_op_node_and_source():
    report = evaluate(debug_capture("cnn", "int"))
    convs = [r for r in report.rows if r.op == "tosa.conv2d"]
    assert len(convs) == 2
    for row in convs:
        assert row.fx_node and row.fx_node.startswith("tosa_conv2d")
        assert row.location and row.location.startswith("tests/support/zoo.py:")
        assert row.proxy_of is not None and "i32 value has no torch counterpart" in row.note
    rescale = report.rows[convs[0].proxy_of]
    assert rescale.op == "tosa.rescale" and rescale.compared_with.startswith("quantize_per_tensor")
    assert 0.99 <= rescale.within_1lsb <= 1.0
    assert rescale.float_max_lsb is not None and rescale.float_max_lsb > 0  # quantization error


def test_fp_rows_report_relative_error():
    report = evaluate(debug_capture("cnn", "fp"))
    assert report.first is None
    for row in report.rows:
        assert row.max_abs is not None and row.rel_err < Threshold().relative and row.snr_db > 60


# --------------------------------------------------------------------------- fault injection


def _private_const(op: Operation, index: int, values: np.ndarray) -> None:
    """Give ``op`` operand ``index`` a constant of its own holding ``values``: the final
    stage merges equal constants, so editing the shared one would corrupt other ops."""
    old = op.operands[index].owner
    assert isinstance(old, ConstOp)
    new = const(np.ascontiguousarray(values), old.values.get_element_type())
    Rewriter.insert_op(new, InsertPoint.before(op))
    op.operands[index] = new.results[0]


def _ops(module: ModuleOp, name: str) -> list[Operation]:
    return [op for op in main_func(module).body.block.ops if op.name == name]


def _values(op: Operation, index: int) -> np.ndarray:
    return np.array(numpy_from_dense(op.operands[index].owner.values))


def _first_rescale_after_conv(module):
    for op in _ops(module, "tosa.rescale"):
        producer = op.operands[0].owner
        if getattr(producer, "name", "").startswith(("tosa.conv", "tosa.depthwise")):
            return op
    return None


def _conv(module):
    for name in ("tosa.conv2d", "tosa.depthwise_conv2d", "tosa.transpose_conv2d"):
        if _ops(module, name):
            return _ops(module, name)[0]
    return None


def fault_rescale_multiplier(module):
    op = _first_rescale_after_conv(module) or next(iter(_ops(module, "tosa.rescale")), None)
    if op is None:
        return None
    _private_const(op, 1, (_values(op, 1).astype(np.int64) * 3 // 4).astype(np.int32))
    return op


def fault_rescale_shift(module):
    op = _first_rescale_after_conv(module) or next(iter(_ops(module, "tosa.rescale")), None)
    if op is None:
        return None
    _private_const(op, 2, (_values(op, 2) - 1).astype(np.int8))  # twice the scale
    return op


def fault_zero_point(module):
    op = _conv(module)
    if op is None or not str(op.operands[0].type).endswith("xi8>"):
        return None
    zp = _values(op, 3)
    _private_const(op, 3, np.where(zp == 127, 126, zp + 1).astype(zp.dtype))
    return op


def fault_conv_weight(module):
    op = _conv(module)
    if op is None:
        return None
    weights = _values(op, 1)
    flat = weights.reshape(-1).copy()
    # the middle tap of the output channel with the largest bias (one a ReLU after it is
    # least likely to zero out entirely)
    per_channel = flat.size // weights.shape[0]
    channel = int(np.argmax(_values(op, 2).reshape(-1))) if weights.shape[0] > 1 else 0
    centre = channel * per_channel + per_channel // 2
    if np.issubdtype(flat.dtype, np.integer):
        flat[centre] = -127 if flat[centre] > 0 else 127
    else:
        flat[centre] = -8 * np.abs(flat).max() if flat[centre] > 0 else 8 * np.abs(flat).max()
    _private_const(op, 1, flat.reshape(weights.shape))
    return op


def fault_bias(module):
    op = _conv(module)
    if op is None:
        return None
    bias = _values(op, 2).copy()
    if np.issubdtype(bias.dtype, np.integer):
        rescale = next(u.operation for u in op.results[0].uses)
        multiplier, shift = (
            int(_values(rescale, 1).reshape(-1)[0]),
            int(_values(rescale, 2).reshape(-1)[0]),
        )
        bias[0] += int(64 * 2.0**shift / multiplier)  # 64 output LSB
    else:
        bias[0] += 4 * (np.abs(bias).max() + 1)
    _private_const(op, 2, bias.reshape(_values(op, 2).shape).astype(bias.dtype))
    return op


def fault_clamp_bound(module):
    ops = _ops(module, "tosa.clamp")
    if not ops:
        return None
    op = ops[0]
    low = op.properties["min_val"]
    if isinstance(low, IntegerAttr):
        op.properties["min_val"] = IntegerAttr(low.value.data + 64, low.type)
    else:
        op.properties["min_val"] = type(low)(-1.0, low.type)  # a ReLU that lets negatives through
    return op


def fault_table_entry(module):
    ops = _ops(module, "tosa.table")
    if not ops:
        return None
    op = ops[0]
    table = _values(op, 1).astype(np.int64)
    middle = slice(len(table) // 4, 3 * len(table) // 4)  # the entries for inputs near zero
    info = np.iinfo(_values(op, 1).dtype)
    table[middle] = np.clip(table[middle] + (info.max - info.min) // 16, info.min, info.max)
    _private_const(op, 1, table.astype(_values(op, 1).dtype))
    return op


def fault_pad_value(module):
    ops = _ops(module, "tosa.pad")
    if not ops:
        return None
    op = ops[0]
    value = _values(op, 2)
    if np.issubdtype(value.dtype, np.integer):
        _private_const(op, 2, np.where(value > 0, value - 100, value + 100).astype(value.dtype))
    else:
        _private_const(op, 2, (value + 4.0).astype(value.dtype))
    return op


def fault_transpose_perms(module):
    for op in _ops(module, "tosa.transpose"):
        shape = op.results[0].type.get_shape()
        perms = [int(p) for p in op.perms.get_values()]
        if len(perms) == 4 and shape[1] == shape[2]:
            perms[1], perms[2] = perms[2], perms[1]  # H and W swapped: same shape, wrong data
            op.properties["perms"] = type(op.perms).from_list(op.perms.elt_type, perms)
            return op
    return None


FAULTS: dict[str, Callable] = {
    "rescale-multiplier": fault_rescale_multiplier,
    "rescale-shift": fault_rescale_shift,
    "zero-point": fault_zero_point,
    "conv-weight": fault_conv_weight,
    "bias": fault_bias,
    "clamp-bound": fault_clamp_bound,
    "table-entry": fault_table_entry,
    "pad-value": fault_pad_value,
    "transpose-perms": fault_transpose_perms,
}
FAULT_MODELS = (
    ("cnn", "int"),
    ("inverted_residual", "int"),
    ("concat", "int"),
    ("mlp", "int"),
    ("sigmoid_tanh_gelu", "int"),
    ("softmax", "int"),
    ("attention", "int"),
    ("cnn", "fp"),
    ("inverted_residual", "fp"),
    ("padded", "int"),
    ("padded", "fp"),
)


class Padded(torch.nn.Module):
    """Constant padding (no zoo case has a ``tosa.pad``), then a conv."""

    def __init__(self) -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(21)
            self.conv = torch.nn.Conv2d(4, 4, 3)

    def forward(self, x):
        return self.conv(torch.nn.functional.pad(x, (2, 2, 2, 2), value=0.75))


@cache
def _capture(case: str, key: str):
    if case != "padded":
        return debug_capture(case, key)
    spec = {"int": "TOSA-1.0+INT", "fp": "TOSA-1.0+FP"}[key]
    x = (torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(21)),)
    return capture(Padded().eval(), x, spec=spec)


def _downstream(op: Operation) -> set[str]:
    """Tensor names of ``op`` and every op that reads its result, transitively."""
    seen, todo, names = set(), [op], set()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        names.update(n for n in tensor_names(current) if n)
        for result in current.results:
            todo.extend(use.operation for use in result.uses)
    return names


@cache
def _injections() -> list[tuple[str, str, str, str]]:
    """(model, fault, outcome, detail) per applicable injection; outcome is "exact"
    (first is the corrupted op), "downstream" (first is an op fed by it) or "missed"."""
    outcomes = []
    for case, key in FAULT_MODELS:
        captured = _capture(case, key)
        clean = evaluate(captured)
        for kind, fault in FAULTS.items():
            module = captured.modules[0].clone()
            op = fault(module)
            if op is None:
                continue
            name = tensor_names(op)[0]
            report = evaluate(captured, module=module)
            first = report.first
            if not _output_changed(clean, report):
                outcome = "no effect"
            elif first is None:
                outcome = "missed"
            elif first.tensor_name == name:
                outcome = "exact"
            elif first.tensor_name in _downstream(op):
                outcome = "downstream"
            else:
                outcome = "missed"
            detail = (
                "none" if first is None else f"row {first.index} {first.op} {first.tensor_name}"
            )
            outcomes.append((f"{case}-{key}", kind, outcome, f"corrupted {name}; first: {detail}"))
    return outcomes


def _output_changed(clean, corrupted) -> bool:
    """The fault changed what the graph computes (else detecting nothing is right)."""
    return any(
        (a.max_lsb, a.max_abs, a.within_1lsb) != (b.max_lsb, b.max_abs, b.within_1lsb)
        for a, b in zip(clean.rows, corrupted.rows)
    )


def test_fault_injection_names_the_corrupted_op():
    outcomes = _injections()
    kinds = {kind for _, kind, _, _ in outcomes}
    models = {model for model, _, _, _ in outcomes}
    assert len(kinds) >= 8, sorted(kinds)
    assert len({m.split("-")[0] for m in models}) >= 5, sorted(models)
    no_effect = [" | ".join(o) for o in outcomes if o[2] == "no effect"]
    assert not no_effect, "faults that change nothing:\n" + "\n".join(no_effect)
    found = [o for o in outcomes if o[2] != "missed"]
    missed = "\n".join(" | ".join(o) for o in outcomes if o[2] == "missed")
    assert len(found) >= 0.95 * len(outcomes), (
        f"{len(found)}/{len(outcomes)} found; missed:\n{missed}"
    )


def test_every_fault_kind_is_applied_somewhere():
    applied = {kind for _, kind, _, _ in _injections()}
    assert applied == set(FAULTS), set(FAULTS) - applied


# --------------------------------------------------------------------------- the real case


class CatOfReluBranch(torch.nn.Module):
    """``torch.cat((relu(conv1(x)), conv2(x)), 1)``: ExecuTorch 1.5.1 fuses the relu into
    conv1's RESCALE as a clamp at the zero point, which is lost once the relu's output
    quantization is shared with the concat's (whose zero point is not the lowest value)."""

    def __init__(self) -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            self.conv1 = torch.nn.Conv2d(3, 4, 3, padding=1)
            self.conv2 = torch.nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return torch.cat((torch.relu(self.conv1(x)), self.conv2(x)), 1)


@pytest.fixture(scope="session")
def cat_relu_capture():
    x = (torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(0)),)
    return capture(CatOfReluBranch(), x, spec="TOSA-1.0+INT", uint8_io=False)


def test_lost_relu_is_named(cat_relu_capture):
    report = evaluate(cat_relu_capture)
    first = report.first
    assert first is not None, report.format()
    assert first.op == "tosa.rescale"
    assert "after relu" in first.compared_with
    assert first.max_lsb >= 50 and first.within_1lsb < 0.9, report.format()
    producer = report.rows[first.index - 1]
    assert producer.op == "tosa.conv2d" and producer.proxy_of == first.index
    # the other branch, without a relu, is exact
    others = [r for r in report.rows if r.op == "tosa.rescale" and r is not first]
    assert others and all(r.max_lsb <= 1 for r in others)


def test_clamp_at_zero_point_repairs_it(cat_relu_capture):
    """What a repair would be: a CLAMP to [output zero point, 127] after the RESCALE
    (legal TOSA 1.0 INT). With it the graph is clean; see the README for why the IR
    cannot insert it on its own."""
    from ir.dialects.tosa_ext import ClampOp

    module = cat_relu_capture.modules[0].clone()
    first = evaluate(cat_relu_capture).first
    rescale = next(
        op for op in _ops(module, "tosa.rescale") if tensor_names(op)[0] == first.tensor_name
    )
    zero_point = int(_values(rescale, 4).reshape(-1)[0])
    i8 = rescale.results[0].type.element_type
    clamp = ClampOp.create(
        operands=[rescale.results[0]],
        result_types=[rescale.results[0].type],
        properties={"min_val": IntegerAttr(zero_point, i8), "max_val": IntegerAttr(127, i8)},
        attributes={
            "tosa.tensor_name": type(rescale.attributes["tosa.tensor_name"])("relu_restored")
        },
    )
    clamp.location = rescale.location  # the same FX node: the relu's quantize node
    uses = [use for use in rescale.results[0].uses if use.operation is not clamp]
    Rewriter.insert_op(clamp, InsertPoint.after(rescale))
    for use in uses:
        use.operation.operands[use.index] = clamp.results[0]
    repaired = evaluate(cat_relu_capture, module=module)
    assert repaired.first is None, repaired.format()


def test_module_from_other_stage_is_accepted():
    """``module=`` takes the partition in any stage: the signless stage of the same
    partition (before canonicalize) gives the same verdict and the same compared rows."""
    import ir
    from bridge.fx_import import fx_to_ir
    from ir.lowering.pipeline import run_pipeline

    captured = debug_capture("cnn", "int")
    partition = captured.partitions[0]
    signless = fx_to_ir(partition.graph_module, partition.exported_program, spec=captured.spec)
    run_pipeline(signless, "legalize-unsigned-io", spec=captured.spec)
    text = ir.print_module(signless, debuginfo=True)
    report = evaluate(captured, module=ir.parse_module(text, name="signless.mlir"))
    final = evaluate(captured)
    assert report.first is None
    assert [r.max_lsb for r in report.rows if r.op == "tosa.rescale"] == [
        r.max_lsb for r in final.rows if r.op == "tosa.rescale"
    ]


def test_cases_table_covers_zoo():
    assert {c for c, _ in BY_DESIGN} <= set(CASES)


# --------------------------------------------------------------------------- the command


def test_debug_command_prints_table_and_writes_files(tmp_path, capsys):
    from drivers import cli

    out = tmp_path / "dbg"
    assert cli.main(["debug", "drivers/example.py:ExampleCNN", "--out", str(out)]) == cli.EXIT_OK
    printed = capsys.readouterr().out
    assert "first: none" in printed and "tosa_conv2d_default" in printed
    assert (out / "debug.txt").read_text() == printed
    dump = (out / "tag0.debug.mlir").read_text()
    assert "// NPU" in dump and "LSB, 100.0% <= 1 LSB" in dump
    for line in dump.splitlines():  # each error comment sits right above an op line
        if "<= 1 LSB" in line:
            assert line.lstrip().startswith("//")


def test_debug_command_errors_are_one_line_and_write_nothing(tmp_path, capsys):
    from drivers import cli

    bad = tmp_path / "edited.mlir"
    bad.write_text("func.func @main( {\n")
    out = tmp_path / "dbg"
    code = cli.main(
        ["debug", "drivers/example.py:ExampleCNN", "--module", str(bad), "--out", str(out)]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == cli.EXIT_USAGE and len(err) == 1 and err[0].startswith(str(bad))
    assert not out.exists()
    code = cli.main(["debug", "drivers/example.py:NoSuchFactory", "--out", str(out)])
    assert code == cli.EXIT_USAGE and not out.exists()
