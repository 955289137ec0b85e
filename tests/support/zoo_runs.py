"""One capture of a zoo case under a config, shared by every test file of a session.

Exporting through ExecuTorch is what costs (about 210 s for the whole zoo), so
``capture(case_name, key)`` runs it once per session and hands the same ``ZooRun`` to
whoever asks: ``test_zoo``'s fixture and ``test_verify_faults``' fault injection alike,
whatever order pytest runs them in. Consumers must not mutate what they get: they clone a
module before changing it.

``executorch_modules(case_name, key)`` is tosa-opt's reading of ExecuTorch's own
flatbuffers (``--tosa-deserialize``), cached the same way, so a test file that compares
against it and one that verifies it share one tosa-opt call per partition.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

import ir
from tests.support.zoo import CASES, CONFIGS

RANDOM_INPUTS = 3


@dataclass
class Partition:
    typed: ir.ModuleOp
    signless: ir.ModuleOp
    ours: bytes
    theirs: bytes
    #: ``compile_partition``'s final module (the default pipeline; the import makes one
    #: operand constant per value, ``fx_to_ir(unique_constants=True)``)
    compiled: ir.ModuleOp


@dataclass
class ZooRun:
    name: str
    key: str
    partitions: list[Partition]
    model_inputs: list[tuple[torch.Tensor, ...]]
    torch_outputs: list[tuple[torch.Tensor, ...]]
    io_qparams: tuple[list, list] | None  # (inputs, outputs) quantize args, INT only


def _perturbed(inputs: tuple[torch.Tensor, ...], seed: int) -> tuple[torch.Tensor, ...]:
    """The example inputs plus noise: new values in the range the model was calibrated on."""
    generator = torch.Generator().manual_seed(seed)
    return tuple(x + 0.25 * x.std() * torch.randn(x.shape, generator=generator) for x in inputs)


def _as_tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


@cache
def capture(case_name: str, key: str) -> ZooRun:
    """ExecuTorch quantizes, exports and partitions the case; per partition our typed and
    signless modules, our flatbuffer and ExecuTorch's. Cached: one export per session."""
    from bridge.capture import io_quantization, quantize_and_export, quiet
    from bridge.compile import compile_partition
    from bridge.fx_import import fx_to_ir
    from bridge.partitioner import tosa_level_partitions
    from ir.lowering.signless import to_signless
    from tosa_flatbuffer import to_flatbuffer

    case, config = CASES[case_name], CONFIGS[key]
    model, example = case.factory(), case.inputs_factory()
    model_inputs = [_perturbed(example, seed) for seed in range(RANDOM_INPUTS)]
    with quiet():
        exported = quantize_and_export(
            model, example, config.spec, config.uint8_io, quantization=config.quantization
        )
        module = exported.module()
        torch_outputs = [
            tuple(torch.atleast_1d(o) for o in _as_tuple(module(*x))) for x in model_inputs
        ]
        io_qparams = io_quantization(exported) if "INT" in config.spec else None
        captured = tosa_level_partitions(
            exported,
            None,
            config.spec,
            config.uint8_io,
            quantization=config.quantization,
            with_reference=True,
        )
    partitions = []
    for p in captured:
        typed = fx_to_ir(p.graph_module, p.exported_program, spec=config.spec)
        signless = to_signless(typed.clone())
        compiled = compile_partition(p.graph_module, p.exported_program, config.spec).module
        partitions.append(
            Partition(typed, signless, to_flatbuffer(signless), p.reference_flatbuffer, compiled)
        )
    return ZooRun(case.name, key, partitions, model_inputs, torch_outputs, io_qparams)


@cache
def executorch_texts(case_name: str, key: str) -> tuple[str, ...]:
    """MLIR text of ExecuTorch's flatbuffer of each partition, by tosa-opt's deserializer.
    Text, not modules: each caller parses its own copy, so none can alter another's."""
    from ir.mlir_tools import deserialize_with_tosa_opt

    texts = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, p in enumerate(capture(case_name, key).partitions):
            fb_path = Path(tmp) / f"p{index}.tosa"
            fb_path.write_bytes(p.theirs)
            texts.append(deserialize_with_tosa_opt(fb_path, Path(tmp) / f"p{index}.mlir"))
    return tuple(texts)


@cache
def debug_capture(case_name: str, key: str):
    """``drivers.debug.capture`` of the case under the config (the final stage of each
    partition plus both torch programs), once per session; ``drivers.debug.evaluate``
    compares it, or a corrupted module in place of its first partition, cheaply."""
    from drivers.debug import capture as debug_capture_of

    case, config = CASES[case_name], CONFIGS[key]
    return debug_capture_of(
        case.factory(),
        case.inputs_factory(),
        spec=config.spec,
        uint8_io=config.uint8_io,
        quantization=config.quantization,
    )


__all__ = ["RANDOM_INPUTS", "Partition", "ZooRun", "capture", "debug_capture", "executorch_texts"]
