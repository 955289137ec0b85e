"""One VGF lowering of a zoo case, ExecuTorch's and ours, shared by every test of a session.

``vgf_run(case_name, key)`` quantizes and exports the case once, then lowers copies of
the same program twice: with ExecuTorch's own ``VgfPartitioner`` (its TOSA flatbuffer
kept through ``dump_intermediate_artifacts_to``) and with our ``Partitioner`` of the same
``VgfCompileSpec``. Per delegate it keeps both ``.vgf`` payloads, both TOSA flatbuffers
the converter read, and the backend ids the ``.pte`` would carry. Needs the model
converter (``runtime.model_converter``).

The configs are those ExecuTorch's VGF flow delegates: INT with int8 IO, VGF's default
spec (INT+FP, int4, int16) with uint8 IO and ``preserve_io_quantization``, and FP.
"""

from __future__ import annotations

import copy
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple
from unittest.mock import patch

from tests.support.zoo import CASES


class VgfConfig(NamedTuple):
    spec: str
    uint8_io: bool
    preserve_io_quantization: bool
    zoo_key: str  # the zoo config of the same model graph: the cases that lower under it


#: ExecuTorch 1.5.1's default VgfCompileSpec
VGF_DEFAULT_SPEC = "TOSA-1.0+FP+INT+int4+int16"

VGF_CONFIGS: dict[str, VgfConfig] = {
    "vgf-int": VgfConfig("TOSA-1.0+INT", False, False, "int"),
    "vgf-uint8-io": VgfConfig(VGF_DEFAULT_SPEC, True, True, "int-uint8-io"),
    "vgf-fp": VgfConfig("TOSA-1.0+FP", False, False, "fp"),
}


#: (case, VGF config) that ExecuTorch 1.5.1 does not lower, VgfPartitioner and
#: TOSAPartitioner of the same spec alike: the LSTM with uint8 IO on INT+FP fails in its
#: passes ("quantize_per_tensor ... Expecting input to have dtype torch.float32, but got
#: dtype: torch.int8"), preserve_io_quantization or not
NOT_LOWERED_BY_EXECUTORCH = {("lstm", "vgf-uint8-io")}


def vgf_case_configs() -> list[tuple[str, str]]:
    """(case, VGF config) for every zoo case whose zoo config lowers the same graph and
    that ExecuTorch's VGF flow delegates."""
    return [
        (case.name, key)
        for case in CASES.values()
        for key, config in VGF_CONFIGS.items()
        if config.zoo_key in case.configs and (case.name, key) not in NOT_LOWERED_BY_EXECUTORCH
    ]


@dataclass
class VgfDelegate:
    ours_vgf: bytes
    theirs_vgf: bytes
    ours_tosa: bytes
    theirs_tosa: bytes
    ours_runtime_id: str
    theirs_runtime_id: str


@dataclass
class VgfRun:
    name: str
    key: str
    delegates: list[VgfDelegate]


def _compile_spec(config: VgfConfig):
    from executorch.backends.arm.vgf import VgfCompileSpec

    compile_spec = VgfCompileSpec(config.spec)
    if config.preserve_io_quantization:
        compile_spec._set_preserve_io_quantization(True)
    return compile_spec


@cache
def vgf_run(case_name: str, key: str) -> VgfRun:
    """Both lowerings of the case under the VGF config; cached: one export per session."""
    from bridge.capture import edge_compile_config, quantize_and_export, quiet
    from bridge.partitioner import Partitioner, compile_results

    with quiet():
        from executorch.backends.arm.tosa.backend import arm_get_first_delegation_tag
        from executorch.backends.arm.vgf import VgfPartitioner
        from executorch.exir import to_edge_transform_and_lower

    from runtime.model_converter import PATH_VARIABLE, find_executable
    from runtime.pte import RUNTIME_BACKEND_IDS, delegates

    case, config = CASES[case_name], VGF_CONFIGS[key]
    with quiet():
        exported = quantize_and_export(
            case.factory(), case.inputs_factory(), config.spec, config.uint8_io
        )
        # ExecuTorch's VGF backend runs the converter we run: it looks only at
        # $MODEL_CONVERTER_PATH and PATH, where the pinned wheel's folder need not be
        converter = {PATH_VARIABLE: str(find_executable())}
        with tempfile.TemporaryDirectory() as artifacts, patch.dict(os.environ, converter):
            theirs_spec = _compile_spec(config).dump_intermediate_artifacts_to(artifacts)
            theirs = to_edge_transform_and_lower(
                copy.deepcopy(exported),
                partitioner=[VgfPartitioner(theirs_spec)],
                compile_config=edge_compile_config(),
            )
            theirs_delegates = delegates(theirs)
            theirs_tosa = [
                (
                    Path(artifacts)
                    / f"output_{arm_get_first_delegation_tag(d.original_module.graph_module)}"
                    f"_{config.spec}.tosa"
                ).read_bytes()
                for d in theirs_delegates
            ]
        ours = to_edge_transform_and_lower(
            copy.deepcopy(exported),
            partitioner=[Partitioner(_compile_spec(config))],
            compile_config=edge_compile_config(),
        )
        ours_delegates = delegates(ours)
        results = compile_results(ours)
    assert len(ours_delegates) == len(theirs_delegates) == len(results), case_name
    return VgfRun(
        case_name,
        key,
        [
            VgfDelegate(
                bytes(o.processed_bytes),
                bytes(t.processed_bytes),
                result.flatbuffer,
                tosa,
                RUNTIME_BACKEND_IDS.get(o.backend_id, o.backend_id),
                t.backend_id,
            )
            for o, t, result, tosa in zip(ours_delegates, theirs_delegates, results, theirs_tosa)
        ],
    )
