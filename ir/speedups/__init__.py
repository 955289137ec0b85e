"""Speed-ups that work around slow paths of xDSL 0.74, in one place, behind one switch.

Each one changes how fast a result is reached, never the result: the same module, the
same text, the same bytes, the same error messages. To tell a logic bug from a speed-up
bug, run with ``TOSA_IR_NO_SPEEDUPS=1``: every speed-up is then off and xDSL's own path
runs instead (``tests/ir/test_speedups.py`` runs the lit texts and the op table both ways
and compares the outputs). The variable is read once, here, when ``ir`` is imported.

Each speed-up lives in this package, but for two: the fast op-line parser is a second
reader of the dialect's text and of ``ir.dense_text``'s constants, which sit above
``ir.builders``; ``ir.builders`` uses ``identity.interned``, so the parser stays beside
``ir.parsing`` (``ir/fast_parse.py``) to keep the package graph acyclic. It obeys the
same switch. The flatbuffer emitter is the other one outside: it writes the schema of
the ``tosa`` package, which ``ir`` does not import, so it sits in ``tosa_flatbuffer``.

| speed-up | module | xDSL path it replaces |
| --- | --- | --- |
| fast op-line parse | ``ir.fast_parse`` (registered here) | ``Parser.parse_operation`` on |
| | | the lines our printer writes |
| dense-literal type constraint | ``dense_literal`` | ``_parse_dense_literal_type`` rebuilding |
| | | its constraint per attribute |
| interned types | ``identity`` | one type object per op (equal, not identical) |
| verify memo | ``identity`` | IRDL + our verifiers run afresh on every op |
| op-rule findings memo | ``identity`` | ``ir.verify``'s op rules (spec tables, output |
| | | shapes, RESCALE lines) evaluated afresh on every op |
| printer type text | ``type_text`` | ``Printer.print_attribute`` on every tensor type |
| flatbuffer locations | ``locations`` | a parser / printer per op location (``tosa_flatbuffer``) |
| shared attributes | ``shared_attrs`` | a fresh, verified attribute per use (FX import, |
| | | ``ir.builders``' small constants) |
| prechecked attributes | ``prechecked`` | xDSL verifying a dense constant's type or a |
| | | name location's child again on every construction |
| op constructors | ``op_create`` | ``Operation.create``'s generic path (use-list |
| | | setters, IRDL defaults looked up per op) |
| structure checks | ``structure`` | ``IsolatedFromAbove.verify`` (an ancestor |
| | | climb per operand), ``Block.verify`` (``!=`` per |
| | | op, a second pass to count), ``Operation.verify`` |
| | | on a region-free op |
| module walks | ``walk`` | ``list(op.walk())``'s nested generators |
| flatbuffer emitter | ``tosa_flatbuffer.emitter`` | the ``flatbuffers`` Builder |

Interning and the two memos are coupled through object identity: the memos key an op by
the ids of its type and property objects, so they hit often only when equal types are
one object (``identity.interned``; ``shared_attrs`` hands out interned objects, so an op
built from its shared properties hits too). The memos hold the objects they key by, so an
id in a key cannot be taken by another object while the entry lives; a large constant's
bytes, which the findings memo keys by identity too, are held weakly instead, and an entry
whose bytes died is dropped rather than matched.
"""

from __future__ import annotations

import os

#: the switch: ``TOSA_IR_NO_SPEEDUPS=1`` (any value but "" and "0") turns every speed-up off
SWITCH = "TOSA_IR_NO_SPEEDUPS"

#: True unless the switch is set; every speed-up consults this and nothing else
ENABLED: bool = os.environ.get(SWITCH, "") in ("", "0")

__all__ = ["ENABLED", "SWITCH"]
