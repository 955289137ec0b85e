"""The import rule table against ExecuTorch itself: every target it registers a TOSA 1.0
node visitor for has a rule, and RESCALE's multiplier/shift match its visitor exactly."""

import math
import random

import numpy as np
import pytest

from bridge.fx_rules import RULES, multiplier_and_shift, multipliers_and_shifts

#: specs whose visitor sets together are every TOSA 1.0 visitor ExecuTorch has
TOSA_1_0_SPECS = (
    "TOSA-1.0+INT",
    "TOSA-1.0+FP",
    "TOSA-1.0+INT+int16",
    "TOSA-1.0+FP+bf16",
    "TOSA-1.0+INT+FP+int16+int4+bf16+fft+cf+fp8e4m3+fp8e5m2",
    "TOSA-1.0+INT+u55",
)


def executorch_tosa_1_0_targets(specs=TOSA_1_0_SPECS) -> set[str]:
    import executorch.backends.arm.operators  # noqa: F401  (registers the visitors)
    from executorch.backends.arm.operators.node_visitor import _node_visitor_tuples
    from executorch.backends.arm.tosa.specification import TosaSpecification

    targets = set()
    for spec in specs:
        tuples = _node_visitor_tuples.get(TosaSpecification.create_from_string(spec))
        targets |= {target for target, _ in tuples}
    return targets


def test_every_executorch_tosa_1_0_target_has_a_rule():
    registered = executorch_tosa_1_0_targets()
    assert len(registered) > 60  # the registry really was read
    missing = sorted(registered - set(RULES))
    assert not missing, f"ExecuTorch lowers these FX targets but we have no rule: {missing}"


def test_every_rule_is_for_a_target_executorch_can_emit():
    """TOSA 1.0 targets, plus the block-scaled ones ExecuTorch writes under TOSA-1.1+FP."""
    emitted = executorch_tosa_1_0_targets() | executorch_tosa_1_0_targets(["TOSA-1.1+FP"])
    extra = sorted(set(RULES) - emitted - {"getitem"})
    assert not extra, f"rules for targets ExecuTorch 1.5.1 never emits: {extra}"
    block_scaled = {r for r in RULES if "BLOCK_SCALED" in r}
    assert len(block_scaled) == 3 and block_scaled <= executorch_tosa_1_0_targets(["TOSA-1.1+FP"])


def _scales() -> list[float]:
    rng = random.Random(0)
    scales = [10 ** rng.uniform(-12, 5) for _ in range(3000)]
    scales += [1.0, 0.5, 2.0**-40, 2.0**-31, 1 / 3, 0.9999999999, 1 - 2**-33, 1 - 2**-17, 0.0]
    scales += [math.ldexp(1 - 2**-40, e) for e in range(-60, 20)]
    return scales


@pytest.mark.parametrize("width", [16, 32])
def test_multiplier_and_shift_match_executorch(width):
    from executorch.backends.arm.operators.op_tosa_rescale import _compute_multiplier_and_shift

    for scale in _scales():
        try:
            (want_m,), (want_s,) = _compute_multiplier_and_shift([scale], width)
        except AssertionError:
            with pytest.raises(ValueError):
                multiplier_and_shift(scale, width)
            continue
        assert multiplier_and_shift(scale, width) == (want_m, want_s), scale


@pytest.mark.parametrize("width", [16, 32])
def test_per_channel_scales_at_once_match_executorch(width):
    """The vectorised form a per-channel RESCALE uses, on every scale ExecuTorch takes."""
    from executorch.backends.arm.operators.op_tosa_rescale import _compute_multiplier_and_shift

    legal = []
    for scale in _scales():
        try:
            _compute_multiplier_and_shift([scale], width)
        except AssertionError:
            continue
        legal.append(scale)
    want_m, want_s = _compute_multiplier_and_shift(legal, width)
    got_m, got_s = multipliers_and_shifts(np.array(legal), width)
    assert (got_m.tolist(), got_s.tolist()) == (list(want_m), list(want_s))


def test_multiplier_and_shift_refuses_negative_and_huge_scales():
    with pytest.raises(ValueError, match="multiplier >= 0"):
        multiplier_and_shift(-0.5, 32)
    with pytest.raises(ValueError, match=r"shift in \[2, 62\]"):
        multiplier_and_shift(2.0**40, 32)


def _outcome(compute):
    try:
        return compute()
    except ValueError as err:
        return f"ValueError: {err}"


@pytest.mark.parametrize("width", [16, 32])
def test_one_scale_in_python_is_the_vectorised_form(width):
    """A per-tensor RESCALE computes its one scale in plain Python: the same numbers as
    the numpy form, and the same error for a scale TOSA cannot take."""
    odd = [-0.0, -0.5, math.inf, -math.inf, math.nan, 5e-324, 2.0**-1074 * 3, 2.0**40, 1e308]
    for scale in _scales() + odd:
        vectorised = _outcome(
            lambda scale=scale: tuple(
                int(a[0]) for a in multipliers_and_shifts(np.array([scale]), width)
            )
        )
        assert _outcome(lambda scale=scale: multiplier_and_shift(scale, width)) == vectorised
