"""Run ExecuTorch's installed Arm test suite stock and with our serializer, and compare.

    python -m tools.et_suite --sample 200 --seed 1            # both modes on a sample
    python -m tools.et_suite --all --shard 1/4 --workers 2     # a quarter of the TOSA part
    python -m tools.et_suite --ids tests/bridge/et_suite_sample.txt --modes ir

The TOSA part is every ``ops/*.py`` test id with ``tosa`` in its name, the two uint8 IO
files (``passes/test_ioquantization_pass.py``, ``misc/test_rescale_range.py``) and the
``models/`` ids with ``tosa`` in their name. Each mode runs as its own pytest process
(``-p tools.et_suite.plugin``); results land in ``out/et_suite/<run>/<mode>.jsonl`` and a
``report.md`` listing per test id both outcomes and, first, every test that passes stock
and fails with ours, with its one-line reason. ``--stock FILE`` reuses a stock run's
JSON lines (ExecuTorch does not change between runs of ours).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from tools.et_suite.plugin import MODES, env_with_tools, suite_root

UINT8_IO_FILES = ("passes/test_ioquantization_pass.py", "misc/test_rescale_range.py")
OUT = Path("out/et_suite")  # under the working directory


def collect(root: Path) -> list[str]:
    """The TOSA part of the suite, as ids relative to ``root``."""
    paths = [root / "ops", root / "models", *(root / f for f in UINT8_IO_FILES)]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(root),
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        env=env_with_tools(),
        cwd=root,
    )
    ids = [line for line in result.stdout.splitlines() if "::" in line]
    # A file that fails to collect drops out of the part silently otherwise, and shifts
    # every --shard after it: say which (models/ whose dependencies this machine lacks)
    lines = result.stdout.splitlines()
    failed = sorted({line.split()[1] for line in lines if line.startswith("ERROR ")})
    if failed:
        print(f"not collected ({len(failed)} files): {', '.join(failed)}", file=sys.stderr)
    if not ids:
        raise SystemExit(
            f"collecting the suite found nothing:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return sorted(i for i in ids if _in_tosa_part(i))


def _in_tosa_part(test_id: str) -> bool:
    path, _, name = test_id.partition("::")
    if path in UINT8_IO_FILES:
        return True
    return path.startswith(("ops/", "models/")) and "tosa" in name.lower()


def run_mode(
    mode: str, ids: list[str], run_dir: Path, workers: int, timeout: int, compare: bool = False
) -> Path:
    """One pytest process over ``ids`` in ``mode``; its JSON lines."""
    root = suite_root()
    report = run_dir / f"{mode}.jsonl"
    report.unlink(missing_ok=True)
    args_file = run_dir / "ids.args"
    args_file.write_text("".join(f"{root / i}\n" for i in ids))
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "tools.et_suite.plugin",
        f"--tosa-ir={mode}",
        f"--tosa-ir-report={report.resolve()}",
        f"--timeout={timeout}",
        "--rootdir",
        str(root),
        "-o",
        "addopts=",
        f"@{args_file.resolve()}",
    ]
    if workers > 1:
        command += ["-n", str(workers)]
    if compare and mode != "stock":
        command.append("--tosa-ir-compare")
    started = time.time()
    log = run_dir / f"{mode}.log"
    with open(log, "w", encoding="utf-8") as sink:
        subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT, env=_env(), cwd=PROJECT)
    print(f"{mode}: {len(ids)} ids in {time.time() - started:.0f} s (log {log})", flush=True)
    return report


#: the project's root: the plugin and the IR path are imported from it
PROJECT = Path(__file__).resolve().parents[2]


def _env() -> dict:
    """The tools on PATH, and this project importable first."""
    import os

    env = env_with_tools()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH")]))
    return env


def load(report: Path) -> dict[str, dict]:
    """Test id (relative to the suite root) -> its record."""
    root = str(suite_root())
    records = {}
    for line in report.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        test_id = record["id"]
        marker = "backends/arm/test/"
        if marker in test_id:
            test_id = test_id.split(marker, 1)[1]
        record["id"] = test_id.removeprefix(root + "/")
        records[record["id"]] = record
    return records


def _passed(records: dict[str, dict], test_id: str) -> bool:
    return records.get(test_id, {}).get("outcome") in ("passed", "xfailed")


def _empty(run_dir: Path) -> Path:
    path = run_dir / "stock.jsonl"
    path.write_text("")
    return path


def compare(stock: dict[str, dict], ours: dict[str, dict], ids: list[str]) -> dict:
    """Counts and the regressions: passes stock, does not pass with ours."""
    passed = _passed

    regressions = [i for i in ids if passed(stock, i) and not passed(ours, i)]
    fixed = [i for i in ids if not passed(stock, i) and passed(ours, i)]
    unswapped = [i for i in ids if passed(ours, i) and ours[i].get("calls", 0) == 0]
    compared = [i for i in ids if ours.get(i, {}).get("differences")]
    differing = [i for i in compared if any(ours[i]["differences"])]
    return {
        "ids": len(ids),
        "stock_run": sum(i in stock for i in ids),
        "stock_passed": sum(passed(stock, i) for i in ids),
        "ours_passed": sum(passed(ours, i) for i in ids),
        "regressions": regressions,
        "fixed": fixed,
        "never_swapped": unswapped,
        "compared": compared,
        "differing": differing,
    }


def write_report(
    run_dir: Path, stock: dict, ours: dict, ids: list[str], summary: dict, mode: str
) -> Path:
    lines = [
        f"# ExecuTorch Arm suite, stock vs `{mode}`",
        "",
        f"{summary['ids']} ids: stock run on {summary['stock_run']}, passed "
        f"{summary['stock_passed']}; "
        f"ours passed {summary['ours_passed']}; passes stock, fails with ours: "
        f"{len(summary['regressions'])}; fails stock, passes with ours: {len(summary['fixed'])}; "
        f"passed without our step running: {len(summary['never_swapped'])}",
        "",
        "## Passes stock, fails with ours",
        "",
    ]
    lines += [
        f"- `{i}`: {ours.get(i, {}).get('reason') or ours.get(i, {}).get('outcome', 'not run')}"
        for i in summary["regressions"]
    ] or ["(none)"]
    if summary["compared"]:
        lines += [
            "",
            f"## Graph differs from ExecuTorch's ({len(summary['differing'])} of "
            f"{len(summary['compared'])} compared)",
            "",
        ]
        lines += [
            f"- `{i}`: " + "; ".join(d for d in ours[i]["differences"] if d)[:600]
            for i in summary["differing"]
        ] or ["(none)"]
    lines += [
        "",
        "## Every id",
        "",
        "| id | stock | ours | calls | reason (ours) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for i in ids:
        s, o = stock.get(i, {}), ours.get(i, {})
        reason = (o.get("reason") or "").replace("|", "\\|")[:160]
        lines.append(
            f"| `{i}` | {s.get('outcome', '-')} | {o.get('outcome', '-')} | {o.get('calls', '-')} "
            f"| {reason} |"
        )
    path = run_dir / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_ids(path: Path | str) -> list[str]:
    """Ids of a sample file: one a line, ``#`` comments and blank lines skipped."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _select(args, root: Path) -> list[str]:
    if args.ids:
        return read_ids(args.ids)
    ids = collect(root)
    if args.sample:
        ids = sorted(random.Random(args.seed).sample(ids, min(args.sample, len(ids))))
    if args.shard:
        index, count = (int(x) for x in args.shard.split("/"))
        ids = ids[index - 1 :: count]
    return ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.et_suite", description=__doc__.split("\n\n")[0]
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--sample", type=int, help="a seeded random sample of this many ids")
    which.add_argument("--all", action="store_true", help="the whole TOSA part")
    which.add_argument("--ids", help="a file of ids (relative to the suite root), one a line")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shard", help="i/n: every n-th id from the i-th")
    parser.add_argument("--modes", default="stock,ir", help=f"comma-separated, of {MODES}")
    parser.add_argument("--stock", help="reuse this stock run's JSON lines")
    parser.add_argument("--workers", type=int, default=1, help="pytest-xdist workers")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per test")
    parser.add_argument("--name", help="the run's folder under out/et_suite")
    parser.add_argument(
        "--stock-on-failures",
        action="store_true",
        help="run stock only on the ids that do not pass with ours (ours first)",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also compare each partition's graph with ExecuTorch's (ir modes)",
    )
    args = parser.parse_args(argv)

    root = suite_root()
    ids = _select(args, root)
    modes = [m for m in args.modes.split(",") if m]
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown modes {sorted(unknown)}")
    name = args.name or (
        "all"
        if args.all
        else f"sample{args.sample}-seed{args.seed}"
        if args.sample
        else Path(args.ids or "ids").stem
    )
    if args.shard:
        name += "-shard" + args.shard.replace("/", "of")
    run_dir = OUT / name
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "ids.txt").write_text("".join(f"{i}\n" for i in ids))
    print(f"{len(ids)} ids -> {run_dir}", flush=True)

    ours_modes = [m for m in modes if m != "stock"]
    reports = {
        m: run_mode(m, ids, run_dir, args.workers, args.timeout, args.compare) for m in ours_modes
    }
    if args.stock:
        reports["stock"] = Path(args.stock)
    elif "stock" in modes:
        stock_ids = ids
        if args.stock_on_failures and ours_modes:
            # a test that passes with ours needs no stock run to rule out a regression
            stock_ids = [
                i for i in ids if any(not _passed(load(reports[m]), i) for m in ours_modes)
            ]
        reports["stock"] = (
            run_mode("stock", stock_ids, run_dir, args.workers, args.timeout)
            if stock_ids
            else _empty(run_dir)
        )
    if "stock" not in reports:
        ours = load(reports[modes[0]])
        bad = [i for i in ids if ours.get(i, {}).get("outcome") not in ("passed", "xfailed")]
        print(f"{modes[0]}: {len(ids) - len(bad)} of {len(ids)} passed")
        for i in bad:
            print(
                f"  {i}: "
                f"{ours.get(i, {}).get('reason') or ours.get(i, {}).get('outcome', 'not run')}"
            )
        return 1 if bad else 0
    stock = load(reports["stock"])
    status = 0
    for mode in (m for m in modes if m != "stock"):
        ours = load(reports[mode])
        summary = compare(stock, ours, ids)
        path = write_report(run_dir, stock, ours, ids, summary, mode)
        print(
            f"{mode}: {summary['ids']} ids, stock run on {summary['stock_run']} and passed "
            f"{summary['stock_passed']}, ours passed "
            f"{summary['ours_passed']}, regressions {len(summary['regressions'])}, graphs "
            f"differing from ExecuTorch's {len(summary['differing'])} of "
            f"{len(summary['compared'])} compared ({path})"
        )
        for i in summary["regressions"]:
            print(
                f"  REGRESSION {i}: "
                f"{ours.get(i, {}).get('reason') or ours.get(i, {}).get('outcome', 'not run')}"
            )
        status |= bool(summary["regressions"])
    return status
