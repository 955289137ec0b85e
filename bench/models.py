"""The real models of the bench, each quantized, exported and captured once per run.

MobileNetV2-224 (``bench.mobilenet_v2``) under INT with uint8 IO and under FP, and two
zoo models (``tests.support.zoo``: the single-head attention and the unrolled LSTM, the zoo's
largest graphs). ``capture`` runs ExecuTorch's quantizer, partitioner and ArmPassManager
through ``bridge.capture`` and keeps ExecuTorch's own flatbuffer of each partition
(``with_reference``), the check that the bench times the same serializer output that
``TOSABackend.preprocess`` gives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from bench import mobilenet_v2


@dataclass(frozen=True)
class Model:
    name: str
    spec: str
    uint8_io: bool
    factory: Callable
    inputs: Callable


def _zoo(name: str, key: str) -> Model:
    from tests.support.zoo import CASES, CONFIGS

    case, config = CASES[name], CONFIGS[key]
    return Model(f"{name} {key}", config.spec, config.uint8_io, case.factory, case.inputs_factory)


def models(quick: bool = False) -> list[Model]:
    """The four models in the order of the report; ``quick`` keeps MobileNetV2 INT only
    plus the attention model."""
    mv2 = mobilenet_v2.mobilenet_v2, mobilenet_v2.example_inputs
    chosen = [
        Model("MobileNetV2 int-uint8-io", "TOSA-1.0+INT", True, *mv2),
        Model("MobileNetV2 fp", "TOSA-1.0+FP", False, *mv2),
        _zoo("attention", "int-uint8-io"),
        _zoo("lstm", "int-uint8-io"),
    ]
    return [chosen[0], chosen[2]] if quick else chosen


@dataclass
class Captured:
    model: Model
    partitions: list  # bridge.capture.TosaLevelPartition, reference_flatbuffer set
    seconds: float  # quantize + export + partition + ArmPassManager (+ the reference)


@cache
def capture(model: Model) -> Captured:
    """The model's TOSA-level partitions, once per process."""
    from bridge.capture import quiet
    from bridge.partitioner import tosa_level_partitions

    start = time.perf_counter()
    with quiet():
        partitions = tosa_level_partitions(
            model.factory(), model.inputs(), model.spec, model.uint8_io, with_reference=True
        )
    return Captured(model, partitions, time.perf_counter() - start)
