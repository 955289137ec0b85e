"""Careless edits, at scale: ``python -m bench.fuzz [--inputs 10000] [--seed 0]``.

Mutates every stage's dump of the example model (``tosa-ir compile`` on
``drivers/example.py:ExampleCNN --uint8-io``; ``--dumps DIR`` reuses a compile's output
folder) and every lit text in ``tests/filecheck`` with the edits of
``tests/support/mutations.py``, reads each as ``tosa-ir-verify`` does, and counts:

- crashes: any exception but an ``IRParseError`` / ``VerificationError``;
- hangs: more than 1 s to read a text under 100 kB, twice (the machine is shared: a
  text slow once and fast on a second read is counted apart); each read stops at 10 s;
- unpositioned errors: an error not placed at ``file:line(:col)``;

then corrupts the ``.tosa`` (``--flatbuffers`` inputs; only a ``FlatbufferError`` is clean)
and runs a sample (``--opt-sample``) of the bad texts through the installed
``tosa-ir-opt ... -o out.mlir``: exit status 1 or 2, no traceback, no output file.
Prints a table and writes it to ``out/bench/fuzz.md``.
"""

from __future__ import annotations

import argparse
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.support.mutations import Outcome, flatbuffer_outcome, mutate, mutate_bytes, outcome

ROOT = Path(__file__).resolve().parent.parent
HANG_SECONDS = 1.0
SMALL_TEXT = 100_000
STOP_SECONDS = 10
OUT = Path("out/bench/fuzz.md")
#: one line per error, as the CLI prints them: ``file:line(:col): error: ...`` (or a note)
_ERROR_LINE = re.compile(r"\S[^\n]*?: (?:error|note): \S")


class _Stopped(BaseException):  # not caught by the code under test
    pass


def _stop(signum, frame):
    raise _Stopped


def _bounded(function, *args) -> Outcome:
    """``function(*args)``, stopped after ``STOP_SECONDS`` (a hang, counted as one)."""
    signal.signal(signal.SIGALRM, _stop)
    signal.alarm(STOP_SECONDS)
    start = time.perf_counter()
    try:
        return function(*args)
    except _Stopped:
        return Outcome("hang", time.perf_counter() - start, f"stopped after {STOP_SECONDS} s")
    finally:
        signal.alarm(0)


FAILURES = Path("out/fuzz/failures")


def _keep(name: str, data: str | bytes) -> None:
    """A failing input, to reproduce it: ``out/fuzz/failures/NNN-kind.mlir``."""
    FAILURES.mkdir(parents=True, exist_ok=True)
    path = FAILURES / name
    path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data)


def example_dumps(folder: Path | None) -> Path:
    """A ``tosa-ir compile`` output folder of the example (made once when not given)."""
    if folder is not None:
        return folder
    folder = ROOT / "out" / "fuzz" / "example"
    if not (folder / "tag0.tosa").exists():
        from drivers import cli

        code = cli.main(
            [
                "compile",
                str(ROOT / "drivers/example.py") + ":ExampleCNN",
                "--uint8-io",
                "--out",
                str(folder),
            ]
        )
        if code != 0:
            raise SystemExit(f"tosa-ir compile failed ({code})")
    return folder


def sources(folder: Path) -> dict[str, str]:
    """Every stage's dump and every lit text, by name."""
    texts = {p.name: p.read_text() for p in sorted(folder.glob("*/[0-9][0-9]-*.mlir"))}
    for p in sorted((ROOT / "tests" / "filecheck").glob("*/*.mlir")):
        texts[f"{p.parent.name}/{p.name}"] = p.read_text()
    return texts


def run_texts(texts: dict[str, str], count: int, rng: random.Random):
    names = list(texts)
    kinds, by_mutation, slow, bad, worst, errors = Counter(), Counter(), [], [], 0.0, []
    for _ in range(count):
        name = rng.choice(names)
        mutation, text = mutate(texts[name], rng)
        found = _bounded(outcome, text, "dump.mlir")
        kind = found.kind
        if kind != "hang" and found.seconds > HANG_SECONDS and len(text) < SMALL_TEXT:
            again = _bounded(outcome, text, "dump.mlir")  # a shared machine stalls now and then
            kind = "hang" if again.seconds > HANG_SECONDS else kind
            kinds["slow once, fast again"] += kind != "hang"
            found = again if kind != "hang" else found
        kinds[kind] += 1
        by_mutation[mutation, kind in ("ok", "error")] += 1
        if len(text) < SMALL_TEXT:
            worst = max(worst, found.seconds)
        if kind not in ("ok", "error"):
            bad.append((kind, name, mutation, found.message[:160]))
            _keep(f"{len(bad):03}-{kind}.mlir", text)
        if kind == "error":
            errors.append(text)
        if found.seconds > HANG_SECONDS:
            slow.append((name, mutation, len(text), found.seconds))
    return kinds, bad, worst, errors


def run_flatbuffers(data: bytes, count: int, rng: random.Random):
    kinds, bad = Counter(), []
    for _ in range(count):
        corrupted = mutate_bytes(data, rng)
        found = _bounded(flatbuffer_outcome, corrupted)
        kinds[found.kind] += 1
        if found.kind not in ("ok", "error"):
            bad.append(f"{found.kind}: {found.message[:160]}")
            _keep(f"{len(bad):03}-{found.kind}.tosa", corrupted)
    return kinds, bad


def run_opt(errors: list[str], count: int, rng: random.Random):
    """The installed ``tosa-ir-opt`` on a sample of the texts that gave an error."""
    tool = Path(sys.executable).parent / "tosa-ir-opt"
    kinds, bad = Counter(), []
    sample = rng.sample(errors, min(count, len(errors)))
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(sample):
            path, out = Path(tmp) / f"in{i}.mlir", Path(tmp) / f"out{i}.mlir"
            path.write_text(text)
            done = subprocess.run(
                [str(tool), str(path), "-o", str(out)], capture_output=True, text=True, timeout=120
            )
            clean = (
                done.returncode in (1, 2)
                and "Traceback" not in done.stderr
                and not out.exists()
                and done.stdout == ""
                and bool(done.stderr)
                and all(_ERROR_LINE.match(line) for line in done.stderr.splitlines())
            )
            kinds["clean" if clean else "bad"] += 1
            kinds[f"exit {done.returncode}"] += 1
            if not clean:
                bad.append(f"exit {done.returncode}: {done.stderr[:200]}")
    return kinds, bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fuzz", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--inputs", type=int, default=10_000, help="mutated texts (default 10000)")
    parser.add_argument(
        "--flatbuffers", type=int, default=2_000, help="corrupted .tosa files (default 2000)"
    )
    parser.add_argument(
        "--opt-sample", type=int, default=200, help="texts run through tosa-ir-opt (default 200)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--dumps", type=Path, help="a 'tosa-ir compile' output folder to take the dumps from"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    folder = example_dumps(args.dumps)
    for old in FAILURES.glob("*"):
        old.unlink()
    texts = sources(folder)
    rng = random.Random(args.seed)
    start = time.perf_counter()
    kinds, bad, worst, errors = run_texts(texts, args.inputs, rng)
    text_seconds = time.perf_counter() - start
    fb_kinds, fb_bad = run_flatbuffers((folder / "tag0.tosa").read_bytes(), args.flatbuffers, rng)
    opt_kinds, opt_bad = run_opt(errors, args.opt_sample, rng)

    lines = [
        f"# Fuzz: {args.inputs} mutated texts, seed {args.seed}",
        "",
        f"Sources: {len(texts)} texts ({', '.join(texts)}), {text_seconds:.0f} s.",
        "",
        "| texts | ok (still valid) | positioned error | unpositioned error | crash | hang (> 1 s, "
        "< 100 kB) | slow once, fast again | slowest under 100 kB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {args.inputs} | {kinds['ok']} | {kinds['error']} | {kinds['unpositioned']} | "
        f"{kinds['crash']} | {kinds['hang']} "
        f"| {kinds['slow once, fast again']} | {worst:.3f} s |",
        "",
        "| corrupted flatbuffers | read | FlatbufferError | crash | hang |",
        "| --- | --- | --- | --- | --- |",
        f"| {args.flatbuffers} | {fb_kinds['ok']} | {fb_kinds['error']} | {fb_kinds['crash']} | "
        f"{fb_kinds['hang']} |",
        "",
        "| tosa-ir-opt sample | exit 1 or 2, one error line each, no traceback, no output file | "
        "exit 1 | exit 2 | other |",
        "| --- | --- | --- | --- | --- |",
        f"| {sum(v for k, v in opt_kinds.items() if k in ('clean', 'bad'))} | "
        f"{opt_kinds['clean']} | "
        f"{opt_kinds['exit 1']} | {opt_kinds['exit 2']} | {opt_kinds['bad']} |",
    ]
    for title, items in (
        ("text failures", bad),
        ("flatbuffer failures", fb_bad),
        ("tosa-ir-opt failures", opt_bad),
    ):
        if items:
            lines += ["", f"## {title} ({len(items)})", ""] + [f"- {item}" for item in items[:50]]
    report = "\n".join(lines) + "\n"
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    return 0 if not (bad or fb_bad or opt_bad) else 1


if __name__ == "__main__":
    sys.exit(main())
