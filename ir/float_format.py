"""Print floating-point values exactly the way MLIR's AsmPrinter does.

MLIR prints a float (a ``FloatAttr`` or one element of a ``dense<[...]>`` list) with
``printFloatValue`` in ``mlir/lib/IR/AsmPrinter.cpp``:

1. finite values are first formatted with
   ``APFloat::toString(str, FormatPrecision=6, FormatMaxPadding=0, TruncateZero=false)``
   (always scientific, six significant digits, e.g. ``1.500000e+00``); if that string
   parses back (round to nearest, ties to even) to the bit-identical value it is used;
2. otherwise ``APFloat::toString(str)`` with its defaults is used (enough digits to
   round-trip, up to three zeros of padding, ``E`` exponent, e.g. ``734.926696`` or
   ``1.00000001E-10``), provided the text contains a ``'.'``;
3. otherwise -- infinities, NaNs and finite values whose default text is a bare integer
   such as ``16777216`` -- the raw bit pattern is printed as an upper-case C hex literal
   without leading zeros (``0x7FC00000``, ``0xFF80``, ``0x4B800000``).

``_to_string`` below is a port of LLVM's ``toStringImpl`` / ``AdjustToPrecision`` from
``llvm/lib/Support/APFloat.cpp``, quirks included: the decimal significand is first
*truncated* to a few digits more than needed, and the final rounding looks only at the
single next digit and rounds half up. The parse-back step is an exact (Fraction based)
correctly rounded conversion, matching ``APFloat::convertFromString``.

Public API
----------
``mlir_float_text(value, bits=None, kind=None) -> str``
    ``value`` is a numpy scalar (``np.float16``, ``ml_dtypes.bfloat16``,
    ``np.float32``, ``np.float64``, the ``ml_dtypes`` fp8 types) or a Python float/int.
    ``kind`` is one of ``KINDS`` (``"f16"``, ``"bf16"``, ``"f32"``, ``"f64"``, ``"f8E5M2"``,
    ``"f8E4M3FN"``, ``"f8E8M0FNU"``, ``"f6E2M3FN"``, ``"f6E3M2FN"``, ``"f4E2M1FN"``: MLIR's
    type names); when omitted it is taken from the
    value's dtype (Python floats count as ``"f64"``). ``bits`` is optional and may be
    the bit width (16/32/64, checked against ``kind``), a kind string, or an xDSL
    float type (``Float32Type()`` ...; anything whose ``.name`` is a kind), so
    ``mlir_float_text(v, element_type)`` works. A value whose dtype differs from the
    kind is first converted (rounded) to it.
``mlir_float_text_from_bits(raw: int, kind: str) -> str``
    The same, from the raw IEEE bit pattern (an unsigned integer).
``KINDS``
    The supported kind names.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ir.dtypes import FLOAT_STORAGE_BY_NAME

__all__ = ["KINDS", "mlir_float_text", "mlir_float_text_from_bits"]


@dataclass(frozen=True)
class _Sem:
    """Binary float format: total width, exponent field width, precision (incl. hidden
    bit), and how it departs from IEEE the way LLVM's ``fltSemantics`` say: ``nan_only``
    formats have no infinities and only the all-ones pattern (sign aside) is NaN, so the
    all-ones exponent holds finite values (f8E4M3FN: 448); ``unsigned`` formats have no
    sign bit and ``no_zero`` ones no zero and no subnormals (f8E8M0FNU: 2**(e - 127));
    ``finite_only`` formats have neither (f4E2M1FN, f6E2M3FN, f6E3M2FN: every pattern is a
    number, the all-ones exponent included)."""

    width: int
    exp_bits: int
    precision: int
    dtype: np.dtype
    uint: np.dtype
    nan_only: bool = False
    unsigned: bool = False
    no_zero: bool = False
    finite_only: bool = False

    @property
    def bias(self) -> int:
        return (1 << (self.exp_bits - 1)) - 1

    @property
    def emax(self) -> int:
        return self.bias + 1 if self.nan_only or self.finite_only else self.bias

    @property
    def emin(self) -> int:
        return -self.bias if self.no_zero else 1 - self.bias

    @property
    def sign_bit(self) -> int:
        return 0 if self.unsigned else 1 << (self.width - 1)

    def is_nonfinite(self, raw: int) -> bool:
        """Infinity or NaN."""
        mant_bits = self.precision - 1
        magnitude = raw & ~self.sign_bit
        if self.finite_only:
            return False
        if self.nan_only:
            return magnitude == ~self.sign_bit & ((1 << self.width) - 1)
        return magnitude >> mant_bits == (1 << self.exp_bits) - 1


def _carriers(kind: str) -> tuple[np.dtype, np.dtype]:
    """The numpy dtype of a float kind (``ir.dtypes``, the one table) and the unsigned
    integer of its size its bits are read through."""
    dtype = FLOAT_STORAGE_BY_NAME[kind]
    return dtype, np.dtype(f"<u{dtype.itemsize}")


_SEMANTICS: dict[str, _Sem] = {
    "f16": _Sem(16, 5, 11, *_carriers("f16")),
    "bf16": _Sem(16, 8, 8, *_carriers("bf16")),
    "f32": _Sem(32, 8, 24, *_carriers("f32")),
    "f64": _Sem(64, 11, 53, *_carriers("f64")),
    "f8E5M2": _Sem(8, 5, 3, *_carriers("f8E5M2")),
    "f8E4M3FN": _Sem(8, 4, 4, *_carriers("f8E4M3FN"), nan_only=True),
    "f8E8M0FNU": _Sem(8, 8, 1, *_carriers("f8E8M0FNU"), nan_only=True, unsigned=True, no_zero=True),
    "f6E2M3FN": _Sem(6, 2, 4, *_carriers("f6E2M3FN"), finite_only=True),
    "f6E3M2FN": _Sem(6, 3, 3, *_carriers("f6E3M2FN"), finite_only=True),
    "f4E2M1FN": _Sem(4, 2, 2, *_carriers("f4E2M1FN"), finite_only=True),
}

KINDS = tuple(_SEMANTICS)


# --------------------------------------------------------------------------- toString
def _to_string(
    negative: bool,
    exp: int,
    significand: int,
    sem_precision: int,
    format_precision: int,
    format_max_padding: int,
    truncate_zero: bool,
) -> str:
    """Port of APFloat's ``toStringImpl`` for a finite non-zero ``significand * 2**exp``."""
    out = ["-"] if negative else []

    if not format_precision:
        # 2 + floor(significandBits / lg2(10)), computed like LLVM does.
        format_precision = 2 + sem_precision * 59 // 196

    # Ignore trailing binary zeros.
    tz = (significand & -significand).bit_length() - 1
    exp += tz
    significand >>= tz

    # Change the exponent from 2^e to 10^e.
    if exp > 0:
        significand <<= exp
        exp = 0
    elif exp < 0:
        significand *= 5 ** (-exp)  # N * 2^-e == N * 5^e * 10^-e

    # AdjustToPrecision(APInt&): drop (truncate!) decimal digits that are surely
    # beyond the requested precision.
    bits = significand.bit_length()
    bits_required = (format_precision * 196 + 58) // 59
    if bits > bits_required:
        tens_removable = (bits - bits_required) * 59 // 196
        if tens_removable:
            exp += tens_removable
            significand //= 10**tens_removable

    # Fill the buffer, least significant digit first, dropping trailing zeros.
    digits = str(significand)
    stripped = digits.rstrip("0")
    exp += len(digits) - len(stripped)
    buffer = list(reversed(stripped))

    # AdjustToPrecision(buffer): round half up on the next digit only.
    n = len(buffer)
    if n > format_precision:
        first = n - format_precision
        if buffer[first - 1] < "5":
            while first < n and buffer[first] == "0":
                first += 1
            exp += first
            buffer = buffer[first:]
        else:
            for i in range(first, n):
                if buffer[i] == "9":
                    first += 1
                else:
                    buffer[i] = chr(ord(buffer[i]) + 1)
                    break
            if first == n:
                exp += first
                buffer = ["1"]
            else:
                exp += first
                buffer = buffer[first:]

    ndigits = len(buffer)

    # Scientific or not?
    if not format_max_padding:
        scientific = True
    elif exp >= 0:
        scientific = exp > format_max_padding or ndigits + exp > format_precision
    else:
        msd = exp + ndigits - 1
        scientific = False if msd >= 0 else -msd > format_max_padding

    if scientific:
        exp += ndigits - 1
        out.append(buffer[ndigits - 1])
        out.append(".")
        if ndigits == 1 and truncate_zero:
            out.append("0")
        else:
            out.extend(buffer[ndigits - 1 - i] for i in range(1, ndigits))
        if not truncate_zero and format_precision > ndigits - 1:
            out.append("0" * (format_precision - ndigits + 1))
        out.append("E" if truncate_zero else "e")
        out.append("+" if exp >= 0 else "-")
        exp_digits = str(abs(exp))
        if not truncate_zero and len(exp_digits) < 2:
            exp_digits = "0" + exp_digits
        out.append(exp_digits)
        return "".join(out)

    if exp >= 0:
        out.extend(reversed(buffer))
        out.append("0" * exp)
        return "".join(out)

    whole = exp + ndigits
    i = 0
    if whole > 0:
        while i != whole:
            out.append(buffer[ndigits - i - 1])
            i += 1
        out.append(".")
    else:
        out.append("0.")
        out.append("0" * (-whole))
    while i != ndigits:
        out.append(buffer[ndigits - i - 1])
        i += 1
    return "".join(out)


def _zero_string(
    negative: bool, format_precision: int, format_max_padding: int, truncate_zero: bool
) -> str:
    out = "-" if negative else ""
    if format_max_padding:
        return out + "0"
    if truncate_zero:
        return out + "0.0E+0"
    return out + "0.0" + "0" * max(format_precision - 1, 0) + "e+00"


# --------------------------------------------------------------------------- parse back
def _round_to_bits(text: str, sem: _Sem) -> int:
    """Correctly rounded (nearest, ties to even) decimal -> bit pattern of ``sem``."""
    negative = text.startswith("-")
    value = abs(Fraction(text))
    sign_bit = sem.sign_bit if negative else 0
    mant_bits = sem.precision - 1
    if value == 0:
        return sign_bit
    num, den = value.numerator, value.denominator
    # e = floor(log2(value))
    e = num.bit_length() - den.bit_length()
    if (num << max(-e, 0)) < (den << max(e, 0)):
        e -= 1
    e = max(e, sem.emin)
    q = e - mant_bits  # exponent of the unit in the last place
    scaled = value / Fraction(2) ** q
    n = scaled.numerator // scaled.denominator
    rem = scaled - n
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and n & 1):
        n += 1
    if n == 1 << sem.precision:
        n >>= 1
        q += 1
    nan = sign_bit | (~sem.sign_bit & ((1 << sem.width) - 1))  # also the largest finite-only value
    if q + mant_bits > sem.emax:
        return (
            nan
            if sem.nan_only or sem.finite_only
            else sign_bit | (((1 << sem.exp_bits) - 1) << mant_bits)
        )
    if n < 1 << mant_bits:  # subnormal (or rounded to zero)
        return sign_bit | n
    biased = q + mant_bits + sem.bias
    bits = sign_bit | (biased << mant_bits) | (n - (1 << mant_bits))
    return nan if sem.is_nonfinite(bits) else bits  # NaN-only formats overflow to NaN


# --------------------------------------------------------------------------- printFloatValue
def mlir_float_text_from_bits(raw: int, kind: str) -> str:
    """MLIR's printed text for the float of format ``kind`` whose bit pattern is ``raw``."""
    try:
        sem = _SEMANTICS[kind]
    except KeyError:
        raise ValueError(f"unsupported float kind {kind!r}; expected one of {KINDS}") from None
    raw = int(raw)
    if not 0 <= raw < (1 << sem.width):
        raise ValueError(f"bit pattern {raw:#x} does not fit in {sem.width} bits")

    mant_bits = sem.precision - 1
    negative = bool(raw & sem.sign_bit)
    biased = (raw >> mant_bits) & ((1 << sem.exp_bits) - 1)
    mantissa = raw & ((1 << mant_bits) - 1)

    if not sem.is_nonfinite(raw):
        if biased == 0 and mantissa == 0 and not sem.no_zero:
            text = _zero_string(negative, 6, 0, False)
        else:
            if biased == 0 and not sem.no_zero:  # subnormal
                significand, exponent = mantissa, sem.emin
            else:
                significand, exponent = mantissa | (1 << mant_bits), biased - sem.bias
            exp = exponent - mant_bits
            text = _to_string(negative, exp, significand, sem.precision, 6, 0, False)
        if _round_to_bits(text, sem) == raw:
            return text
        # Zero always round-trips, so only non-zero values get here.
        text = _to_string(negative, exp, significand, sem.precision, 0, 3, True)
        if "." in text:
            return text

    # Infinity, NaN, or a default text without '.': hex of the bits.
    return f"0x{raw:X}"


def _kind_of(value) -> str:
    if isinstance(value, (float, int)) and not isinstance(value, np.generic):
        return "f64"
    dtype = np.asarray(value).dtype
    for kind, sem in _SEMANTICS.items():
        if dtype == np.dtype(sem.dtype):
            return kind
    raise TypeError(f"cannot infer the float kind of {value!r} (dtype {dtype})")


def mlir_float_text(value, bits=None, kind: str | None = None) -> str:
    """MLIR's printed text for the float ``value`` (see the module docstring)."""
    if bits is not None and not isinstance(bits, (int, np.integer)):
        # A kind string or an xDSL float type (its ``name`` is "f16", "bf16", ...).
        named = bits if isinstance(bits, str) else getattr(bits, "name", None)
        if named not in _SEMANTICS:
            raise ValueError(f"unsupported float type {bits!r}; expected one of {KINDS}")
        if kind is not None and kind != named:
            raise ValueError(f"float type {named!r} does not match kind {kind!r}")
        kind, bits = named, None
    if kind is None:
        kind = _kind_of(value)
    try:
        sem = _SEMANTICS[kind]
    except KeyError:
        raise ValueError(f"unsupported float kind {kind!r}; expected one of {KINDS}") from None
    if bits is not None and bits != sem.width:
        raise ValueError(f"bit width {bits} does not match kind {kind!r} ({sem.width} bits)")
    raw = np.asarray(value).astype(sem.dtype).reshape(()).view(sem.uint).item()
    return mlir_float_text_from_bits(raw, kind)
