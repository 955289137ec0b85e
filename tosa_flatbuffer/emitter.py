"""A flatbuffer writer that writes what the ``flatbuffers`` Builder writes, directly.

The pure-Python Builder places every byte with a Python call (padding one byte at a
time, each scalar range-checked) and, at the end, its buffer is copied into the ``bytes``
the caller gets: a weight is in memory twice. ``Emitter`` lays the file out by the
Builder's rules, so the bytes are the same (ExecuTorch's serializer uses that Builder, and
our differential tests compare bytes with it), but with one ``struct`` call per value:

- back to front, as the Builder: an object's position is its distance from the end of
  the file (``size``), alignment is of that distance, and ``finish`` pads the whole file
  to the largest alignment used, so that distances and addresses align alike;
- the small writes go into a bytearray *reversed* (a little-endian value reversed is its
  big-endian packing), turned around once at the end; a large data vector is not copied
  there but kept as the caller's memoryview, and ``finish`` joins the pieces into the
  final ``bytes``: each weight byte is copied once, into the file;
- tables by the Builder's rules: fields written in the order given, a field equal to its
  default left out, the vtable's trailing empty slots trimmed, and a vtable shared with an
  earlier object whose field offsets are the same (the Builder's key: the offsets alone);
- each table kind's slots, scalar types and defaults are read once from the generated
  ``tosa`` code (``layout_of``), by calling its ``Start``/``Add`` functions on a recorder.
"""

from __future__ import annotations

import itertools
import re
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType

import flatbuffers
import numpy as np

#: data vectors at least this long are joined into the file from the caller's buffer
#: instead of being copied into the metadata bytearray
_EXTERNAL_BYTES = 4096

_U32 = struct.Struct(">I").pack
_I32 = struct.Struct(">i").pack
#: the generated code's name for a field that is an offset to a child object
_OFFSET = "UOffsetTRelative"
#: padding of each length an alignment of at most 8 can need
_PADS = tuple(bytes(n) for n in range(8))

#: the Builder's ``Prepend<Type>Slot`` scalar types: ``struct`` format code and width
_SCALARS = {
    "Bool": ("?", 1),
    "Byte": ("B", 1),
    "Uint8": ("B", 1),
    "Int8": ("b", 1),
    "Uint16": ("H", 2),
    "Int16": ("h", 2),
    "Uint32": ("I", 4),
    "Int32": ("i", 4),
    "Uint64": ("Q", 8),
    "Int64": ("q", 8),
    "Float32": ("f", 4),
    "Float64": ("d", 8),
}
#: an offset field: a uoffset, 4 bytes
_OFFSET_SCALAR = ("I", 4)
#: a unique number per ``Slot``, so that a sequence of slots is a cheap dict key
_SLOT_IDS = itertools.count(1)


@dataclass(frozen=True)
class Slot:
    """One field of a table kind: its vtable slot, how it is stored, its default."""

    name: str  # CamelCase, as the generated ``<Table>Add<Name>`` function
    index: int
    code: str  # its ``struct`` format code (big-endian; "I" for an offset)
    offset: bool  # an offset to a child object (its value is the child's position)
    width: int
    default: object
    uid: int = field(default_factory=lambda: next(_SLOT_IDS), compare=False)


@dataclass(frozen=True)
class TableLayout:
    """One table kind: its number of vtable slots and its fields by CamelCase name."""

    module: ModuleType  # the generated code (``BuilderEmitter`` calls it)
    name: str  # the table's class name there
    slots: int
    fields: dict[str, Slot]


class _Recorder:
    """Stands in for a Builder to hear what the generated code would ask of one: its
    ``StartObject(slots)`` and ``Prepend<Type>Slot(index, value, default)`` calls."""

    def __init__(self) -> None:
        self.slots = 0
        self.field = ""  # the field being asked about
        self.last: Slot | None = None

    def __getattr__(self, name: str):
        if name == "StartObject":
            return self._start
        kind = re.fullmatch(r"Prepend(\w+)Slot", name)
        if kind is None or (kind.group(1) not in _SCALARS and kind.group(1) != _OFFSET):
            raise AttributeError(name)
        offset = kind.group(1) == _OFFSET
        code, width = _OFFSET_SCALAR if offset else _SCALARS[kind.group(1)]

        def record(index: int, _value, default) -> None:
            self.last = Slot(self.field, index, code, offset, width, default)

        return record

    def _start(self, slots: int) -> None:
        self.slots = slots


def layout_of(module: ModuleType, class_name: str) -> TableLayout:
    """The layout of the table ``class_name`` of a generated ``tosa`` module."""
    recorder = _Recorder()
    getattr(module, f"{class_name}Start")(recorder)
    fields = {}
    prefix = f"{class_name}Add"
    for name, function in vars(module).items():
        if not name.startswith(prefix):
            continue
        recorder.field, recorder.last = name.removeprefix(prefix), None
        function(recorder, 1)
        if recorder.last is None:
            raise TypeError(f"{module.__name__}.{name} writes no slot")
        fields[recorder.field] = recorder.last
    return TableLayout(module, class_name, recorder.slots, fields)


def fields_in_order(layout: TableLayout, key: list[int]) -> list[Slot]:
    """The slots of ``layout`` whose uids are ``key[1:]``, in that order."""
    by_uid = {slot.uid: slot for slot in layout.fields.values()}
    return [by_uid[uid] for uid in key[1:]]


@dataclass(frozen=True)
class _TablePlan:
    """How a table is laid out given the fields written and ``size`` mod 8 before it,
    by the Builder's rules: each field aligned to its width, then the table's soffset
    aligned to 4; the vtable's entries are distances from the table's start."""

    pack: Callable[..., bytes]  # the fields (with their padding) and the soffset, reversed
    offsets: tuple[tuple[int, int], ...]  # (value index, position - size before) of uoffsets
    width: int  # the widest field: the file's alignment is at least this
    table: int  # the table's position, from the size before it
    entries: tuple[int, ...]  # the vtable's entries, trailing empty ones trimmed: its key
    vtable: bytes  # a new vtable's bytes (after the soffset), reversed
    vtable_size: int

    @classmethod
    def of(cls, start: int, slots: list[Slot]) -> _TablePlan:
        size, fmt, offsets, at = start, [">"], [], {}
        for i, slot in enumerate(slots):
            pad = -size & (slot.width - 1)
            fmt.append(f"{pad}x{slot.code}" if pad else slot.code)
            size += pad + slot.width
            at[slot.index] = size
            if slot.offset:
                offsets.append((i, size - start))
        pad = -size & 3
        fmt.append(f"{pad}xi" if pad else "i")
        table = size + pad + 4
        entries = [0] * (max(at, default=-1) + 1)
        for index, position in at.items():
            entries[index] = table - position
        vtable_size = 2 * len(entries) + 4
        vtable = struct.pack(
            f">{len(entries) + 2}H", *reversed(entries), table - start, vtable_size
        )
        width = max((slot.width for slot in slots), default=1)
        return cls(
            struct.Struct("".join(fmt)).pack,
            tuple(offsets),
            width,
            table - start,
            tuple(entries),
            vtable,
            vtable_size,
        )


#: every table plan made so far, by (size mod 8, uids of the fields written)
_PLANS: dict[tuple[int, ...], _TablePlan] = {}


class FixedTable:
    """A table kind always written with the same fields, in the same order, none at its
    default (a tensor with data, an operator with a location): its plan for each size
    mod 8 is made up front, so that writing one looks nothing up but the vtable."""

    __slots__ = ("layout", "plans", "slots")

    def __init__(self, layout: TableLayout, slots: Sequence[Slot]) -> None:
        self.layout = layout
        self.slots = tuple(slots)
        self.plans = tuple(_TablePlan.of(start, list(slots)) for start in range(8))


class Emitter:
    """One flatbuffer being written, back to front; offsets are distances from its end.

    Every write starts with a 4-byte alignment (a string's or vector's length, a table's
    vtable offset), so the file's alignment, which ``finish`` pads to, starts at 4 and
    only data aligned to more raises it."""

    __slots__ = ("minalign", "pieces", "rev", "size", "strings_seen", "vtables")

    def __init__(self) -> None:
        self.rev = bytearray()  # the bytes since the last external piece, reversed
        self.pieces: list = []  # finished pieces, back to front (reversed bytearrays, views)
        self.size = 0  # bytes written so far: the Builder's Offset()
        self.minalign = 4
        self.vtables: dict[tuple[int, ...], int] = {}
        self.strings_seen: dict[str, bytes] = {}  # text -> ``_string_body``

    def align(self, alignment: int, additional: int) -> None:
        """The Builder's ``Prep``: pad so that ``size + additional`` is aligned."""
        if alignment > self.minalign:
            self.minalign = alignment
        pad = -(self.size + additional) & (alignment - 1)
        if pad:
            self.rev += bytes(pad)
            self.size += pad

    # -- vectors -------------------------------------------------------------------

    def string(self, text: str) -> int:
        body = self.strings_seen.get(text)
        if body is None:
            body = self._string_body(text)
        size = self.size
        pad = -(size + len(body) - 4) & 3  # the bytes and their NUL end 4-aligned
        if pad:
            self.rev += _PADS[pad]
        self.rev += body
        self.size = size = size + pad + len(body)
        return size

    def strings(self, texts: Iterable[str]) -> int:
        """A vector of strings, each written before the vector as ``string`` does."""
        rev = self.rev
        size = self.size
        seen = self.strings_seen
        targets = []
        for text in texts:
            body = seen.get(text)
            if body is None:
                body = self._string_body(text)
            n = len(body)
            pad = -(size + n - 4) & 3
            if pad:
                rev += _PADS[pad]
            rev += body
            size += pad + n
            targets.append(size)
        self.size = size
        return self.offsets(targets)

    def _string_body(self, text: str) -> bytes:
        """A string's bytes as written, reversed: its NUL, its UTF-8, its length. A
        tensor's name is written three times or more (the tensor, its producer, each
        consumer), so each text is encoded once per file."""
        raw = text.encode("utf-8")
        body = self.strings_seen[text] = b"\0" + raw[::-1] + _U32(len(raw))
        return body

    def offsets(self, targets: Sequence[int]) -> int:
        """A vector of uoffsets to ``targets`` (objects already written)."""
        n = len(targets)
        size = self.size
        pad = -size & 3  # 4 * n bytes follow: aligned alike
        if pad:
            self.rev += _PADS[pad]
            size += pad
        values = [size + 4 * i - t for i, t in enumerate(reversed(targets), 1)]
        self.rev += struct.pack(f">{n + 1}I", *values, n)
        self.size = size = size + 4 * n + 4
        return size

    def int32s(self, values: Sequence[int]) -> int:
        """A vector of int32 (as ``CreateNumpyVector`` of an int32 array)."""
        n = len(values)
        size = self.size
        pad = -size & 3
        if pad:
            self.rev += _PADS[pad]
            size += pad
        self.rev += struct.pack(f">{n + 1}i", *reversed(values), n)
        self.size = size = size + 4 * n + 4
        return size

    def array(self, values: np.ndarray) -> int:
        """``CreateNumpyVector``: a vector of a flat numpy array's elements."""
        if values.ndim != 1 or values.dtype.kind not in "biuf":
            raise TypeError(f"cannot write a vector of {values.dtype} with {values.ndim} axes")
        raw = values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes()
        n = len(raw)
        self.align(4, n)
        self.align(values.dtype.alignment, n)
        self.rev += raw[::-1]
        self.rev += _U32(values.size)
        self.size += n + 4
        return self.size

    def ubytes(self, data, alignment: int = 1) -> int:
        """A [ubyte] vector of ``data`` whose first byte is ``alignment``-aligned; a large
        one is not copied here: its buffer is joined into the file by ``finish``."""
        raw = memoryview(data).cast("B")
        n = raw.nbytes
        self.align(4, n)
        self.align(alignment, n)
        if n >= _EXTERNAL_BYTES:
            self._flush()
            self.pieces.append(raw)
        else:
            self.rev += raw.tobytes()[::-1]
        self.rev += _U32(n)
        self.size += n + 4
        return self.size

    # -- tables ----------------------------------------------------------------------

    def table(self, layout: TableLayout, fields: Iterable[tuple[Slot, object]]) -> int:
        """A table of ``layout`` with ``fields`` (a slot of the layout, its value: a
        scalar, or the offset of a child written before) written in the order given;
        then its vtable, or an offset to an equal one written before.

        The bytes of a table depend on its values only where they are written: where
        each field goes, its padding, the vtable's entries are the same for every table
        with the same fields present in the same order from the same ``size`` mod 8.
        That is a ``_TablePlan``, made once; a table is then one ``struct`` call."""
        size = self.size
        key = [size & 7]
        values = []
        for slot, value in fields:
            if value == slot.default:
                continue
            key.append(slot.uid)
            values.append(value)
        plan = _PLANS.get(tuple(key))
        if plan is None:
            plan = _PLANS[tuple(key)] = _TablePlan.of(key[0], fields_in_order(layout, key))
        return self._write(plan, values, size)

    def fixed(self, table: FixedTable, values: list) -> int:
        """A table of ``table``'s kind and fields, ``values`` in its slots' order (none
        equal to its default: the caller knows), written as ``table`` would."""
        size = self.size
        return self._write(table.plans[size & 7], values, size)

    def _write(self, plan: _TablePlan, values: list, size: int) -> int:
        """The fields ``values`` (offsets as their targets) laid out by ``plan``."""
        for i, at in plan.offsets:  # a uoffset: from where it is to its target
            values[i] = size + at - values[i]
        if plan.width > self.minalign:
            self.minalign = plan.width
        table = size + plan.table
        known = self.vtables.get(plan.entries)
        if known is not None:
            values.append(known - table)
            self.rev += plan.pack(*values)
            self.size = table
            return table
        values.append(plan.vtable_size)
        rev = self.rev
        rev += plan.pack(*values)
        rev += plan.vtable
        self.size = self.vtables[plan.entries] = table + plan.vtable_size
        return table

    # -- the file ----------------------------------------------------------------------

    def finish(self, root: int, identifier: bytes) -> bytes:
        """The file: the root offset, the 4-byte identifier, then everything written."""
        self.align(self.minalign, 8)
        self.align(4, 4)
        self.rev += identifier[::-1]
        self.size += 8
        self.rev += _U32(self.size - root)
        self._flush()
        pieces, self.pieces = self.pieces, []
        pieces.reverse()
        return b"".join(pieces)

    def _flush(self) -> None:
        if self.rev:
            self.rev.reverse()
            self.pieces.append(self.rev)
            self.rev = bytearray()


class BuilderEmitter:
    """``Emitter``'s interface on the ``flatbuffers`` Builder and the generated code: the
    writer's path with the speed-ups off (``TOSA_IR_NO_SPEEDUPS=1``), and the reference
    the direct emitter is tested against."""

    def __init__(self, initial_size: int = 1024) -> None:
        self.builder = flatbuffers.Builder(initial_size)

    def string(self, text: str) -> int:
        return self.builder.CreateString(text)

    def strings(self, texts: Iterable[str]) -> int:
        return self.offsets([self.string(t) for t in texts])

    def offsets(self, targets: Sequence[int]) -> int:
        builder = self.builder
        builder.StartVector(4, len(targets), 4)
        for target in reversed(targets):
            builder.PrependUOffsetTRelative(target)
        return builder.EndVector()

    def int32s(self, values: Sequence[int]) -> int:
        return self.builder.CreateNumpyVector(np.asarray(values, dtype=np.int32))

    def array(self, values: np.ndarray) -> int:
        return self.builder.CreateNumpyVector(values)

    def ubytes(self, data, alignment: int = 1) -> int:
        """A [ubyte] vector of ``data``, copied once into the builder's buffer."""
        raw = memoryview(data).cast("B")
        size = raw.nbytes
        builder = self.builder
        builder.StartVector(1, size, alignment)
        builder.head = builder.Head() - size
        builder.Bytes[builder.Head() : builder.Head() + size] = raw
        builder.vectorNumElems = size
        return builder.EndVector()

    def fixed(self, table: FixedTable, values: list) -> int:
        return self.table(table.layout, zip(table.slots, values))

    def table(self, layout: TableLayout, fields: Iterable[tuple[Slot, object]]) -> int:
        module, name = layout.module, layout.name
        getattr(module, f"{name}Start")(self.builder)
        for slot, value in fields:
            getattr(module, f"{name}Add{slot.name}")(self.builder, value)
        return getattr(module, f"{name}End")(self.builder)

    def finish(self, root: int, identifier: bytes) -> bytes:
        builder = self.builder
        builder.Finish(root, file_identifier=identifier)
        return bytes(memoryview(builder.Bytes)[builder.Head() :])  # Output() copies twice
