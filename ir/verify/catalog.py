"""Every rule the verifiers check, by id: the table ``--list-rules`` prints and every
diagnostic's ``[rule-id]`` points into. A rule reported under an id missing here is a bug."""

from __future__ import annotations

from ir.verify.diagnostic import Rule

_IO = "uint8 IO contract (ExecuTorch 'Arm backend: Support for uint8 I/O')"
_RESCALE = "TOSA 1.0.2 RESCALE"

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        # -- stage: where signedness may appear
        Rule(
            "structure",
            "op structure: operand/result counts, ranks, element types shared by a spec type "
            "variable",
            "TOSA 1.0.2 operator arguments",
        ),
        Rule(
            "signless-int8",
            "no signed or unsigned integer type after the signless stage (si8 never)",
            "TOSA 1.0 has only signless integers",
        ),
        Rule(
            "uint8-io-only",
            "in the typed stage ui8/ui16 appear only on function arguments/results and their "
            "boundary RESCALEs",
            _IO,
        ),
        Rule(
            "unsigned-input-flag",
            "an unsigned function argument is read only by RESCALEs with input_unsigned = true",
            _IO,
        ),
        Rule(
            "unsigned-output-flag",
            "an unsigned function result is produced only by a RESCALE with output_unsigned = true",
            _IO,
        ),
        Rule(
            "unsigned-flag-placement",
            "input_unsigned only on a RESCALE of a function argument, output_unsigned only on one "
            "feeding only the return; never inside cond/while",
            _IO,
        ),
        # -- RESCALE ERROR_IF / REQUIRE
        Rule(
            "rescale-zero-point",
            "zero points: non-zero only for 8-bit or unsigned 16-bit; unsigned 16-bit is 0 or "
            "32768",
            f"{_RESCALE} ERROR_IF",
        ),
        Rule(
            "rescale-scale32",
            "scale32 is false for 48-bit input; the multiplier is i32 with scale32, i16 without",
            f"{_RESCALE} ERROR_IF, mul_t",
        ),
        Rule(
            "rescale-rounding",
            "DOUBLE_ROUND needs scale32; DOUBLE_ROUND/INEXACT_ROUND need their extension",
            f"{_RESCALE} ERROR_IF, rounding_mode_t",
        ),
        Rule(
            "rescale-unsigned",
            "not both flags; no unsigned side with i32/i48",
            f"{_RESCALE} ERROR_IF",
        ),
        Rule(
            "rescale-per-channel",
            "per_channel needs rank >= 1; multiplier/shift have one entry per channel (last dim), "
            "else one",
            f"{_RESCALE} ERROR_IF, [NC]",
        ),
        Rule("rescale-shift", "every shift is in [2, 62]", "TOSA 1.0.2 apply_scale_32/16 REQUIRE"),
        Rule(
            "rescale-multiplier", "every multiplier is >= 0", "TOSA 1.0.2 apply_scale_32/16 REQUIRE"
        ),
        # -- every operator, from the spec tables
        Rule(
            "type-support",
            "the element types match a type-support mode of the operator",
            "TOSA 1.0.2 'Supported Data Types'",
        ),
        Rule(
            "spec-version",
            "the operator exists in the spec string's TOSA version (block-scaled MXFP operators "
            "are 1.1)",
            "TOSA 1.0.2 / 1.1 draft operator lists",
        ),
        Rule(
            "profile",
            "the matching mode is in a profile/extension the spec string enables",
            "TOSA 1.0.2 profiles and extensions",
        ),
        Rule(
            "compile-time-constant",
            "arguments the profile needs at compile time come from tosa.const/const_shape",
            "TOSA 1.0.2 argument ctc",
        ),
        Rule(
            "shape",
            "shapes agree with the operator's argument shapes (shared dimension names, fixed "
            "lengths)",
            "TOSA 1.0.2 operator arguments",
        ),
        Rule(
            "output-shape",
            "the output shape is the one the operator's arithmetic gives",
            "TOSA 1.0.2 ERROR_IF",
        ),
        Rule(
            "attribute-range",
            "attributes, constant operands and size limits are in range (stride, pad, kernel, "
            "axis, MUL shift, RESIZE scale and 16384 limit, FFT powers of two, ...)",
            "TOSA 1.0.2 ERROR_IF / REQUIRE",
        ),
        Rule(
            "zero-point",
            "convolution, matmul, avg_pool2d and negate zero points are 0 unless 8-bit",
            "TOSA 1.0.2 ERROR_IF",
        ),
        Rule(
            "level",
            "rank, kernel, stride, scale, tensor size, nesting and list size within the level",
            "TOSA 1.0.2 levels",
        ),
        Rule(
            "region-isolated",
            "a cond_if / while_loop region reads only its own arguments and values, none of the "
            "enclosing graph's",
            "TOSA 1.0.2 COND_IF / WHILE_LOOP: then/else/cond/body are graphs of their own",
        ),
    )
}

__all__ = ["RULES"]
