"""The IR in Model Explorer: the adapter's graph, the overlays, ``tosa-ir view`` in a browser.

- the graph of a module has one node per TOSA operator (constants included) plus
  ``GraphInputs``/``GraphOutputs``, an edge per use, the op's FX node and source line;
  ``cond_if``/``while_loop`` regions are nested groups;
- its layers are the model's modules from the ``<partition>.modules.json`` that
  ``tosa-ir compile`` writes (the source lines without one);
- ``tosa-ir compile`` writes Vela's placement and cycles next to the dumps as Model
  Explorer node data, keyed by tensor name;
- in Debian's Chromium, driven by Playwright: ``tosa-ir view`` on the example's canonical
  stage shows as many op nodes as the module has, a node's FX node and source line, and
  its Vela cycles from the overlay and its layer (``stem``); a screenshot lands in ``out/test-artifacts/``;
- the running server's adapter also reads ExecuTorch's own ``.tosa`` of the model and a
  file ``tosa-opt`` wrote.

The browser is Debian's ``chromium`` (``make browser`` installs it); a missing one fails
the test, it does not skip it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from drivers import cli
from drivers.explorer.graph import (
    GRAPH_INPUTS,
    GRAPH_OUTPUTS,
    ModelFileError,
    file_graphs,
    module_graphs,
    read_model,
    tosa_op_count,
)
from drivers.explorer.main import ADAPTER_ID
from drivers.explorer.modules import find_modules_file
from drivers.explorer.overlays import find_overlays
from ir.mlir_tools import deserialize_with_tosa_opt
from tests.support.op_cases import build_case_module

pytestmark = pytest.mark.slow

EXAMPLE = "drivers/example.py:ExampleCNN"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "out" / "test-artifacts"
IO_NODES = {GRAPH_INPUTS, GRAPH_OUTPUTS}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Path:
    """``tosa-ir compile drivers/example.py:ExampleCNN --uint8-io --out DIR``."""
    out = tmp_path_factory.mktemp("explorer")
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        assert cli.main(["compile", EXAMPLE, "--uint8-io", "--out", str(out)]) == 0
    finally:
        os.chdir(cwd)
    return out


def _op_nodes(graph: dict) -> list[dict]:
    return [n for n in graph["nodes"] if n["id"] not in IO_NODES]


def _attrs(node: dict) -> dict[str, str]:
    return {a["key"]: a["value"] for a in node["attrs"]}


# ----------------------------------------------------------------------------- the graph


def test_graph_has_a_node_per_tosa_op_with_its_provenance(compiled):
    module = read_model(compiled / "tag0" / "02-canonicalize.mlir")
    (graph,) = module_graphs(module)["graphs"]
    ops = [op for op in module.walk() if op.name.startswith("tosa.")]
    nodes = _op_nodes(graph)
    assert graph["id"] == "main"
    assert len(nodes) == len(ops) == tosa_op_count(module) == 41
    assert [n["label"] for n in nodes] == [op.name.removeprefix("tosa.") for op in ops]
    conv = next(n for n in nodes if n["label"] == "conv2d")
    attrs = _attrs(conv)
    assert attrs["fx_node"] == "tosa_conv2d_default"
    assert attrs["source"] == "drivers/example.py:59"
    assert attrs["stride"] == "array<i64: 1, 1>"
    assert conv["namespace"] == "example.py:59"
    # input, weight, bias, input_zp, weight_zp: each an edge, weight from a constant node
    tags = [m["attrs"][0]["value"] for m in conv["inputsMetadata"]]
    assert tags == ["input", "weight", "bias", "input_zp", "weight_zp"]
    by_id = {n["id"]: n for n in graph["nodes"]}
    weight = by_id[conv["incomingEdges"][1]["sourceNodeId"]]
    assert weight["label"] == "const"
    shape = {a["key"]: a["value"] for a in weight["outputsMetadata"][0]["attrs"]}
    assert shape["tensor_shape"] == "tensor<8x3x3x3xi8>"
    assert shape["values"].startswith("dense_resource<sha256_")
    # every use of a value is an edge: operands of the ops plus the returned values
    uses = sum(len(op.operands) for op in ops) + 1
    assert sum(len(n["incomingEdges"]) for n in graph["nodes"]) == uses


def test_control_flow_regions_are_nested_groups():
    (graph,) = module_graphs(build_case_module("COND_IF"))["graphs"]
    nodes = {n["label"]: n for n in _op_nodes(graph)}
    cond = nodes["cond_if"]
    assert cond["namespace"] == f"cond_if_{cond['id']}"
    assert nodes["add"]["namespace"] == f"{cond['namespace']}/then"
    assert nodes["sub"]["namespace"] == f"{cond['namespace']}/else"
    # a region's block arguments are the op's inputs: the function's arguments 1 and 2
    assert [
        (e["sourceNodeId"], e["sourceNodeOutputId"]) for e in nodes["add"]["incomingEdges"]
    ] == [
        (GRAPH_INPUTS, "1"),
        (GRAPH_INPUTS, "2"),
    ]
    # what each branch yields flows into the cond_if node, after its own operands
    sources = [e["sourceNodeId"] for e in cond["incomingEdges"]]
    assert sources == [GRAPH_INPUTS] * 3 + [nodes["add"]["id"], nodes["sub"]["id"]]

    (loop,) = module_graphs(build_case_module("WHILE_LOOP"))["graphs"]
    groups = {n["label"]: n["namespace"] for n in _op_nodes(loop)}
    assert groups == {
        "while_loop": "while_loop_0",
        "const": "while_loop_0/cond",
        "greater": "while_loop_0/cond",
        "add": "while_loop_0/body",
    }


def test_layers_are_the_models_modules(compiled, tmp_path):
    from bridge.provenance import module_path
    from drivers.example import ExampleCNN

    stage = compiled / "tag0" / "02-canonicalize.mlir"
    modules = compiled / "tag0.modules.json"
    assert find_modules_file(stage) == find_modules_file(compiled / "tag0.tosa") == modules
    assert find_modules_file(compiled / "tag0.review.mlir") == modules
    (graph,) = file_graphs(stage)["graphs"]
    groups: dict[str, list[str]] = {}
    for node in _op_nodes(graph):
        groups.setdefault(node["label"], []).append(node["namespace"])
    # in graph order: the stem's conv, then the depthwise one, then the classifier (a 1x1 conv)
    assert groups["conv2d"] == ["stem", "classifier"]
    assert groups["depthwise_conv2d"] == ["depthwise"]
    assert groups["avg_pool2d"] == ["pool", "global_pool"]
    assert groups["reshape"] == ["classifier"]
    # the root module's own forward (the residual add) keeps its source line
    assert groups["add"] == ["example.py:60"]
    layers = {n["namespace"] for n in _op_nodes(graph)} - {"", "example.py:60"}
    assert layers == {"stem", "depthwise", "pool", "global_pool", "classifier"}
    assert layers <= {name for name, _ in ExampleCNN().named_modules()}
    # the weights join their conv's module; the same groups from the .tosa
    by_id = {n["id"]: n for n in graph["nodes"]}
    stem_conv = next(n for n in _op_nodes(graph) if n["label"] == "conv2d")
    assert by_id[stem_conv["incomingEdges"][1]["sourceNodeId"]]["namespace"] == "stem"
    (flat,) = file_graphs(compiled / "tag0.tosa")["graphs"]
    assert [n["namespace"] for n in flat["nodes"]] == [n["namespace"] for n in graph["nodes"]]
    # elsewhere, no file beside it: source lines, or the file given explicitly
    alone = tmp_path / "alone.mlir"
    alone.write_text(stage.read_text())
    (by_line,) = file_graphs(alone)["graphs"]
    assert (
        next(n for n in _op_nodes(by_line) if n["label"] == "conv2d")["namespace"]
        == "example.py:59"
    )
    (given,) = file_graphs(alone, modules)["graphs"]
    assert [n["namespace"] for n in given["nodes"]] == [n["namespace"] for n in graph["nodes"]]
    from drivers.explorer.main import TosaIrAdapter, use_modules_file

    use_modules_file(alone, modules)  # what tosa-ir view --modules tells the adapter
    (served,) = TosaIrAdapter().convert(str(alone), {})["graphs"]
    assert [n.namespace for n in served.nodes] == [n["namespace"] for n in graph["nodes"]]
    # nested modules and Dynamo's spellings of the path
    stack = {
        "": ("", "Net"),
        "f": ("features", "Sequential"),
        "f3": ("features.3", "Block"),
        "f3c0": ("features.3.conv.0", "Conv2d"),
    }
    assert module_path({"nn_module_stack": stack}) == "features/3/conv/0"
    assert (
        module_path({"nn_module_stack": {"x": ("L['self'].features[3].conv[0]", "Conv2d")}})
        == "features/3/conv/0"
    )
    assert (
        module_path({"nn_module_stack": {"x": ("getattr(L['self'].features, '3').conv", "Conv2d")}})
        == "features/3/conv"
    )
    assert module_path({"nn_module_stack": {"x": ("L['self']", "Net")}}) == module_path({}) == ""


def test_a_bad_modules_file_is_one_line(compiled, tmp_path):
    stage = compiled / "tag0" / "02-canonicalize.mlir"
    bad = tmp_path / "bad.modules.json"
    bad.write_text('{"tosa_conv2d_default": 3}\n')
    with pytest.raises(ModelFileError, match=r"bad\.modules\.json: error: not a modules file"):
        file_graphs(stage, bad)
    bad.write_text("{nope\n")
    with pytest.raises(ModelFileError, match=r"bad\.modules\.json:1:2: error: not JSON"):
        file_graphs(stage, bad)
    assert cli.main(["view", str(stage), "--modules", str(bad), "--no-browser"]) == 2
    assert (
        cli.main(["view", str(stage), "--modules", str(tmp_path / "missing.json"), "--no-browser"])
        == 2
    )


def test_bad_files_are_one_line(tmp_path):
    bad = tmp_path / "bad.mlir"
    bad.write_text("module {\n  %0 = tosa.add %a\n}\n")
    with pytest.raises(ModelFileError) as err:
        read_model(bad)
    assert (
        re.match(r".*bad\.mlir:\d+:\d+: error: ", str(err.value))
        and "\n" not in str(err.value).strip()
    )
    junk = tmp_path / "junk.tosa"
    junk.write_bytes(b"not a flatbuffer")
    with pytest.raises(ModelFileError, match=r"junk\.tosa: error: "):
        read_model(junk)
    assert cli.main(["view", str(tmp_path / "missing.mlir"), "--no-browser"]) == 2


# ----------------------------------------------------------------------------- overlays


def test_compile_writes_placement_and_cycles_overlays(compiled):
    vela = (compiled / "tag0.vela.txt").read_text()
    found = find_overlays(compiled / "tag0" / "02-canonicalize.mlir")
    assert sorted(found) == ["cycles", "placement"]
    assert (
        found
        == find_overlays(compiled / "tag0.tosa")
        == find_overlays(compiled / "tag0.review.mlir")
    )
    cycles = json.loads(found["cycles"].read_text())["main"]["results"]
    placement = json.loads(found["placement"].read_text())["main"]["results"]
    # Vela's summary table: "  12  CONV2D  tosa_conv2d_default  NPU  9978"
    rows = re.findall(r"^\s+\d+\s+\w+\s+(\S+)\s+(NPU|CPU)\s+(\d+|-)$", vela, re.MULTILINE)
    assert rows
    assert {name: {"value": int(c)} for name, _, c in rows if c != "-"} == cycles
    assert {name: target for name, target, _ in rows} == {
        k: v["value"] for k, v in placement.items()
    }
    # every key names a node of the canonical stage's graph
    (graph,) = module_graphs(read_model(compiled / "tag0" / "02-canonicalize.mlir"))["graphs"]
    names = {
        a["value"]
        for n in graph["nodes"]
        for m in n.get("outputsMetadata", [])
        for a in m["attrs"]
        if a["key"] == "tensor_name"
    }
    assert set(placement) <= names


def test_debug_error_overlay_leaves_out_proxies_and_keeps_units(compiled, tmp_path):
    from drivers.debug import Row
    from drivers.explorer.overlays import error_values, write_debug_overlays

    def row(i, name, partition=0, **figures):
        return Row(i, partition, "rescale", name, name, None, "quantize", **figures)

    rows = [
        row(0, "tosa_conv2d_default", proxy_of=1, max_lsb=3.0, within_1lsb=0.5),  # repeats row 1
        row(1, "tosa_rescale_default_1", max_lsb=3.0, within_1lsb=0.5),
        row(2, "tosa_add_default", max_lsb=0.0, within_1lsb=1.0),
        row(3, "tosa_reshape_default", note="no torch counterpart"),  # not compared
        row(4, "other_partition", partition=1, max_lsb=9.0, within_1lsb=0.0),
    ]
    assert error_values(rows, 0) == (
        {"tosa_rescale_default_1": 3.0, "tosa_add_default": 0.0},
        "LSB",
    )
    floats = [row(0, "x", max_abs=0.5, rel_err=0.01, snr_db=30.0)]
    assert error_values(floats, 0) == ({"x": 0.01}, "relative")

    class Report:  # what tosa-ir debug hands over: rows, the modules that ran, their names
        names = ["tag0"]
        modules = [read_model(compiled / "tag0" / "02-canonicalize.mlir")]

    Report.rows = rows
    (path,) = write_debug_overlays(tmp_path, Report)
    assert path == tmp_path / "tag0.error.json"
    data = json.loads(path.read_text())["main"]
    assert data["results"] == {
        "tosa_rescale_default_1": {"value": 3.0},
        "tosa_add_default": {"value": 0.0},
    }
    assert [t["value"] for t in data["thresholds"]][:2] == [0, 1]


# ----------------------------------------------------------------------------- in a browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def viewer(compiled):
    """``tosa-ir view <canonical stage> --overlay cycles --no-browser``, as a user starts
    it; yields (URL, seconds to the URL); stopped at the end."""
    model = compiled / "tag0" / "02-canonicalize.mlir"
    command = [
        sys.executable,
        "-m",
        "drivers.cli",
        "view",
        str(model),
        "--overlay",
        "cycles",
        "--no-browser",
        "--port",
        str(_free_port()),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    start = time.monotonic()
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        url, seen = None, []
        while url is None and time.monotonic() - start < 60:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith("http://"):
                url = line.strip()
        assert url, f"tosa-ir view printed no URL:\n{''.join(seen)}"
        yield url, time.monotonic() - start
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _chromium() -> str:
    found = shutil.which("chromium")
    assert found, (
        "Debian's chromium is not installed: run `make browser` (apt-get install chromium)"
    )
    return found


_SIDE_PANEL = """() => Object.fromEntries([...document.querySelectorAll('table.metadata-table tr')]
    .map(tr => [tr.querySelector('td.key'), tr.querySelector('td.value')])
    .filter(([k, v]) => k && v)
    .map(([k, v]) => [k.innerText.trim(), (v.querySelector('.one-line-text') || v).innerText.trim()]))"""


def test_model_explorer_shows_the_canonical_stage(compiled, viewer):
    from playwright.sync_api import sync_playwright

    url, started = viewer
    module = read_model(compiled / "tag0" / "02-canonicalize.mlir")
    cycles = json.loads((compiled / "tag0.cycles.json").read_text())["main"]["results"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            begin = time.monotonic()
            page.goto(url)
            page.get_by_text("op node count").wait_for(timeout=30_000)
            loaded = time.monotonic() - begin
            # GRAPH INFO counts op nodes: the module's TOSA ops and GraphInputs/GraphOutputs
            info = page.evaluate(_SIDE_PANEL)
            assert int(info["op node count"]) == tosa_op_count(module) + len(IO_NODES)
            # select the first conv2d through the search box (Alt+click selects)
            page.get_by_placeholder("Search nodes/layers by regex").fill("tosa_conv2d_default$")
            results = page.locator(".search-results-container")
            results.get_by_text("conv2d", exact=True).first.click(modifiers=["Alt"])
            page.get_by_text("op name", exact=True).wait_for(timeout=10_000)
            page.wait_for_timeout(500)
            panel = page.evaluate(_SIDE_PANEL)
            page.screenshot(path=str(ARTIFACTS / "model-explorer.png"))
        finally:
            browser.close()
    assert panel["op name"] == "conv2d"
    assert panel["fx_node"] == "tosa_conv2d_default"
    assert panel["source"] == "drivers/example.py:59"
    # its layer is its module, from tag0.modules.json beside the stage
    assert panel["namespace"] == "stem"
    # the cycles overlay's value on the node, as Vela gave it
    overlay = next(v for k, v in panel.items() if k.endswith("Vela cycles"))
    assert int(overlay) == cycles["tosa_conv2d_default"]["value"]
    print(f"tosa-ir view: URL after {started:.1f} s; graph shown {loaded:.1f} s after goto")


def _convert(url: str, path: Path) -> dict:
    """The running server's adapter on ``path``, as the web app asks for it."""
    command = {
        "extensionId": ADAPTER_ID,
        "cmdId": "convert",
        "modelPath": str(path),
        "settings": {},
        "deleteAfterConversion": False,
    }
    base = url.split("/?")[0]
    query = urllib.parse.urlencode({"json": json.dumps(command)})
    with urllib.request.urlopen(f"{base}/api/v1/send_command?{query}", timeout=30) as response:
        return json.loads(response.read())


def test_adapter_reads_executorchs_tosa_and_tosa_opts_text(compiled, viewer, tmp_path):
    from drivers.example import ExampleCNN, example_inputs
    from tests.support.zoo import ZooCase, executorch_tosa_flatbuffers

    url, _ = viewer
    case = ZooCase("example", ExampleCNN, example_inputs, ("int-uint8-io",))
    (theirs,) = executorch_tosa_flatbuffers(case, "int-uint8-io")
    executorch = tmp_path / "executorch.tosa"
    executorch.write_bytes(theirs)
    tosa_opt_text = tmp_path / "tosa-opt.mlir"
    deserialize_with_tosa_opt(executorch, tosa_opt_text)
    for path in (executorch, tosa_opt_text, compiled / "tag0.tosa"):
        answer = _convert(url, path)
        assert "error" not in answer, answer
        (graph,) = answer["graphs"]
        assert len(_op_nodes(graph)) == tosa_op_count(read_model(path)), path.name
    # ExecuTorch's graph (62 ops with its constant per use), canonicalized, is the
    # example's canonical stage op for op (41; its import shares equal zero points already)
    from ir.lowering.pipeline import run_pipeline

    theirs_canonical = read_model(executorch)
    run_pipeline(theirs_canonical, "canonicalize")
    ours_canonical = read_model(compiled / "tag0" / "02-canonicalize.mlir")
    assert tosa_op_count(read_model(executorch)) > tosa_op_count(ours_canonical)
    assert tosa_op_count(theirs_canonical) == tosa_op_count(ours_canonical)
    # an unreadable file is the adapter's one-line error, shown by the web app
    bad = tmp_path / "bad.mlir"
    bad.write_text("module {\n  %0 = tosa.add %a\n}\n")
    answer = _convert(url, bad)
    assert re.match(r"ModelFileError: .*bad\.mlir:\d+:\d+: error: ", answer["error"]), answer
