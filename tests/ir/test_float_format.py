"""``ir.float_format`` prints floats exactly like MLIR's AsmPrinter (``tosa-opt`` is the oracle).

For each float kind ~500 values (fixed seed) are put into ``tosa.const`` ops, 100 per
tensor so MLIR prints element lists rather than a hex blob. Two checks:

* the data is given to ``tosa-opt`` as raw hex bytes and its printed module must equal the
  module text built with ``mlir_float_text`` -- the printer agrees with MLIR;
* that expected text fed back through ``tosa-opt`` prints unchanged -- MLIR parses our
  text to the same values (a fixed point).
"""

import warnings

import ml_dtypes
import numpy as np
import pytest
from xdsl.dialects.builtin import BFloat16Type, Float32Type, Float80Type

from ir.float_format import mlir_float_text, mlir_float_text_from_bits
from ir.mlir_tools import run_tosa_opt

KINDS = {
    # kind: (dtype, unsigned view, width, exponent bits)
    "f16": (np.float16, np.uint16, 16, 5),
    "bf16": (ml_dtypes.bfloat16, np.uint16, 16, 8),
    "f32": (np.float32, np.uint32, 32, 8),
    "f64": (np.float64, np.uint64, 64, 11),
}
PER_TENSOR = 100
COUNT = 500


def _values(kind: str, seed: int) -> np.ndarray:
    """~COUNT values of ``kind``: scaled normals, integers, short decimals, raw bit
    patterns, subnormals, few-mantissa-bit values (halves, ...) and specials."""
    dtype, utype, width, exp_bits = KINDS[kind]
    mant_bits = width - 1 - exp_bits
    rng = np.random.default_rng(seed)
    m = COUNT // 7 + 1  # seven generated groups, plus the specials
    as_float = [
        rng.standard_normal(m) * 10.0 ** rng.uniform(-30, 30, m),
        rng.standard_normal(m) * 10.0 ** rng.integers(-8, 9, m),
        rng.integers(-(10**8), 10**8, m) / 10.0 ** rng.integers(0, 3, m),
        np.array(
            [
                round(float(x), int(k))
                for x, k in zip(rng.standard_normal(m) * 100, rng.integers(0, 7, m))
            ]
        ),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overflow to inf in narrow kinds is intended
        raws = [
            np.asarray(a, dtype=np.float64).astype(dtype).view(utype).astype(np.uint64)
            for a in as_float
        ]
    sign = rng.integers(0, 2, (3, m), dtype=np.uint64) << np.uint64(width - 1)
    raws.append(rng.integers(0, 2**width - 1, m, dtype=np.uint64, endpoint=True))
    raws.append(sign[0] | rng.integers(1, 2**mant_bits, m, dtype=np.uint64))
    exponent = rng.integers(1, 2**exp_bits - 1, m, dtype=np.uint64) << np.uint64(mant_bits)
    kept = rng.integers(0, min(mant_bits, 8) + 1, m)
    top = rng.integers(0, 2**mant_bits, m, dtype=np.uint64)
    mantissa = np.array(
        [int(t) >> (mant_bits - int(k)) << (mant_bits - int(k)) for t, k in zip(top, kept)],
        dtype=np.uint64,
    )
    raws.append(sign[1] | exponent | mantissa)
    inf = (2**exp_bits - 1) << mant_bits
    neg = 1 << (width - 1)
    quiet = 1 << (mant_bits - 1)
    specials = [
        0,
        neg,
        inf,
        inf | neg,
        inf | quiet,
        inf | quiet | neg,
        inf | 1,
        inf - 1,
        (inf - 1) | neg,
        1,
        1 | neg,
    ]
    raws.append(np.array(specials, dtype=np.uint64))
    return np.concatenate(raws).astype(utype).view(dtype)


def _module(kind: str, chunks: list[str]) -> str:
    """A module of ``tosa.const`` ops printed the way ``tosa-opt`` prints it."""
    lines = ["module {", "  func.func @f() {"]
    for i, (body, n) in enumerate(chunks):
        ty = f"tensor<{n}x{kind}>"
        lines.append(f'    %{i} = "tosa.const"() <{{values = dense<{body}> : {ty}}}> : () -> {ty}')
    lines += ["    return", "  }", "}"]
    return "\n".join(lines)


def _print(text: str) -> str:
    """``tosa-opt``'s printing of ``text`` (without the trailing blank line it adds)."""
    return run_tosa_opt(text).stdout.rstrip("\n")


@pytest.mark.parametrize("kind", list(KINDS))
def test_float_text_matches_mlir(kind):
    values = _values(kind, seed=2024)
    assert len(values) >= COUNT
    _, utype, width, _ = KINDS[kind]
    groups = [values[i : i + PER_TENSOR] for i in range(0, len(values), PER_TENSOR)]
    groups = [g for g in groups if len(g) > 1]  # a 1-element tensor would print as a splat

    texts = [[mlir_float_text(v) for v in g] for g in groups]
    expected = _module(kind, [("[" + ", ".join(t) + "]", len(t)) for t in texts])

    hex_data = [
        ('"0x' + g.view(utype).astype("<u" + str(width // 8)).tobytes().hex().upper() + '"', len(g))
        for g in groups
    ]
    printed = _print(_module(kind, hex_data))
    if printed != expected:
        got_lines, want_lines = printed.splitlines(), expected.splitlines()
        diffs = []
        for got, want in zip(got_lines, want_lines):
            g_elems, w_elems = got.split(", "), want.split(", ")
            diffs += [f"mlir={a!r} ours={b!r}" for a, b in zip(g_elems, w_elems) if a != b]
        pytest.fail(
            f"{kind}: {len(diffs)} differences from tosa-opt, e.g.\n" + "\n".join(diffs[:20])
        )

    # MLIR parses our text back to the same values, so the text is a fixed point.
    assert _print(expected) == expected


@pytest.mark.parametrize(
    "value, text",
    [
        (np.float32(1.5), "1.500000e+00"),
        (np.float32(734.926696), "734.926696"),
        (np.float32(16777216.0), "0x4B800000"),  # default form has no '.', so hex
        (np.float32(np.nan), "0x7FC00000"),
        (np.float32(-np.inf), "0xFF800000"),
        (ml_dtypes.bfloat16(1.328125), "1.328130e+00"),  # round half up, still round-trips
        (ml_dtypes.bfloat16(np.nan), "0x7FC0"),
        (np.float16(-0.0), "-0.000000e+00"),
        (np.float64(0.1), "1.000000e-01"),
        (np.float64(1234567.0), "0x4132D68700000000"),
    ],
)
def test_known_texts(value, text):
    assert mlir_float_text(value) == text


def test_api_variants():
    assert mlir_float_text(0.1) == "1.000000e-01"  # Python float is f64
    assert mlir_float_text(0.1, 16, "bf16") == mlir_float_text(ml_dtypes.bfloat16(0.1))
    assert mlir_float_text(np.float32(0.1), Float32Type()) == "1.000000e-01"
    assert mlir_float_text(0.1, BFloat16Type()) == mlir_float_text(ml_dtypes.bfloat16(0.1))
    assert mlir_float_text(np.float16(2.0), "f16") == "2.000000e+00"
    assert mlir_float_text_from_bits(0x7E00, "f16") == "0x7E00"
    with pytest.raises(ValueError):
        mlir_float_text(np.float32(1.0), 16, "f32")
    with pytest.raises(ValueError):
        mlir_float_text(1.0, Float80Type())
    with pytest.raises(ValueError):
        mlir_float_text_from_bits(0, "f8")
