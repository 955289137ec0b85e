"""ExecuTorch's own Arm tests pass on our bytes: a fixed sample of its installed suite.

``tests/bridge/et_suite_sample.txt`` lists ids of ``executorch/backends/arm/test`` that pass stock
(checked when the sample was chosen; the whole-suite comparison is ``make et-suite``).
They run in one pytest process with ``tools.et_suite.plugin`` in place of
``TOSABackend._preprocess`` and ``--tosa-ir-compare``: every test must pass with our
serializer, our step must really have run (a swap that never happens passes everything),
and every partition's graph must be ExecuTorch's (``tosa_flatbuffer.compare``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.et_suite.runner import load, read_ids, run_mode

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).with_name("et_suite_sample.txt")


@pytest.fixture(scope="module")
def swapped(tmp_path_factory):
    ids = read_ids(SAMPLE)
    run_dir = tmp_path_factory.mktemp("et_suite")
    report = run_mode("ir", ids, run_dir, workers=1, timeout=600, compare=True)
    return ids, load(report), run_dir


def test_the_sample_is_read_and_run(swapped):
    ids, records, run_dir = swapped
    assert len(ids) >= 15
    missing = [i for i in ids if i not in records]
    assert not missing, f"not run (see {run_dir / 'ir.log'}): {missing}"


def test_every_sampled_test_passes_with_our_serializer(swapped):
    ids, records, _ = swapped
    failed = {
        i: records[i]["reason"] or records[i]["outcome"]
        for i in ids
        if records[i]["outcome"] != "passed"
    }
    assert not failed, "\n".join(f"{i}: {why}" for i, why in failed.items())


def test_our_step_ran_and_wrote_executorchs_graph(swapped):
    ids, records, _ = swapped
    unswapped = [i for i in ids if records[i]["calls"] == 0]
    assert not unswapped, f"passed without TOSABackend._preprocess being called: {unswapped}"
    differing = {i: d for i in ids for d in records[i]["differences"] if d}
    assert not differing, "\n".join(f"{i}: {d}" for i, d in differing.items())
    compared = sum(len(records[i]["differences"]) for i in ids)
    assert compared >= sum(records[i]["calls"] for i in ids) > 0
