"""The speed-ups (``ir/speedups/``) change how fast, never what: the same outputs with
``TOSA_IR_NO_SPEEDUPS=1`` as without.

Two fresh processes, one with the switch and one without, each produce every output the
project derives from its texts (run as a script, this file prints them as JSON):

- every lit text under ``tests/filecheck``: each ``tosa-ir-opt`` command of its RUN lines,
  run in-process, gives its exit status, stdout, stderr and the files it writes;
- every case of the op table (``tests/support/op_cases.py``): the module printed (custom form,
  generic form with locations), its flatbuffer bytes, the text and the flatbuffer read
  back and printed again, and the verifier's findings.

- the FX import (``bridge.fx_to_ir``) of ExampleCNN under INT with uint8 IO and under FP
  (FP keeps its ReLU6 as CLAMP): the typed module printed (custom form, generic form with
  locations), imported twice in a row (the second import reuses what the first built);
  and the errors of the same graphs made bad where a value becomes an attribute (a
  transpose permutation outside i32, a clamp bound beyond f32), each
  twice: a failure must be the same, and the same again.

The two must be equal, entry by entry; each process also says whether its speed-ups ran.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _env(switch: bool) -> dict:
    env = dict(os.environ)
    env.pop("TOSA_IR_NO_SPEEDUPS", None)
    if switch:
        env["TOSA_IR_NO_SPEEDUPS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def _outputs(switch: bool) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve())],
        env=_env(switch),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout)


def test_outputs_are_the_same_with_the_env():
    fast, plain = _outputs(switch=False), _outputs(switch=True)
    assert fast.pop("speedups ran") == "True"
    assert plain.pop("speedups ran") == "False"
    assert fast.keys() == plain.keys()
    differing = [key for key in fast if fast[key] != plain[key]]
    assert not differing, f"{len(differing)} outputs differ, first {differing[0]}:\n" + "\n".join(
        ["--- speed-ups on", fast[differing[0]], "--- speed-ups off", plain[differing[0]]]
    )


def _same_op(made, created) -> None:
    """Two ops built from the same parts are alike field by field: the same objects in
    the same fields, their own uses and results."""
    assert type(made) is type(created)
    assert list(vars(made)) == list(vars(created))
    for name in ("properties", "attributes"):
        mine, theirs = getattr(made, name), getattr(created, name)
        assert type(mine) is type(theirs) is dict
        assert [(k, id(v)) for k, v in mine.items()] == [(k, id(v)) for k, v in theirs.items()]
    assert made.location is created.location
    assert made._successors == created._successors == () and made.regions == created.regions == ()
    assert made._successor_uses == created._successor_uses == ()
    assert type(made._operands) is type(created._operands)
    assert [id(v) for v in made._operands] == [id(v) for v in created._operands]
    for op in (made, created):
        assert [(u._operation, u._index) for u in op._operand_uses] == [
            (op, i) for i in range(len(op._operands))
        ]
        for value, use in zip(op._operands, op._operand_uses):
            assert use in list(value.uses)
    assert type(made.results) is type(created.results)
    assert len(made.results) == len(created.results)
    for mine, theirs in zip(made.results, created.results):
        assert type(mine) is type(theirs)
        assert list(vars(mine)) == list(vars(theirs))
        assert mine.type is theirs.type and mine.index == theirs.index
        assert mine.op is made and theirs.op is created
        assert mine.first_use is theirs.first_use is None and mine.name_hint is None


def test_op_factory_builds_what_create_builds():
    """``ir.speedups.op_create``: every op class of the dialect, built by its factory and
    by ``create`` from the same parts (no properties, or some, with and without a
    location and attributes), gives the same op; defaults filled in as xDSL fills them."""
    from xdsl.dialects.builtin import (
        FileLineColLoc,
        IntAttr,
        IntegerAttr,
        StringAttr,
        TensorType,
        i8,
        i32,
    )
    from xdsl.ir import Block

    import ir.speedups
    from ir.dialects.tosa_ext import TOSA_OPS, AddOp, NanMode, NanModeAttr
    from ir.speedups.op_create import op_factory

    # the factory is its own constructor, not create under another name
    assert (op_factory(AddOp).__name__ == "make") == ir.speedups.ENABLED
    t = TensorType(i8, [2])
    block = Block(arg_types=[t, t, t])
    location = FileLineColLoc(StringAttr("f.py"), IntAttr(3), IntAttr(0))
    name = {"tosa.tensor_name": StringAttr("x")}
    nan = {"nan_mode": NanModeAttr(NanMode.IGNORE), "axis": IntegerAttr(1, i32)}
    checked = 0
    for cls in TOSA_OPS:
        if cls.get_irdl_definition().regions:
            continue
        make = op_factory(cls)
        for operands, types, props, loc, attrs in (
            ((), (t,), {}, None, {}),
            (block.args[:2], (t, t), dict(nan), location, name),
            (block.args, (), {"axis": nan["axis"]}, location, {}),
        ):
            made = make(operands, types, props, loc, attrs)
            created = cls.create(
                operands=operands,
                result_types=types,
                properties=props,
                attributes=attrs,
                location=loc,
            )
            _same_op(made, created)
            checked += 1
    assert checked > 200


def test_prechecked_string_is_xdsls():
    """``prechecked.string_attr``: while the speed-ups are on, xDSL's ``StringAttr``
    still checks nothing of its string (else the speed-up would be off), and the
    attribute made is equal to xDSL's, field by field."""
    from xdsl.dialects.builtin import StringAttr

    import ir.speedups
    from ir.speedups import prechecked

    assert prechecked._PRECHECKED_STRINGS == ir.speedups.ENABLED
    for text in ("", "x", "conv2d_1_input_zp", 'a "quoted" \\ name', "\u00e9"):
        made, xdsls = prechecked.string_attr(text), StringAttr(text)
        assert type(made) is StringAttr and made == xdsls and hash(made) == hash(xdsls)
        assert vars(made) == vars(xdsls) and str(made) == str(xdsls)


def test_append_op_links_as_add_op():
    """``op_create.append_op``: three ops appended to a block link as ``Block.add_op``
    links them (the same fields set, in the same order); an op already in a block is
    refused with xDSL's error."""
    import pytest
    from xdsl.dialects.builtin import TensorType, i8
    from xdsl.ir import Block

    from ir.dialects.tosa_ext import AbsOp
    from ir.speedups.op_create import append_op

    t = TensorType(i8, [2])
    ours, xdsls = Block(arg_types=[t]), Block(arg_types=[t])
    for block, add in ((ours, lambda op: append_op(ours, op)), (xdsls, xdsls.add_op)):
        for _ in range(3):
            add(AbsOp.create(operands=[block.args[0]], result_types=[t]))
    assert list(vars(ours)) == list(vars(xdsls))
    for mine, theirs in zip(ours.ops, xdsls.ops, strict=True):
        assert list(vars(mine)) == list(vars(theirs))
        assert mine.parent is ours and theirs.parent is xdsls
    for block in (ours, xdsls):
        ops = list(block.ops)
        assert block.first_op is ops[0] and block.last_op is ops[2]
        assert [(o.prev_op, o.next_op) for o in ops] == [
            (None, ops[1]),
            (ops[0], ops[2]),
            (ops[1], None),
        ]
    with pytest.raises(ValueError, match="already attached"):
        append_op(xdsls, ours.first_op)


# ============================================================================= the probe
# What one process prints: run as ``python tests/ir/test_speedups.py``.


def _digest(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return f"{len(raw)} bytes sha256 {hashlib.sha256(raw).hexdigest()}"


def _guarded(make) -> str:
    """``make()``, or the error it raised, as text: a failure must be the same too."""
    try:
        return make()
    except Exception as err:
        return f"{type(err).__name__}: {err}"


def _lit_outputs() -> dict[str, str]:
    from test_filecheck import FILES, MERGE_STDERR, run_lines
    from test_filecheck import ROOT as LIT_ROOT

    from drivers.cli import opt_main

    outputs = {}
    for file in FILES:
        name = str(file.relative_to(LIT_ROOT))
        with tempfile.TemporaryDirectory() as scratch:
            t = Path(scratch) / file.stem
            for i, line in enumerate(run_lines(file)):
                text = line.replace("%s", str(file)).replace("%t", str(t))
                for k, command in enumerate(text.split(" | ")):
                    words = [w for w in shlex.split(command) if w not in ("not", MERGE_STDERR)]
                    if words[0] != "tosa-ir-opt":
                        continue
                    out, err = io.StringIO(), io.StringIO()
                    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                        status = opt_main(words[1:])
                    said = (
                        f"exit {status}\n--- stdout\n{out.getvalue()}\n--- stderr\n{err.getvalue()}"
                    )
                    outputs[f"lit {name} RUN {i} command {k}"] = said.replace(scratch, "%scratch")
            written = sorted(p for p in Path(scratch).rglob("*") if p.is_file())
            for path in written:
                outputs[f"lit {name} wrote {path.relative_to(scratch)}"] = _digest(
                    path.read_bytes()
                )
    return outputs


def _op_table_outputs() -> dict[str, str]:
    import ir
    from ir.verify import diagnose
    from tests.support.op_cases import CASES, HAND_BUILT, build_case_module
    from tosa_flatbuffer import from_flatbuffer, to_flatbuffer

    outputs = {}
    for name in [*CASES, *HAND_BUILT]:
        module = build_case_module(name)
        text = ir.print_module(module)
        exact = ir.print_module(module, generic=True, debuginfo=True)
        outputs[f"op {name} custom"] = text
        outputs[f"op {name} generic"] = exact
        outputs[f"op {name} verify"] = _guarded(
            lambda module=module: "\n".join(str(d) for d in diagnose(module))
        )
        outputs[f"op {name} text read back"] = _guarded(
            lambda exact=exact: ir.print_module(
                ir.parse_module(exact, name="t.mlir"), generic=True, debuginfo=True
            )
        )
        data = _guarded(lambda module=module: to_flatbuffer(module))
        outputs[f"op {name} flatbuffer"] = _digest(data) if isinstance(data, bytes) else data
        if isinstance(data, bytes):
            outputs[f"op {name} flatbuffer read back"] = _guarded(
                lambda data=data: ir.print_module(
                    from_flatbuffer(data), generic=True, debuginfo=True
                )
            )
    return outputs


def _fx_import_outputs() -> dict[str, str]:
    import ir
    from bridge.capture import quiet
    from bridge.fx_import import fx_to_ir
    from bridge.partitioner import tosa_level_partitions
    from drivers.example import ExampleCNN, example_inputs

    outputs = {}
    for spec, uint8_io in (("TOSA-1.0+INT", True), ("TOSA-1.0+FP", False)):
        with quiet():
            partitions = tosa_level_partitions(ExampleCNN(), example_inputs(), spec, uint8_io)
        for index, p in enumerate(partitions):
            name = f"fx {spec} partition {index}"
            for run in ("first", "again"):
                module = fx_to_ir(p.graph_module, p.exported_program, spec=spec)
                outputs[f"{name} {run} custom"] = ir.print_module(module)
                outputs[f"{name} {run} generic"] = ir.print_module(
                    module, generic=True, debuginfo=True
                )
            for fault, node, arg, value in _fx_faults(p.graph_module):
                saved = node.args
                node.args = (*saved[:arg], value, *saved[arg + 1 :])
                try:
                    for run in ("first", "again"):
                        outputs[f"{name} {fault} {run}"] = _guarded(
                            lambda p=p, spec=spec: ir.print_module(
                                fx_to_ir(p.graph_module, p.exported_program, spec=spec)
                            )
                        )
                finally:
                    node.args = saved
    return outputs


def _fx_faults(graph_module) -> list[tuple]:
    """(what, node, argument index, bad value): values no attribute of theirs can hold."""
    faults = []
    for node in graph_module.graph.nodes:
        target = getattr(node.target, "__name__", "")
        if target == "tosa.TRANSPOSE.default":
            faults.append(("permutation outside i32", node, 1, [0, 1 << 40, 2, 3]))
        if target == "tosa.CLAMP.default":
            faults.append(("clamp bound beyond f32", node, 1, 1e300))
    return faults[:2]


def _probe() -> dict[str, str]:
    import ir.speedups
    from ir.dialects.tosa_ext import AddOp

    memoized = AddOp.verify_.__name__ == "verify_once"
    assert memoized == ir.speedups.ENABLED, "the verify memo does not follow the switch"
    return {
        "speedups ran": str(ir.speedups.ENABLED),
        **_lit_outputs(),
        **_op_table_outputs(),
        **_fx_import_outputs(),
    }


if __name__ == "__main__":
    json.dump(_probe(), sys.stdout)
