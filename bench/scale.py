"""Part 2: scale. Synthetic modules of 150, 1k and 10k ops and one with 100 MB of int8
weights (``bench.synthetic``): time per op and peak memory of each operation.

Operations: ``verify`` (every rule, typed stage), ``stages`` (``legalize-unsigned-io,
canonicalize`` without the verification between them, which ``verify`` times), ``print``
(round-trip text, every byte), ``print review`` (constants elided), ``parse`` (of the
round-trip text), ``serialize`` (``to_flatbuffer`` of the signless stage) and
``deserialize`` (``from_flatbuffer``). Import from FX is measured on the real models only
(part 1): a synthetic TOSA-level FX graph would need ExecuTorch's fake tensors and
metadata on every node. Ops are counted inside the function, constants included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.measure import mb, peak_memory, timed
from bench.report import Results, Table, Target
from bench.synthetic import (
    blocks_for_ops,
    blocks_for_weights,
    op_count,
    synthetic_module,
    weight_bytes,
)

SPEC = "TOSA-1.0+INT"
PIPELINE = "legalize-unsigned-io,canonicalize"
WEIGHTS = 100_000_000
BIG_CHANNELS = 1024
FLAT_GROWTH = 1.3
MEMORY_FACTOR = 1.5
VERIFY_10K_SECONDS = 0.5


@dataclass(frozen=True)
class Size:
    label: str
    blocks: int
    channels: int = 16
    spatial: int = 4
    large: bool = False  # skipped by --quick, fewer runs


SIZES = (
    Size("150 ops", blocks_for_ops(150)),
    Size("1k ops", blocks_for_ops(1_000)),
    Size("10k ops", blocks_for_ops(10_000), large=True),
    Size("100 MB weights", blocks_for_weights(WEIGHTS, BIG_CHANNELS), BIG_CHANNELS, 1, large=True),
)


def _operations() -> dict[str, tuple[Callable, Callable]]:
    """name -> (fn, setup(inputs) -> args): each operation on a prepared input."""
    import ir
    import ir.verify
    from ir.lowering.pipeline import run_pipeline
    from tosa_flatbuffer import from_flatbuffer, to_flatbuffer

    return {
        "verify": (lambda m: ir.verify.verify(m, SPEC), lambda i: (i.typed,)),
        "stages": (
            lambda m: run_pipeline(m, PIPELINE, spec=SPEC, verify=False),
            lambda i: (i.typed.clone(),),
        ),
        "print": (ir.print_module, lambda i: (i.typed,)),
        "print review": (lambda m: ir.print_module(m, elide_constants=True), lambda i: (i.typed,)),
        "parse": (ir.parse_module, lambda i: (i.text,)),
        "serialize": (to_flatbuffer, lambda i: (i.signless,)),
        "deserialize": (from_flatbuffer, lambda i: (i.flatbuffer,)),
    }


@dataclass
class _Inputs:
    typed: object
    signless: object
    text: str
    flatbuffer: bytes


def _inputs(size: Size) -> _Inputs:
    import ir
    from ir.lowering.pipeline import run_pipeline
    from tosa_flatbuffer import to_flatbuffer

    typed = synthetic_module(size.blocks, channels=size.channels, spatial=size.spatial)
    signless = typed.clone()
    run_pipeline(signless, "legalize-unsigned-io", spec=SPEC)
    return _Inputs(typed, signless, ir.print_module(typed), to_flatbuffer(signless))


def run(runs: int, quick: bool) -> Results:
    sizes = [s for s in SIZES if not (quick and s.large)]
    operations = _operations()
    times = Table("Scale: median seconds (µs per op)", ("module", "ops", "weights", *operations))
    memory = Table(
        "Scale: peak traced memory of one run (× weight bytes)", ("module", "weights", *operations)
    )
    per_op: dict[str, dict[str, float]] = {}
    seconds: dict[str, dict[str, float]] = {}
    peaks: dict[str, dict[str, int]] = {}
    weights_of: dict[str, int] = {}
    for size in sizes:
        inputs = _inputs(size)
        ops, weights = op_count(inputs.typed), weight_bytes(inputs.typed)
        weights_of[size.label] = weights
        n = max(2, runs // 2) if size.large else runs
        row_t, row_m = [], []
        for name, (fn, setup) in operations.items():
            t = timed(fn, n, lambda inputs=inputs, setup=setup: setup(inputs)).median
            peak = peak_memory(fn, lambda inputs=inputs, setup=setup: setup(inputs))
            seconds.setdefault(size.label, {})[name] = t
            per_op.setdefault(size.label, {})[name] = t / ops
            peaks.setdefault(size.label, {})[name] = peak
            row_t.append(f"{t:.3f} ({t / ops * 1e6:.0f})")
            row_m.append(f"{mb(peak)} ({peak / weights:.2f})")
        times.add(size.label, ops, mb(weights), *row_t)
        memory.add(size.label, mb(weights), *row_m)
        del inputs
    times.notes += [
        f"medians of {runs} runs ({max(2, runs // 2)} for 10k ops and 100 MB), garbage collector "
        "off during each call (as timeit)",
        "ops: every op inside the function, constants included (about 3/4 of them, as in "
        "MobileNetV2)",
        "import from FX is measured on the real models only (part 1, 'import µs/IR op'): a "
        "synthetic TOSA-level FX graph needs ExecuTorch's fake tensors and metadata on every node",
        "stages: legalize-unsigned-io,canonicalize without the verification between them (that is "
        "'verify')",
    ]
    memory.notes += [
        "tracemalloc peak during one call, above what existed before it: the input is not counted, "
        "the output is",
        "print (round trip) is outside the memory target: its text is two hex digits per weight "
        "byte",
    ]
    results = Results([times, memory])
    results.targets += _targets(per_op, seconds, peaks, weights_of, operations)
    return results


def _targets(per_op, seconds, peaks, weights_of, operations) -> list[Target]:
    targets = []
    if "10k ops" in per_op:
        for name in operations:
            growth = per_op["10k ops"][name] / per_op["150 ops"][name]
            targets.append(
                Target(
                    f"per-op {name}, 150 -> 10k ops",
                    f"<= {FLAT_GROWTH}x",
                    f"{growth:.2f}x",
                    growth <= FLAT_GROWTH,
                )
            )
        verify = seconds["10k ops"]["verify"]
        targets.append(
            Target(
                "all verifiers, 10k ops",
                f"<= {VERIFY_10K_SECONDS} s",
                f"{verify:.3f} s",
                verify <= VERIFY_10K_SECONDS,
            )
        )
    if "100 MB weights" in peaks:
        for name in operations:
            if name == "print":
                continue  # the text itself is two hex digits per weight byte
            factor = peaks["100 MB weights"][name] / weights_of["100 MB weights"]
            targets.append(
                Target(
                    f"peak memory {name}, 100 MB weights",
                    f"<= {MEMORY_FACTOR}x weights",
                    f"{factor:.2f}x",
                    factor <= MEMORY_FACTOR,
                )
            )
    return targets
