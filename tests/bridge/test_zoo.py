"""The zoo end to end, against ExecuTorch's own flow on the same partitions.

One capture per case and config (``tests.zoo_runs.capture``, cached for the session and
shared with ``test_verify_faults``; a module-scoped fixture, so pytest runs every test of
a case before moving on): ExecuTorch quantizes and partitions the model; each delegated
partition's TOSA-level FX graph comes with ExecuTorch's own flatbuffer of it. Then, per
partition:

- import: the typed module verifies, tosa-opt accepts its text, and after
  ``legalize-unsigned-io`` it equals ``tosa-opt --tosa-deserialize`` of ExecuTorch's file;
- verifiers: ``ir.verify`` finds nothing, under the config's spec, in our typed and
  signless modules and in ExecuTorch's file as tosa-opt reads it;
- flatbuffer: our file reads back to the same graph, FX -> IR -> fb -> IR -> fb is
  byte-identical, ``from_flatbuffer`` of ExecuTorch's file equals our IR, and the two
  files hold the same graph (``tosa_flatbuffer.compare``: regions, blocks, every tensor
  name and byte; only op locations differ);
- reference model: our file and ExecuTorch's give bit-identical outputs on several
  perturbed model inputs, within 1 LSB of the quantized torch model (INT) or float32
  rounding of it (FP);
- Vela (U55 and U85): both files give the same command stream, or the same refusal;
- the canonical stage: ``canonicalize`` verifies, never grows the graph, merges the
  repeated zero points of every integer graph, and its file gives bit-identical outputs.
"""

from __future__ import annotations

import numpy as np
import pytest

import ir
from bridge.capture import quantize_tensor
from ir.lowering.canonicalize import op_counts
from ir.lowering.pipeline import run_pipeline
from ir.lowering.signless import is_unsigned
from ir.verify import VerificationError, verify
from runtime import VelaError, compile_vela, graph_io, run_reference
from tests.support.ir_compare import assert_same_graph, op_histogram
from tests.support.zoo import CONFIGS, case_config_ids, case_configs
from tests.support.zoo_runs import RANDOM_INPUTS, ZooRun, capture, executorch_texts
from tosa_flatbuffer import decode, from_flatbuffer, to_flatbuffer
from tosa_flatbuffer.compare import first_difference

pytestmark = pytest.mark.slow

VELA_ACCELERATORS = ("ethos-u55-128", "ethos-u85-256")
#: vs the quantized torch model, in output quantization steps. Measured on the zoo: at
#: most 3 LSB (int16 sigmoid/attention), at least 81% of outputs within 1 LSB (cond int16,
#: 32 outputs); ExecuTorch's own file gives the very same numbers.
LSB_MAX = 3
WITHIN_ONE_LSB = 0.75
DATA_DEPENDENT_LOOPS = {"while_loop"}


@pytest.fixture(scope="module", params=case_configs(), ids=case_config_ids())
def zoo_run(request) -> ZooRun:
    """The case-config's capture, shared with every other test file of the session
    (``tests.zoo_runs.capture``: each case-config is exported once)."""
    case, key = request.param
    return capture(case.name, key)


def _context(run: ZooRun, index: int) -> str:
    return f"{run.name} [{run.key}] partition {index}"


# ----------------------------------------------------------------------------- import


def test_imports_like_executorch(zoo_run, tosa_opt):
    assert zoo_run.partitions
    theirs_texts = executorch_texts(zoo_run.name, zoo_run.key)
    for index, p in enumerate(zoo_run.partitions):
        context = _context(zoo_run, index)
        func = next(op for op in p.typed.walk() if op.name == "func.func")
        io_types = [*func.function_type.inputs, *func.function_type.outputs]
        assert any(is_unsigned(t) for t in io_types) == CONFIGS[zoo_run.key].uint8_io, context
        tosa_opt(ir.print_module(p.signless))  # MLIR parses and verifies our text
        theirs = ir.parse_module(theirs_texts[index])
        assert_same_graph(p.signless, theirs, context=context)
        assert sum(op_histogram(p.signless).values()) > 1, context


def test_verifies_clean(zoo_run):
    """Every rule of ``ir.verify`` holds, under the config's spec, for our typed module
    (the INT uint8 IO partitions are in the typed stage), our signless module, and
    ExecuTorch's own flatbuffer as tosa-opt's deserializer reads it: no false positive on
    real graphs, and ExecuTorch's file is held to the same rules as ours."""
    spec = CONFIGS[zoo_run.key].spec
    theirs_texts = executorch_texts(zoo_run.name, zoo_run.key)
    for index, p in enumerate(zoo_run.partitions):
        modules = {
            "typed": p.typed,
            "signless": p.signless,
            "ExecuTorch's": ir.parse_module(theirs_texts[index]),
        }
        for what, module in modules.items():
            try:
                verify(module, spec)
            except VerificationError as err:
                pytest.fail(f"{_context(zoo_run, index)}, {what} module:\n{err}", pytrace=False)


# ----------------------------------------------------------------------------- flatbuffer


def test_flatbuffer_round_trips_and_reads_executorch(zoo_run):
    for index, p in enumerate(zoo_run.partitions):
        context = _context(zoo_run, index)
        back = from_flatbuffer(p.ours)
        assert_same_graph(back, p.signless, context=f"{context}: ours read back")
        assert to_flatbuffer(back) == p.ours, f"{context}: FX -> IR -> fb -> IR -> fb changed bytes"
        assert to_flatbuffer(p.signless.clone()) == p.ours, f"{context}: not deterministic"
        assert_same_graph(
            from_flatbuffer(p.theirs), p.signless, context=f"{context}: ExecuTorch's read"
        )
        # the same graph as a consumer reads it: every region, block, tensor name and byte
        assert first_difference(p.ours, p.theirs) is None, context
        ours_main, theirs_main = decode(p.ours).main, decode(p.theirs).main
        assert (ours_main.inputs, ours_main.outputs) == (theirs_main.inputs, theirs_main.outputs), (
            context
        )
        assert set(ours_main.tensors) == set(theirs_main.tensors), context


# ----------------------------------------------------------------------------- reference model


def _delegate_inputs(run: ZooRun, flatbuffer: bytes, k: int) -> list[np.ndarray]:
    """The k-th model input as the delegate sees it: quantized by the graph's own input
    quantize (INT), or as is (FP). Model inputs, not arbitrary bytes: the while_loop case
    doubles its input until the sum passes a limit, which a negative input never does."""
    io = graph_io(flatbuffer)
    x = run.model_inputs[k]
    if run.io_qparams is None:
        return [t.numpy().astype(spec.dtype).reshape(spec.shape) for t, spec in zip(x, io.inputs)]
    return [
        quantize_tensor(t, prm).reshape(spec.shape)
        for t, prm, spec in zip(x, run.io_qparams[0], io.inputs)
    ]


def test_reference_model_outputs_bit_identical_to_executorch(zoo_run):
    for index, p in enumerate(zoo_run.partitions):
        assert graph_io(p.ours) == graph_io(p.theirs), _context(zoo_run, index)
        for k in range(RANDOM_INPUTS):
            inputs = _delegate_inputs(zoo_run, p.ours, k)
            ours, theirs = run_reference(p.ours, inputs), run_reference(p.theirs, inputs)
            assert len(ours) == len(theirs)
            for a, b in zip(ours, theirs):
                assert a.dtype == b.dtype and a.shape == b.shape
                np.testing.assert_array_equal(a, b, err_msg=f"{_context(zoo_run, index)} input {k}")


def _distinct_constants(module: ir.ModuleOp) -> int:
    """How many constants a block would keep if equal ones (op, type, bytes) were one."""
    keys = {
        (id(op.parent_block()), op.name, op.results[0].type, op.values.type, op.values.data.data)
        for op in module.walk()
        if op.name in ("tosa.const", "tosa.const_shape")
    }
    return len(keys)


def test_canonical_stage_keeps_every_output_bit(zoo_run, tosa_opt):
    """``canonicalize`` after the signless stage: verified by the pipeline, no more ops or
    constants than before and no two equal constants left in a block (ExecuTorch writes
    one zero-point constant per use), the same IO, and the reference model's outputs
    equal to those of the uncanonicalized file bit for bit. ``compile_partition``, whose
    import makes one operand constant per value, gives this very stage: the same text
    (locations included) and the same bytes."""
    spec = CONFIGS[zoo_run.key].spec
    for index, p in enumerate(zoo_run.partitions):
        context = _context(zoo_run, index)
        canonical = p.signless.clone()
        run_pipeline(canonical, "canonicalize", spec=spec)
        before, after = op_counts(p.signless), op_counts(canonical)
        assert all(after[k] <= before[k] for k in before), f"{context}: {before} -> {after}"
        tosa_opt(ir.print_module(canonical))  # MLIR parses and verifies the stage too
        constants = after["tosa.const"] + after["tosa.const_shape"]
        assert constants <= _distinct_constants(p.signless), (
            f"{context}: equal constants left unmerged"
        )
        data = to_flatbuffer(canonical)
        assert graph_io(data) == graph_io(p.ours), context
        compiled_text = ir.print_module(p.compiled, debuginfo=True)
        assert compiled_text == ir.print_module(canonical, debuginfo=True), context
        assert to_flatbuffer(p.compiled) == data, context
        for k in range(RANDOM_INPUTS):
            inputs = _delegate_inputs(zoo_run, p.ours, k)
            for a, b in zip(
                run_reference(data, inputs), run_reference(p.ours, inputs), strict=True
            ):
                assert a.dtype == b.dtype and a.shape == b.shape, context
                np.testing.assert_array_equal(a, b, err_msg=f"{context} input {k}")


def test_matches_the_torch_model(zoo_run):
    """INT: most outputs within 1 LSB of the quantized torch model, none beyond LSB_MAX;
    FP: float32 rounding of torch. (Our file and ExecuTorch's give identical
    numbers, see above: this measures the flow, and guards the comparison itself.)"""
    if zoo_run.name in DATA_DEPENDENT_LOOPS:
        pytest.skip(
            "the loop count depends on rounding near its limit; compared bit-exactly with ExecuTorch only"
        )
    (p,) = zoo_run.partitions
    io = graph_io(p.ours)
    model_shapes = [tuple(t.shape) for t in zoo_run.torch_outputs[0]]
    if [tuple(t.shape) for t in io.outputs] != model_shapes:
        pytest.skip(
            f"the delegate is not the whole model: outputs {[t.shape for t in io.outputs]} vs {model_shapes}"
        )
    diffs = []
    for k, expected in enumerate(zoo_run.torch_outputs):
        outputs = run_reference(p.ours, _delegate_inputs(zoo_run, p.ours, k))
        for i, (got, want) in enumerate(zip(outputs, expected)):
            if zoo_run.io_qparams is None:
                want = want.detach().numpy().reshape(got.shape)
                np.testing.assert_allclose(
                    got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max() + 1)
                )
                continue
            q_want = quantize_tensor(want, zoo_run.io_qparams[1][i]).reshape(got.shape)
            diffs.append(np.abs(got.astype(np.int64) - q_want.astype(np.int64)).reshape(-1))
    if not diffs:
        return
    diff = np.concatenate(diffs)
    within = float(np.mean(diff <= 1))
    context = f"{zoo_run.name} [{zoo_run.key}]: max {diff.max()} LSB, {within:.2%} within 1 LSB"
    assert diff.max() <= LSB_MAX and within >= WITHIN_ONE_LSB, context


# ----------------------------------------------------------------------------- Vela


def test_vela_treats_both_files_alike(zoo_run):
    """Same command stream and delegate blob from our file and ExecuTorch's, on U55 and
    U85; where Vela refuses a graph (FP, or an op the NPU lacks) it refuses both alike."""
    compiled = 0
    for index, p in enumerate(zoo_run.partitions):
        for accelerator in VELA_ACCELERATORS:
            context = f"{_context(zoo_run, index)} on {accelerator}"
            try:
                theirs = compile_vela(p.theirs, accelerator)
            except VelaError as refused:
                with pytest.raises(VelaError) as ours_refused:
                    compile_vela(p.ours, accelerator)
                assert _first_line(ours_refused.value) == _first_line(refused), context
                continue
            ours = compile_vela(p.ours, accelerator)
            assert ours.command_stream == theirs.command_stream, context
            assert ours.delegate_blob == theirs.delegate_blob, context
            assert (ours.summary.npu_ops, ours.summary.cpu_ops) == (
                theirs.summary.npu_ops,
                theirs.summary.cpu_ops,
            )
            compiled += 1
    if zoo_run.key in ("int", "int-uint8-io"):
        assert compiled, (
            f"{zoo_run.name} [{zoo_run.key}]: Vela compiled neither file on any accelerator"
        )


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0]
