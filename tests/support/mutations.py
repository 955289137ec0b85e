"""Careless edits of a dump, and what reading one must give: a module or one clean error.

``mutate(text, rng)`` makes one edit a reviewer could make by accident (truncation, a
deleted or inserted character, a deleted quote, a changed digit or element type, a
duplicated or deleted line, a renamed SSA value); ``mutate_bytes`` corrupts a flatbuffer.
``outcome(text)`` reads the result as ``ir.parse_module`` + ``ir.verify`` do and sorts it:
``ok`` (still a valid module), ``error`` (an ``IRParseError`` or ``VerificationError``
placed at ``file:line``), ``unpositioned`` (one of those, but not placed), ``crash``
(any other exception: a library's, ours). The suite's fuzz test and ``bench/fuzz.py``
share these, so the seeded run in the suite is a small sample of the long one.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass

import ir
from ir.verify import VerificationError, verify

#: an IRParseError's first line: ``file:line:col: message``
POSITIONED = re.compile(r"[^\s:][^:\n]*:\d+:\d+: \S")
_SSA = re.compile(r"%[A-Za-z0-9_$.]+")
_ELEMENT = re.compile(r"\b(?:ui|i|si)\d+\b|\bf(?:16|32|64)\b|\bbf16\b|\bindex\b")
_TYPES = [
    "i1",
    "i4",
    "i8",
    "i16",
    "i32",
    "i48",
    "i64",
    "ui0",
    "ui7",
    "ui8",
    "ui16",
    "si8",
    "f16",
    "f32",
    "bf16",
    "index",
    "i0",
    "i99999",
]
_INSERTS = [*list('"<>(){}[],:=%@#!^x-0123456789 \n\\'), "loc(", "dense<", "0x", "tensor<", "-> "]


def _truncate(text, rng):
    return text[: rng.randrange(len(text))]


def _delete_char(text, rng):
    at = rng.randrange(len(text))
    return text[:at] + text[at + 1 :]


def _insert_char(text, rng):
    at = rng.randrange(len(text) + 1)
    return text[:at] + rng.choice(_INSERTS) + text[at:]


def _delete_quote(text, rng):
    quotes = [m.start() for m in re.finditer('"', text)]
    if not quotes:
        return _delete_char(text, rng)
    at = rng.choice(quotes)
    return text[:at] + text[at + 1 :]


def _change_digit(text, rng):
    digits = [m.start() for m in re.finditer(r"\d", text)]
    if not digits:
        return _insert_char(text, rng)
    at = rng.choice(digits)
    return text[:at] + rng.choice("0123456789") + text[at + 1 :]


def _change_number(text, rng):
    """A whole number replaced by one that may not fit its type."""
    numbers = list(re.finditer(r"-?\d+", text))
    if not numbers:
        return _insert_char(text, rng)
    m = rng.choice(numbers)
    value = rng.choice([0, 1, -1, 127, 128, 255, 256, 428, -129, 2**31, 2**63, 10**30, -(10**30)])
    return text[: m.start()] + str(value) + text[m.end() :]


def _change_type(text, rng):
    types = list(_ELEMENT.finditer(text))
    if not types:
        return _insert_char(text, rng)
    m = rng.choice(types)
    return text[: m.start()] + rng.choice(_TYPES) + text[m.end() :]


def _duplicate_line(text, rng):
    lines = text.split("\n")
    at = rng.randrange(len(lines))
    lines.insert(at, lines[at])
    return "\n".join(lines)


def _delete_line(text, rng):
    lines = text.split("\n")
    del lines[rng.randrange(len(lines))]
    return "\n".join(lines)


def _swap_lines(text, rng):
    lines = text.split("\n")
    a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[a], lines[b] = lines[b], lines[a]
    return "\n".join(lines)


def _rename_ssa(text, rng):
    names = list(_SSA.finditer(text))
    if not names:
        return _insert_char(text, rng)
    m = rng.choice(names)
    return text[: m.start()] + rng.choice(["%9999", "%x", "%arg7", "%0", "%1"]) + text[m.end() :]


MUTATIONS = {
    "truncate": _truncate,
    "delete-char": _delete_char,
    "insert-char": _insert_char,
    "delete-quote": _delete_quote,
    "change-digit": _change_digit,
    "change-number": _change_number,
    "change-type": _change_type,
    "duplicate-line": _duplicate_line,
    "delete-line": _delete_line,
    "swap-lines": _swap_lines,
    "rename-ssa": _rename_ssa,
}


def mutate(text: str, rng: random.Random) -> tuple[str, str]:
    """``(kind, mutated text)``: one to three edits of one kind."""
    kind = rng.choice(list(MUTATIONS))
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        text = MUTATIONS[kind](text or " ", rng)
    return kind, text


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """A flatbuffer with bytes flipped, zeroed, cut or repeated."""
    buf = bytearray(data)
    kind = rng.randrange(4)
    if kind == 0:
        return bytes(buf[: rng.randrange(len(buf))])
    if kind == 1:
        at = rng.randrange(len(buf))
        return bytes(buf[:at] + buf[at : at + rng.randrange(1, 64)] + buf[at:])
    for _ in range(rng.randrange(1, 8)):
        at = rng.randrange(len(buf))
        buf[at] = 0 if kind == 2 else rng.randrange(256)
    return bytes(buf)


@dataclass(frozen=True)
class Outcome:
    kind: str  # ok | error | unpositioned | crash
    seconds: float
    message: str


def error_is_positioned(err: Exception) -> bool:
    """An ``IRParseError`` starts ``file:line:col: ``; every diagnostic of a
    ``VerificationError`` is placed at a ``file:line``."""
    if isinstance(err, VerificationError):
        return all(d.source for d in err.diagnostics)
    return POSITIONED.match(str(err)) is not None


def outcome(text: str, name: str = "dump.mlir", spec: str = "TOSA-1.0+INT") -> Outcome:
    """What reading ``text`` gives, as ``tosa-ir-verify`` reads it."""
    start = time.perf_counter()
    try:
        verify(ir.parse_module(text, name=name), spec)
    except (ir.IRParseError, VerificationError) as err:
        kind = "error" if error_is_positioned(err) else "unpositioned"
        return Outcome(kind, time.perf_counter() - start, str(err).split("\n")[0])
    except Exception as err:
        return Outcome(
            "crash", time.perf_counter() - start, f"{type(err).__name__}: {err}".split("\n")[0]
        )
    return Outcome("ok", time.perf_counter() - start, "")


def flatbuffer_outcome(data: bytes) -> Outcome:
    """What reading corrupted flatbuffer bytes gives: a module or a ``FlatbufferError``."""
    from tosa_flatbuffer import FlatbufferError, from_flatbuffer

    start = time.perf_counter()
    try:
        from_flatbuffer(data)
    except FlatbufferError as err:
        return Outcome("error", time.perf_counter() - start, str(err).split("\n")[0])
    except Exception as err:
        return Outcome(
            "crash", time.perf_counter() - start, f"{type(err).__name__}: {err}".split("\n")[0]
        )
    return Outcome("ok", time.perf_counter() - start, "")
