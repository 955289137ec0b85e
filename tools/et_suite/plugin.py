"""A pytest plugin that runs ExecuTorch's own Arm test suite with our serializer swapped in.

Load it with ``-p tools.et_suite.plugin`` on a pytest run over the installed package's
``executorch/backends/arm/test`` files. ``--tosa-ir=ir`` (or ``ir-canonical``) replaces
exactly one step of ExecuTorch's flow: ``TOSABackend._preprocess``, the function that
runs ArmPassManager and then the node visitors + serializer. Ours runs the same
ArmPassManager on the same partition and hands back the bytes of our IR path
(``bridge.partitioner.compile_edge_program``). ExecuTorch's quantizer, partitioner, its
Ethos-U/VGF steps (which call ``TOSABackend._preprocess`` too) and its numerical checks
stay theirs. ``--tosa-ir=stock`` leaves ExecuTorch alone but counts the same calls, so
the two runs are reported alike.

Why a plugin and not a patch in a conftest: ExecuTorch's ``TOSAPipeline`` silently skips
its reference-model comparison when ``tosa_reference_model`` cannot be imported, and a
swap that never happens passes every test. So this plugin refuses to start without the
reference model, counts the ``_preprocess`` calls of each test (``tosa_ir_calls`` in the
report), and writes one JSON line per test (``--tosa-ir-report FILE``): id, outcome,
calls, duration, and the one-line reason of a failure.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from ir.defaults import DEFAULT_PIPELINE, EXECUTORCH_PIPELINE

MODES = ("stock", "ir", "ir-canonical")
PIPELINES = {
    "ir": EXECUTORCH_PIPELINE,
    "ir-canonical": DEFAULT_PIPELINE,
}

_calls = 0
#: per swapped call of the running test, with --tosa-ir-compare: "" (same graph) or the
#: first difference from ExecuTorch's
_differences: list[str] = []
#: the pytest config (one per process), for the report hook
_CONFIG: dict = {}


def pytest_addoption(parser) -> None:
    group = parser.getgroup("tosa-ir", "ExecuTorch's Arm suite with tosa-ir's serializer")
    group.addoption(
        "--tosa-ir",
        choices=MODES,
        default="ir",
        help="stock: ExecuTorch's serializer; ir: ours (ExecuTorch's bytes); "
        "ir-canonical: ours with canonicalize",
    )
    group.addoption("--tosa-ir-report", metavar="FILE", help="one JSON line per test")
    group.addoption(
        "--tosa-ir-compare",
        action="store_true",
        help="also run ExecuTorch's serializer on a copy of each partition and record where "
        "its graph differs from ours (tosa_flatbuffer.compare)",
    )


def pytest_configure(config) -> None:
    try:
        import tosa_reference_model  # noqa: F401
    except ImportError as error:
        raise pytest.UsageError(
            f"tosa_reference_model cannot be imported ({error}): ExecuTorch's pipelines "
            "would silently skip their numerical comparison; install tosa-tools"
        ) from error
    _CONFIG["config"] = config
    _install(config.getoption("--tosa-ir"), config.getoption("--tosa-ir-compare"))
    report = config.getoption("--tosa-ir-report")
    if report and not hasattr(config, "workerinput"):
        config._tosa_ir_report = open(report, "a", encoding="utf-8")  # noqa: SIM115


def pytest_unconfigure(config) -> None:
    report = getattr(config, "_tosa_ir_report", None)
    if report is not None:
        report.close()


def _install(mode: str, compare: bool) -> None:
    """Wrap ``TOSABackend._preprocess``: count every call; in an ``ir`` mode, answer with
    our bytes (and, with ``compare``, note where ExecuTorch's graph differs)."""
    from bridge.capture import quiet

    with quiet():
        from executorch.backends.arm.tosa.backend import TOSABackend
        from executorch.exir.backend.backend_details import PreprocessResult

    stock = TOSABackend._preprocess
    pipeline = PIPELINES.get(mode)

    def counted(edge_program, compile_spec):
        global _calls
        _calls += 1
        if pipeline is None:
            return stock(edge_program, compile_spec)
        theirs = None
        if compare:  # before ours: the pass pipeline rewrites the program in place
            try:
                theirs = bytes(stock(copy.deepcopy(edge_program), compile_spec).processed_bytes)
            except Exception as error:
                _differences.append(
                    f"ExecuTorch's serializer failed: {type(error).__name__}: {error}"[:300]
                )
        ours = _ours(edge_program, compile_spec, pipeline)
        if theirs is not None:
            from tosa_flatbuffer.compare import first_difference

            _differences.append(first_difference(ours, theirs) or "")
        return PreprocessResult(processed_bytes=ours)

    TOSABackend._preprocess = staticmethod(counted)


def _ours(edge_program, compile_spec, pipeline: str) -> bytes:
    """Our bytes for the partition, with ExecuTorch's debug dump where it would write one
    (some tests read the ``.tosa`` back from the intermediate path)."""
    from executorch.backends.arm.common.debug import debug_tosa_dump
    from executorch.backends.arm.tosa.backend import arm_get_first_delegation_tag

    from bridge.partitioner import compile_edge_program

    binary = compile_edge_program(edge_program, compile_spec, pipeline=pipeline).flatbuffer
    artifact_path = compile_spec._get_intermediate_path()
    if artifact_path:
        tag = arm_get_first_delegation_tag(edge_program.graph_module)
        suffix = (f"_{tag}" if tag else "") + f"_{compile_spec.tosa_spec}"
        debug_tosa_dump(binary, artifact_path, suffix=suffix)
    return binary


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    global _calls
    _calls = 0
    _differences.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.user_properties.append(("tosa_ir_calls", _calls))
    report.user_properties.append(("tosa_ir_differences", list(_differences)))


def pytest_runtest_logreport(report) -> None:
    config = _CONFIG.get("config")
    sink = getattr(config, "_tosa_ir_report", None) if config is not None else None
    if sink is None:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        sink.write(json.dumps(_record(report)) + "\n")
        sink.flush()


def _record(report) -> dict:
    """One test's line: what happened, how often our step ran, and why it failed."""
    properties = dict(report.user_properties)
    calls = properties.get("tosa_ir_calls", 0)
    outcome = report.outcome
    if outcome == "skipped" and hasattr(report, "wasxfail"):
        outcome = "xfailed"
    elif outcome == "passed" and hasattr(report, "wasxfail"):
        outcome = "xpassed"
    return {
        "id": report.nodeid,
        "outcome": outcome,
        "calls": calls,
        "seconds": round(report.duration, 3),
        "reason": _reason(report) if outcome in ("failed", "skipped", "xfailed") else "",
        "differences": properties.get("tosa_ir_differences", []),
    }


def _reason(report) -> str:
    """The failure's one line: the exception message pytest shows as the crash line."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (file, line, message)
        return str(longrepr[2])
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        lines = (crash.message or "").splitlines()
        # a VerificationError says "N violations of SPEC:" first; its first diagnostic
        # (the line with "error:") is the reason
        detail = next((line.strip() for line in lines[1:] if "error:" in line), "")
        return " ".join(filter(None, [*lines[:1], detail]))[:500]
    text = str(longrepr or "").strip().splitlines()
    return text[-1][:400] if text else ""


def venv_bin() -> str:
    """The folder of this Python's console scripts (flatc, tosa-opt): ExecuTorch's tests
    look tools up on PATH."""
    import sysconfig

    return sysconfig.get_path("scripts")


def env_with_tools() -> dict:
    env = dict(os.environ)
    env["PATH"] = venv_bin() + os.pathsep + env.get("PATH", "")
    return env


def suite_root() -> Path:
    """The installed ExecuTorch Arm test suite."""
    import importlib.util

    spec = importlib.util.find_spec("executorch")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("executorch is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "backends" / "arm" / "test"
