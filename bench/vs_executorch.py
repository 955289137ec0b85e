"""Part 1: the IR path against ExecuTorch's node visitors + serializer, same FX graph.

Both sides start from the TOSA-level graph ``bridge.capture`` gives (after ExecuTorch's
ArmPassManager, run once at capture time):

- ours: ``bridge.compile.compile_partition``, what our backends' ``preprocess`` runs:
  ``fx_to_ir`` -> ``run_pipeline("legalize-unsigned-io,canonicalize")`` (which verifies
  the module in full before the first pass and what each pass changed after it) ->
  ``to_checked_flatbuffer``;
- ExecuTorch's: ``TOSABackend._preprocess`` on the same graph with ArmPassManager's
  ``transform_to_backend_pipeline`` replaced by the identity for the duration, so what
  runs is exactly its serializer set-up, node visitors and ``serialize()``. Its bytes are
  checked equal to the flatbuffer ExecuTorch wrote for the partition.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

from bench.measure import mb, peak_memory, timed, timed_alternating
from bench.models import capture, models
from bench.report import Results, Table, Target

PIPELINE = "legalize-unsigned-io,canonicalize"


class _ProgramWithGraph:
    """The partition's ExportedProgram seen with the transformed graph as its
    ``graph_module`` (what ``_preprocess`` reads); everything else is the program's."""

    def __init__(self, program, graph_module) -> None:
        self._program = program
        self.graph_module = graph_module

    def __getattr__(self, name: str):
        return getattr(self._program, name)


@contextlib.contextmanager
def _arm_passes_skipped() -> Iterator[None]:
    """ArmPassManager as the identity: the graph is already transformed."""
    from executorch.backends.arm._passes import ArmPassManager

    original = ArmPassManager.transform_to_backend_pipeline
    ArmPassManager.transform_to_backend_pipeline = lambda self, exported_program, graph_module: (
        graph_module
    )
    try:
        yield
    finally:
        ArmPassManager.transform_to_backend_pipeline = original


def executorch_serialize(partition) -> bytes:
    """ExecuTorch's node visitors + tosa_serializer on an already transformed partition."""
    from executorch.backends.arm.tosa.backend import TOSABackend

    program = _ProgramWithGraph(partition.exported_program, partition.graph_module)
    with _arm_passes_skipped():
        return bytes(TOSABackend._preprocess(program, partition.compile_spec).processed_bytes)


def ir_import(partition, spec: str, *, as_ir_path: bool = True):
    """The import as ``ir_path`` makes it (``PIPELINE`` canonicalizes, so one operand
    constant per value: ``bridge.compile.merges_constants_first``), or with
    ``as_ir_path=False`` ExecuTorch's constant per use."""
    from bridge.compile import merges_constants_first
    from bridge.fx_import import fx_to_ir
    from ir.lowering.pipeline import parse_pipeline

    unique = as_ir_path and merges_constants_first(parse_pipeline(PIPELINE))
    return fx_to_ir(
        partition.graph_module, partition.exported_program, spec=spec, unique_constants=unique
    )


def ir_path(partition, spec: str) -> bytes:
    """Ours, end to end as a backend's ``preprocess`` runs it: import, the stages with
    verification, the flatbuffer."""
    from bridge.compile import compile_partition

    return compile_partition(
        partition.graph_module, partition.exported_program, spec, pipeline=PIPELINE
    ).flatbuffer


def _stage(pipeline: str, spec: str):
    from ir.lowering.pipeline import run_pipeline

    return lambda module: run_pipeline(module, pipeline, spec=spec, verify=False)


def _stages(partition, spec: str, runs: int) -> dict[str, float]:
    """Each step of our path alone, on a fresh copy of its input."""
    import ir.verify
    from tosa_flatbuffer import to_flatbuffer

    typed = ir_import(partition, spec)
    signless = typed.clone()
    _stage("legalize-unsigned-io", spec)(signless)
    canonical = signless.clone()
    _stage("canonicalize", spec)(canonical)
    return {
        "import (fx_to_ir)": timed(lambda: ir_import(partition, spec), runs).median,
        "verify typed (all rules)": timed(lambda: ir.verify.verify(typed, spec), runs).median,
        "legalize-unsigned-io": timed(
            _stage("legalize-unsigned-io", spec), runs, lambda: (typed.clone(),)
        ).median,
        "verify signless": timed(lambda: ir.verify.verify(signless, spec), runs).median,
        "canonicalize": timed(
            _stage("canonicalize", spec), runs, lambda: (signless.clone(),)
        ).median,
        "verify canonical": timed(lambda: ir.verify.verify(canonical, spec), runs).median,
        "to_flatbuffer": timed(lambda: to_flatbuffer(canonical), runs).median,
    }


def _op_count(partition, spec: str) -> tuple[int, int]:
    """(FX call_function nodes, IR ops incl. constants) of the partition."""
    from bench.synthetic import op_count

    nodes = sum(1 for n in partition.graph_module.graph.nodes if n.op == "call_function")
    return nodes, op_count(ir_import(partition, spec))


def run(runs: int, quick: bool) -> Results:
    results = Results()
    compare = Table(
        "IR path vs ExecuTorch visitors+serializer (same TOSA-level FX graph)",
        ("model", "FX nodes / IR ops", "ExecuTorch", "IR path", "ratio", "peak traced ET / IR"),
    )
    stages = Table(
        "IR path, each step alone (median seconds)", ("model", *_STEP_NAMES, "import µs/IR op")
    )
    captures = Table(
        "Capture (once per run, not compared)",
        (
            "model",
            "quantize+export+partition+ArmPassManager (+reference)",
            "flatbuffer bytes ET / IR",
        ),
    )
    for model in models(quick):
        captured, sizes = capture(model), []
        for index, partition in enumerate(captured.partitions):
            name = model.name + (f" #{index}" if len(captured.partitions) > 1 else "")
            sizes.append(_compare(name, model, partition, runs, compare, stages, results))
        captures.add(model.name, f"{captured.seconds:.1f} s", ", ".join(sizes))
    compare.notes += [
        f"medians of at least {runs} runs (more for a quick model: about "
        f"{_SECONDS_A_SIDE:.0f} s a side, after one warm-up call each), the two sides "
        "interleaved; ours = compile_partition: "
        f"fx_to_ir + run_pipeline('{PIPELINE}', the input verified in full, then what each "
        "pass changed) + to_checked_flatbuffer",
        "ExecuTorch = TOSABackend._preprocess with ArmPassManager skipped (graph already "
        "transformed): serializer set-up, node visitors, serialize(); bytes identical to "
        "TOSABackend.preprocess's",
        "peak traced: tracemalloc peak of one run (Python heap and numpy buffers; not C++ heaps, "
        "so ExecuTorch's C++ tosa_serializer is undercounted)",
    ]
    results.tables += [compare, stages, captures]
    return results


#: issue 19's goals for ours / ExecuTorch's, by model: at least as fast on MobileNetV2, within
#: 1.5x on the small zoo graphs (where fixed costs weigh more)
_RATIO_GOALS = {"MobileNetV2": 1.0, "attention": 1.5, "lstm": 1.5}

_STEP_NAMES = (
    "import (fx_to_ir)",
    "verify typed (all rules)",
    "legalize-unsigned-io",
    "verify signless",
    "canonicalize",
    "verify canonical",
    "to_flatbuffer",
)


#: a comparison takes at least this many seconds a side: a small graph compiles in tens of
#: milliseconds, where five runs leave the median to the machine's noise
_SECONDS_A_SIDE = 2.0
_MAX_RUNS = 51


def comparison_runs(seconds_per_call: float, runs: int) -> int:
    """``runs``, or more for a quick call: enough for ``_SECONDS_A_SIDE`` (odd, so the
    median is one run's time; at most ``_MAX_RUNS``)."""
    wanted = math.ceil(_SECONDS_A_SIDE / max(seconds_per_call, 1e-6))
    return max(runs, min(_MAX_RUNS, wanted | 1))


def _compare(name, model, partition, runs, compare, stages, results) -> str:
    """One partition's row in each table (and its target); returns its file sizes."""
    sides = {
        "theirs": lambda: executorch_serialize(partition),
        "ours": lambda: ir_path(partition, model.spec),
    }
    warm = timed_alternating(sides, 1)  # the first call of each fills caches: not counted
    runs = comparison_runs(max(t.median for t in warm.values()), runs)
    both = timed_alternating(sides, runs)
    theirs, ours = both["theirs"], both["ours"]
    if theirs.result != partition.reference_flatbuffer:
        raise RuntimeError(f"{name}: ExecuTorch's visitors gave other bytes than its preprocess")
    ratio = ours.median / theirs.median
    mem_theirs = peak_memory(lambda: executorch_serialize(partition))
    mem_ours = peak_memory(lambda: ir_path(partition, model.spec))
    nodes, ops = _op_count(partition, model.spec)
    compare.add(
        f"{name} ({runs} runs)",
        f"{nodes} / {ops}",
        f"{theirs.median:.3f} s",
        f"{ours.median:.3f} s",
        f"{ratio:.2f}",
        f"{mb(mem_theirs)} / {mb(mem_ours)}",
    )
    steps = _stages(partition, model.spec, runs)
    import_per_op = steps["import (fx_to_ir)"] / ops * 1e6
    stages.add(name, *(f"{steps[s]:.3f}" for s in _STEP_NAMES), f"{import_per_op:.0f}")
    goal = _RATIO_GOALS[name.split()[0]]
    results.targets.append(
        Target(
            f"IR path / ExecuTorch, {name}",
            f"<= {goal}",
            f"{ratio:.2f} ({ours.median:.3f} s / {theirs.median:.3f} s)",
            ratio <= goal,
        )
    )
    return f"{len(partition.reference_flatbuffer)} / {len(ours.result)}"
