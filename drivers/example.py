"""The built-in example, end to end: a small CNN through ExecuTorch's Arm flow and our IR.

``main`` quantises ``ExampleCNN`` (uint8 IO by default) and lowers it with
``to_edge_transform_and_lower`` and ``bridge.Partitioner``: ExecuTorch partitions and runs
its ArmPassManager, our backend imports the TOSA-level graph (typed stage, ``ui8`` at the
IO), lowers it with ``legalize-unsigned-io`` (signless stage) and ``canonicalize``
(canonical stage) and writes the flatbuffer. It runs the flatbuffer on the TOSA reference
model against the quantized torch model, compiles it with Vela, writes the ``.pte`` and
prints the review dump: the final stage, constants elided, each op with its source line
and Vela's NPU/CPU placement and cycles above it.
``executorch_tosa_flatbuffers`` gives ExecuTorch's own flatbuffers of the same model, the
oracle tests compare ours with.

Run it with ``python -m drivers.example [--out DIR] [--spec SPEC] [--no-uint8-io]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from ir.defaults import DEFAULT_PIPELINE, FP_SPEC, INT_SPEC
from ir.files import write_atomically
from ir.verify.target import as_target

DEFAULT_OUT = Path("out") / "example"


class ExampleCNN(torch.nn.Module):
    """A small image classifier whose ops all have an INT lowering in the Arm backend.

    It covers the shapes of a mobile network in miniature: a dense 3x3 conv, a
    depthwise 3x3 conv, a residual add, average pooling and a linear head.

    ReLU6 is ``torch.nn.ReLU6`` on purpose: the module exports as ``aten.hardtanh``,
    which the Arm quantizer annotates, while ``torch.nn.functional.relu6`` exports as
    ``aten.relu6`` under torch 2.13, which it leaves unquantized, so that op would fall
    out of the delegate and split the graph in two partitions.
    """

    def __init__(self, num_classes: int = 10, seed: int = 0) -> None:
        super().__init__()
        # A forked RNG keeps the weights, and so the flatbuffers, the same from run to
        # run without touching the caller's global seed.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.stem = torch.nn.Conv2d(3, 8, kernel_size=3, padding=1)
            self.stem_act = torch.nn.ReLU()
            self.depthwise = torch.nn.Conv2d(8, 8, kernel_size=3, padding=1, groups=8)
            self.depthwise_act = torch.nn.ReLU6()
            self.pool = torch.nn.AvgPool2d(kernel_size=2)
            self.global_pool = torch.nn.AdaptiveAvgPool2d(1)
            self.classifier = torch.nn.Linear(8, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem_act(self.stem(x))
        x = x + self.depthwise_act(self.depthwise(x))
        x = self.global_pool(self.pool(x))
        return self.classifier(torch.flatten(x, 1))

    @staticmethod
    def example_inputs(seed: int = 0) -> tuple[torch.Tensor]:
        """See the module-level ``example_inputs``."""
        return example_inputs(seed)


def example_inputs(seed: int = 0) -> tuple[torch.Tensor]:
    """One image-like (1, 3, 32, 32) batch in [0, 1), the same on every call.

    The values are also the calibration data, so a fixed seed keeps the quantization
    parameters, and so the flatbuffers, reproducible. [0, 1) is the range a uint8 image
    input stands for.
    """
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(1, 3, 32, 32, generator=generator),)


def _as_tosa_flatbuffer(blob: bytes, index: int) -> bytes:
    """Return ``blob`` if it is a bare TOSA flatbuffer; fail loudly if it is not.

    TOSABackend returns ``tosa_graph.serialize()`` as the delegate's processed bytes
    with no container around it, so no unwrapping is needed; a backend that changes
    that must show up here, not as a confusing error in ``tosa-opt``.
    """
    from tosa_flatbuffer.schema import FILE_IDENTIFIER

    if blob[4:8] != FILE_IDENTIFIER:
        raise ValueError(
            f"partition {index}: delegate bytes are not a TOSA flatbuffer "
            f"(file identifier {blob[4:8]!r}, expected {FILE_IDENTIFIER!r})"
        )
    return bytes(blob)


def executorch_tosa_flatbuffers(
    model: torch.nn.Module,
    example_inputs: tuple,
    spec: str = INT_SPEC,
    uint8_io: bool = True,
) -> list[bytes]:
    """The TOSA flatbuffer of each partition ExecuTorch's Arm flow delegates, in order.

    An integer ``spec`` (``TOSA-1.0+INT``) quantizes first, with uint8 model IO when
    ``uint8_io``; a float-only ``spec`` (``TOSA-1.0+FP``) lowers the float model and
    ignores ``uint8_io``, which only means something for a quantized graph. The bytes are
    ExecuTorch's own: each partition's reference flatbuffer from ``bridge.capture``.
    """
    # bridge (and ExecuTorch under it) is imported here, not at the top, so that importing
    # this module for ExampleCNN alone (a model file for tosa-ir compile) stays cheap.
    from bridge.capture import quiet
    from bridge.partitioner import tosa_level_partitions

    with quiet():
        uint8_io = uint8_io and _is_integer_spec(spec)
        partitions = tosa_level_partitions(
            model, example_inputs, spec, uint8_io, with_reference=True
        )
    return [
        _as_tosa_flatbuffer(partition.reference_flatbuffer, index)
        for index, partition in enumerate(partitions)
    ]


def _is_integer_spec(spec: str) -> bool:
    """Whether ``spec`` has the INT profile, i.e. whether the model gets quantized."""
    return "PRO-INT" in as_target(spec).profiles


def _count_tosa_ops(module) -> int:
    """Number of ``tosa.*`` operations (constants included) under ``module``."""
    return sum(1 for op in module.walk() if op.name.startswith("tosa."))


def _io_label(spec: str, uint8_io: bool) -> str:
    """How the graph's inputs and outputs are typed, for the review header."""
    if not _is_integer_spec(spec):
        return "float IO"
    return "uint8 IO" if uint8_io else "int8 IO"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m drivers.example",
        description="Compile ExampleCNN through ExecuTorch's Arm flow and the IR: stage "
        "dumps, .tosa, reference model vs torch, Vela, .pte.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "--spec", default=INT_SPEC, help=f"TOSA spec: {INT_SPEC} (default) or {FP_SPEC}"
    )
    parser.add_argument(
        "--no-uint8-io",
        dest="uint8_io",
        action="store_false",
        help="keep int8 model IO instead of uint8 (INT specs only)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """ExampleCNN end to end through ``bridge.Partitioner``: stage dumps and our ``.tosa``
    per partition, the flatbuffer on the reference model against the quantized torch
    model, Vela's placement, the ``.pte``, and on stdout the review dump of the final
    stage with Vela's placement above each op."""
    from bridge.capture import edge_compile_config, io_quantization, quantize_and_export, quiet
    from bridge.partitioner import Partitioner, compile_results
    from runtime.pte import write_pte

    args = _parse_args(argv)
    _clear_stage_dumps(args.out)
    model, inputs = ExampleCNN(), example_inputs()
    uint8_io = args.uint8_io and _is_integer_spec(args.spec)
    with quiet():
        from executorch.exir import to_edge_transform_and_lower

        exported = quantize_and_export(model, inputs, args.spec, uint8_io)
        checks = [example_inputs(seed) for seed in range(1, 4)]
        expected = [exported.module()(*x) for x in checks]
        quantization = io_quantization(exported)
        edge = to_edge_transform_and_lower(
            exported,
            partitioner=[
                Partitioner(
                    args.spec, dump_dir=args.out, pipeline=DEFAULT_PIPELINE, keep_stages=True
                )
            ],
            compile_config=edge_compile_config(),
        )

    label = _io_label(args.spec, uint8_io)
    results = compile_results(edge)  # each delegate's stages and bytes, as in the .pte
    flatbuffers = [r.checked for r in results]  # checked when written: not decoded again
    pte = write_pte(edge, args.out / "example.pte")
    report, placements = _report(flatbuffers, checks, expected, quantization, args.out, pte)
    for index, result in enumerate(results):
        review = _review(
            result, index, f"{type(model).__name__} ({args.spec}, {label})", placements
        )
        write_atomically(args.out / f"{result.name}.review.mlir", review)
        sys.stdout.write(review)
    for line in report:
        print(f"// {line}")
    return 0


def _clear_stage_dumps(out: Path) -> None:
    """Drop an earlier run's stage dumps, so the folder holds this run's stages only (a
    longer earlier pipeline would leave a later-numbered dump behind)."""
    for stale in out.glob("tag*/[0-9][0-9]-*.mlir"):
        stale.unlink()


def _review(result, index: int, what: str, placements: dict) -> str:
    """The final stage of ``result`` (``bridge.compile.CompileResult``) as a reviewer
    reads it: constants elided, locations, Vela's placement above each op (when Vela
    compiled the partition), under a header naming the typed stage's signature (``ui8`` at
    the IO) and each stage's op count."""
    from ir.review import annotate

    typed_main = next(op for op in result.stages[0].module.walk() if op.name == "func.func")
    counts = ", ".join(f"{stage.name} {_count_tosa_ops(stage.module)}" for stage in result.stages)
    header = (
        f"// partition {index} of {what}: final stage of {result.name}/, "
        "Vela's placement above each op\n"
        f"// TOSA ops per stage: {counts}\n"
        f"// typed stage: @{typed_main.sym_name.data} {typed_main.function_type}\n"
    )
    return header + annotate(result.module, placements.get(index, {}))


def _report(
    flatbuffers, checks, expected, quantization, out: Path, pte: Path
) -> tuple[list[str], dict]:
    """What the files do: reference model vs torch, Vela's placement, sizes; and Vela's
    placement per partition index (``ir.review``'s mapping)."""
    from drivers.common import compare_with_torch
    from ir.review import placement_by_name
    from runtime import VelaError, compile_vela
    from tosa_flatbuffer import check_flatbuffer

    lines = [
        f"wrote {out}/: per partition tag<i>/NN-<stage>.mlir, tag<i>.review.mlir, tag<i>.tosa; "
        f"{pte.name} ({pte.stat().st_size} bytes)"
    ]
    if len(flatbuffers) != 1:
        return [
            *lines,
            f"{len(flatbuffers)} partitions: the torch comparison needs the whole model in one",
        ], {}
    (flatbuffer,) = flatbuffers
    flatbuffer = check_flatbuffer(flatbuffer)  # once, for the reference runs and Vela
    expected_tuples = [tuple(e) if isinstance(e, (tuple, list)) else (e,) for e in expected]
    lines.append(
        f"{compare_with_torch(flatbuffer, checks, expected_tuples, quantization)} "
        f"({len(flatbuffer)}-byte .tosa)"
    )
    try:
        vela = compile_vela(flatbuffer)
    except VelaError as err:
        return [*lines, f"Vela: {str(err).splitlines()[0]}"], {}
    lines.extend(vela.summary.format().splitlines())
    return lines, {0: placement_by_name(vela.summary.placement)}


if __name__ == "__main__":
    sys.exit(main())
