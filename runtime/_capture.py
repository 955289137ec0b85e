"""Capture what C++ (and Python) write to stdout and stderr, at file-descriptor level.

The reference model and Vela's core print with ``printf``/``fprintf(stderr)`` and, for
the reference model, a forked gdb: none of it passes through Python's ``sys.stdout``, so
``contextlib.redirect_stdout`` alone would let it through. ``captured_output`` points
file descriptors 1 and 2 at a temporary file instead (a file, not a pipe: nobody reads
while the C++ runs, and a gdb backtrace can outgrow a pipe's buffer), and Python's
``sys.stdout``/``sys.stderr`` at descriptor 1, which also catches a Python caller whose
streams are not the process's (pytest's ``capsys``, a notebook).

Descriptors are per process: ``CAPTURE_LOCK`` is held for the whole capture, and callers
that must not overlap a capture (or each other) take it too.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

__all__ = ["CAPTURE_LOCK", "Captured", "captured_output"]

#: held while file descriptors 1 and 2 are swapped; reentrant, so a capture inside a
#: capture on the same thread nests (the inner one's text is not in the outer one's)
CAPTURE_LOCK = threading.RLock()


class Captured:
    """What was written inside ``captured_output``; ``text`` is set when it exits."""

    text = ""


@contextlib.contextmanager
def captured_output() -> Iterator[Captured]:
    """Send everything written to stdout and stderr, by C or by Python, to a temporary
    file while inside; its text is in the yielded ``Captured`` afterwards.

    C stdio is flushed on both edges (``fflush(NULL)``), or text buffered before would
    land in the file and text buffered inside would surface later on the real stdout.
    The descriptors and streams are restored, and the text read back, even when the body
    raises.
    """
    captured = Captured()
    with CAPTURE_LOCK, tempfile.TemporaryFile() as sink:
        _flush_all()
        saved = (os.dup(1), os.dup(2))
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            stream = io.TextIOWrapper(
                io.FileIO(1, "w", closefd=False),
                encoding="utf-8",
                errors="replace",
                write_through=True,
            )
            try:
                with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
                    yield captured
            finally:
                stream.flush()
                _flush_all()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                sink.seek(0)
                captured.text = sink.read().decode("utf-8", errors="replace")
        finally:
            os.close(saved[0])
            os.close(saved[1])


def _flush_all() -> None:
    """Flush Python's streams and every C ``FILE*``, so no output lands on the wrong side
    of a descriptor swap."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.flush()
    if _LIBC is not None:
        _LIBC.fflush(None)


def _load_libc() -> ctypes.CDLL | None:
    """The C library the C++ code's stdio lives in; None where ctypes cannot name it
    (then nothing buffered is flushed, and nothing worse happens)."""
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


_LIBC = _load_libc()
