"""RESCALE's ERROR_IF and REQUIRE lines (TOSA 1.0.2, ``RESCALE`` and ``apply_scale_32/16``).

MLIR's verifier checks some of the type lines; nothing but the reference model at run
time checks the REQUIRE ranges (shift in [2, 62], multiplier >= 0), and then only for the
values it happens to see. Here every constant multiplier and shift is read.

Zero points are read from their stored bits: an unsigned side reads them unsigned (the
signless byte 0xC8 is the unsigned zero point 200), so an 8-bit zero point is always in
range and a 16-bit unsigned one must be 0 or 32768.

The typed stage still writes i32/i48 -> ui8 in one RESCALE, as ExecuTorch's graph does;
``legalize-unsigned-io`` splits it in two because the spec forbids it, so that line is a
signless-stage rule.
"""

from __future__ import annotations

import numpy as np

from ir.dialects.tosa_ext import RescaleOp, RoundingMode
from ir.spec import tosa_spec
from ir.verify.core import SIGNLESS, Checker, constant_ints, flag, int_width, op_rule, shape

SHIFT_RANGE = (2, 62)
_UNSIGNED_16BIT_ZERO_POINTS = (0, 32768)


def _values_text(values: np.ndarray, bad: np.ndarray) -> str:
    shown = ", ".join(str(v) for v in values[bad][:4])
    more = f" (+{int(bad.sum()) - 4} more)" if bad.sum() > 4 else ""
    return f"{shown}{more}"


@op_rule(RescaleOp, group="rescale")
def zero_points(check: Checker, op: RescaleOp) -> None:
    for side, value, width in (
        ("input", op.input_zp, int_width(op.input.type)),
        ("output", op.output_zp, int_width(op.output.type)),
    ):
        unsigned = flag(op, f"{side}_unsigned")
        zp = constant_ints(value, unsigned=unsigned)
        if zp is None or width is None or not zp.size:
            continue
        zp_value = int(zp[0])
        if width == 16 and unsigned and zp_value not in _UNSIGNED_16BIT_ZERO_POINTS:
            check.report(
                "rescale-zero-point",
                op,
                f"{side}_zp {zp_value} of an unsigned 16-bit {side} must be 0 or 32768",
            )
        elif width != 8 and not (width == 16 and unsigned) and zp_value != 0:
            check.report(
                "rescale-zero-point",
                op,
                f"{side}_zp {zp_value} must be 0 for a "
                f"{'unsigned ' if unsigned else ''}{width}-bit {side}; "
                "only 8-bit and unsigned 16-bit sides have zero points",
            )


@op_rule(RescaleOp, group="rescale")
def scale32(check: Checker, op: RescaleOp) -> None:
    on = flag(op, "scale32")
    if on and int_width(op.input.type) == 48:
        check.report("rescale-scale32", op, "scale32 = true with a 48-bit input")
    want = 32 if on else 16
    got = int_width(op.multiplier.type)
    if got != want:
        check.report(
            "rescale-scale32",
            op,
            f"multiplier must be i{want} when scale32 = {str(on).lower()}, got i{got}",
        )


@op_rule(RescaleOp, group="rescale")
def rounding(check: Checker, op: RescaleOp) -> None:
    mode = op.rounding_mode.data
    if mode == RoundingMode.DOUBLE_ROUND and not flag(op, "scale32"):
        check.report("rescale-rounding", op, "DOUBLE_ROUND needs scale32 = true")
    extension = tosa_spec()["enum_extensions"]["rounding_mode_t"].get(str(mode))
    if extension and not check.target.enabled(extension):
        check.report(
            "rescale-rounding",
            op,
            f"rounding_mode {mode} needs {extension}, which {check.target.text} does not enable",
        )


@op_rule(RescaleOp, group="rescale", reads_stage=True)
def unsigned_sides(check: Checker, op: RescaleOp) -> None:
    in_width, out_width = int_width(op.input.type), int_width(op.output.type)
    in_unsigned, out_unsigned = flag(op, "input_unsigned"), flag(op, "output_unsigned")
    if in_unsigned and out_unsigned:
        check.report("rescale-unsigned", op, "input_unsigned and output_unsigned are both true")
    if in_unsigned and in_width in (32, 48):
        check.report(
            "rescale-unsigned", op, f"input_unsigned with an i{in_width} input (no u{in_width})"
        )
    if out_unsigned and out_width == 32:
        check.report("rescale-unsigned", op, "output_unsigned with an i32 output (no u32)")
    if in_unsigned and out_width == 32:
        check.report("rescale-unsigned", op, "input_unsigned with an i32 output")
    if out_unsigned and in_width in (32, 48) and check.stage == SIGNLESS:
        check.report(
            "rescale-unsigned",
            op,
            f"output_unsigned with an i{in_width} input: write i{in_width} -> i8, then i8 -> u8 "
            "(legalize-unsigned-io)",
        )


@op_rule(RescaleOp, group="rescale")
def per_channel(check: Checker, op: RescaleOp) -> None:
    dims = shape(op.input)
    on = flag(op, "per_channel")
    if on and dims is not None and len(dims) < 1:
        check.report("rescale-per-channel", op, "per_channel = true with a rank-0 input")
        return
    channels = dims[-1] if on and dims else 1
    if channels < 0:
        return
    for name, value in (("multiplier", op.multiplier), ("shift", op.shift)):
        length = (shape(value) or (None,))[0]
        if length is not None and length >= 0 and length != channels:
            reason = f"the input's last dimension {channels}" if on else "1 without per_channel"
            check.report(
                "rescale-per-channel", op, f"{name} has {length} entries, must be {reason}"
            )


@op_rule(RescaleOp, group="rescale")
def shift_and_multiplier(check: Checker, op: RescaleOp) -> None:
    shifts = constant_ints(op.shift)
    if shifts is not None:
        low, high = SHIFT_RANGE
        bad = (shifts < low) | (shifts > high)
        if bad.any():
            check.report(
                "rescale-shift", op, f"shift {_values_text(shifts, bad)} outside [{low}, {high}]"
            )
    multipliers = constant_ints(op.multiplier)
    if multipliers is not None:
        bad = multipliers < 0
        if bad.any():
            check.report(
                "rescale-multiplier", op, f"multiplier {_values_text(multipliers, bad)} < 0"
            )


__all__ = ["SHIFT_RANGE"]
