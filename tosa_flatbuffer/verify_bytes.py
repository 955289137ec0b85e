"""The flatbuffers ``Verifier``, in Python, over the whole TOSA schema.

C++ readers (the reference model, Vela's core) follow offsets without checking them, so
one flipped bit in a table we never read ourselves (the software-version table, an op's
location) is enough to crash the process. Before any byte goes to C++, every table,
vtable, string and vector of the file is checked to lie inside the buffer, whether or not
``decode`` reads it. The layout is the generated ``tosa`` code's: field slots, in order,
with the kinds below; attribute tables take theirs from ``schema.FIELD_KINDS``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from tosa_flatbuffer.schema import ATTRIBUTE_NAMES, FIELD_KINDS, Kind, attribute_table

#: tables the verifier will visit before calling a file hostile (a 100 MB model has ~10^5)
MAX_TABLES = 10_000_000


@dataclass(frozen=True)
class F:
    """One field: ``kind`` is a scalar size in bytes, "string", "[n]" (vector of n-byte
    scalars), "[string]", "[Table]", "Table", or "union value" (whose type is the 1-byte
    field before it)."""

    kind: str | int


_TABLES: dict[str, list[F]] = {
    "TosaGraph": [F("Version"), F("[TosaRegion]"), F("SoftwareVersion")],
    "Version": [F(4), F(4), F(4), F(1)],
    "SoftwareVersion": [F(4), F(4), F(4), F("string")],
    "TosaRegion": [F("string"), F("[TosaBasicBlock]")],
    "TosaBasicBlock": [
        F("string"),
        F("[TosaOperator]"),
        F("[TosaTensor]"),
        F("[string]"),
        F("[string]"),
        F("[TosaShape]"),
    ],
    "TosaOperator": [F(4), F(1), F("union value"), F("[string]"), F("[string]"), F("OpLocation")],
    "OpLocation": [F("string")],
    "TosaTensor": [F("string"), F("[4]"), F(4), F("[1]"), F(1), F(1), F("string"), F(8), F(8)],
    "TosaShape": [F("string"), F(4), F("[1]")],
}

_FIELD_LAYOUT = {
    Kind.BOOL: F(1),
    Kind.INT32: F(4),
    Kind.INT32_LIST: F("[4]"),
    Kind.VALUE_BYTES: F("[1]"),
    Kind.STRING: F("string"),
    Kind.STRING_BYTES: F("[1]"),
    Kind.REGION: F("string"),
    Kind.ACC_TYPE: F(4),
    Kind.NAN_MODE: F(4),
    Kind.ROUNDING_MODE: F(4),
    Kind.RESIZE_MODE: F(4),
    Kind.BLOCK_SIZE: F(4),
}


class LayoutError(ValueError):
    pass


class _Verifier:
    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.size = len(buf)
        self.tables = 0

    def u8(self, at: int) -> int:
        self._need(at, 1)
        return self.buf[at]

    def u16(self, at: int) -> int:
        self._need(at, 2)
        return struct.unpack_from("<H", self.buf, at)[0]

    def u32(self, at: int) -> int:
        self._need(at, 4)
        return struct.unpack_from("<I", self.buf, at)[0]

    def i32(self, at: int) -> int:
        self._need(at, 4)
        return struct.unpack_from("<i", self.buf, at)[0]

    def _need(self, at: int, n: int) -> None:
        if at < 0 or at + n > self.size:
            raise LayoutError(
                f"reads {n} bytes at offset {at}, outside the {self.size}-byte buffer"
            )

    def table(self, at: int, name: str, where: str, layout: list[F] | None = None) -> None:
        self.tables += 1
        if self.tables > MAX_TABLES:
            raise LayoutError("too many tables (cyclic or hostile offsets)")
        if at % 4:
            raise LayoutError(f"{where}: table {name} at unaligned offset {at}")
        vtable = at - self.i32(at)
        if vtable % 2:
            raise LayoutError(f"{where}: vtable of {name} at odd offset {vtable}")
        vsize, tsize = self.u16(vtable), self.u16(vtable + 2)
        if vsize < 4 or vsize % 2:
            raise LayoutError(f"{where}: vtable of {name} has size {vsize}")
        self._need(vtable, vsize)
        self._need(at, max(tsize, 4))
        fields = layout if layout is not None else _TABLES[name]
        union_type = 0
        for slot, field in enumerate(fields):
            voffset = 4 + 2 * slot
            offset = self.u16(vtable + voffset) if voffset < vsize else 0
            if offset == 0:
                continue
            pos = at + offset
            kind = field.kind
            if isinstance(kind, int):
                if offset + kind > tsize:
                    raise LayoutError(f"{where}: {name} field {slot} ends past its table")
                self._need(pos, kind)
                if kind == 1 and fields[slot + 1 : slot + 2] == [F("union value")]:
                    union_type = self.u8(pos)
                continue
            if offset + 4 > tsize:
                raise LayoutError(f"{where}: {name} field {slot} ends past its table")
            target = pos + self.u32(pos)
            self.value(target, kind, f"{where}.{name}[{slot}]", union_type)

    def value(self, at: int, kind: str, where: str, union_type: int = 0) -> None:
        if kind == "union value":
            self._union(at, union_type, where)
        elif kind == "string":
            length = self.u32(at)
            self._need(at + 4, length + 1)  # and its terminating zero
        elif kind.startswith("["):
            inner = kind[1:-1]
            count = self.u32(at)
            if inner.isdigit():
                self._need(at + 4, count * int(inner))
                return
            self._need(at + 4, count * 4)
            for i in range(count):
                element = at + 4 + 4 * i
                self.value(element + self.u32(element), inner, f"{where}[{i}]")
        else:
            self.table(at, kind, where)

    def _union(self, at: int, tag: int, where: str) -> None:
        name = ATTRIBUTE_NAMES.get(tag)
        if name is None or name == "NONE":
            raise LayoutError(f"{where}: unknown attribute table {tag}")
        spec_name = _SPEC_NAME_OF_ATTRIBUTE.get(name)
        fields = attribute_table(spec_name).fields if spec_name else ()
        layout = [_FIELD_LAYOUT[FIELD_KINDS[f]] for f in fields] if spec_name else []
        self.table(at, name, where, layout)


def _spec_names_of_attributes() -> dict[str, str]:
    from ir.dialects.tosa_ext import OPS_BY_SPEC_NAME

    found = {}
    for spec_name in OPS_BY_SPEC_NAME:
        try:
            found[attribute_table(spec_name).cls.__name__] = spec_name
        except KeyError:
            continue
    return found


_SPEC_NAME_OF_ATTRIBUTE = _spec_names_of_attributes()


def verify_layout(buf: memoryview) -> None:
    """Raise ``LayoutError`` unless every object reachable from the root lies in ``buf``."""
    v = _Verifier(buf)
    root = v.u32(0)
    v.table(root, "TosaGraph", "graph")
