"""A zoo of small plain-torch models that ExecuTorch 1.5.1's Arm TOSA flow delegates.

Each ``ZooCase`` builds its model with seeded weights (``torch.random.fork_rng``, so the
caller's RNG is untouched) and its example inputs from a seeded ``torch.Generator``, so
the quantization parameters, and so the flatbuffers, are the same on every run. The
example inputs are also the only calibration batch.

``configs`` lists the keys of ``CONFIGS`` under which ExecuTorch 1.5.1 really lowers the
case to at least one TOSA partition (checked by running its flow); a config a case cannot
use is left out with a comment saying why. Each case's comment records, per config, the
partitions and the TOSA ops of ExecuTorch's flatbuffer as ``tosa-opt --tosa-deserialize``
shows it: "N ops" counts the non-constant ops (``tosa.yield`` included), "+C const" the
``tosa.const``/``tosa.const_shape``.

A config is ``(spec, uint8_io, quantization)``, the arguments of
``bridge.partitioner.tosa_level_partitions``; ``executorch_tosa_flatbuffers(case, key)`` gives
ExecuTorch's own flatbuffers for it (its own flow, independent of ``bridge.capture``).
The whole zoo, every config, lowers in about two minutes on a 2-core machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

# --------------------------------------------------------------------------- configs


class ZooConfig(NamedTuple):
    spec: str
    uint8_io: bool
    quantization: str = "8a8w"  # "16a8w": int16 activations, int8 weights


CONFIGS: dict[str, ZooConfig] = {
    "int-uint8-io": ZooConfig("TOSA-1.0+INT", True),
    "int": ZooConfig("TOSA-1.0+INT", False),
    "fp": ZooConfig("TOSA-1.0+FP", False),
    "int16": ZooConfig("TOSA-1.0+INT+int16", False, "16a8w"),
    # cond/while_loop are only delegated with the control-flow extension.
    "fp-cf": ZooConfig("TOSA-1.0+FP+cf", False),
    "int-cf": ZooConfig("TOSA-1.0+INT+cf", False),
    "int16-cf": ZooConfig("TOSA-1.0+INT+int16+cf", False, "16a8w"),
}

# The configs every plain feed-forward case below lowers under.
ALL = ("int-uint8-io", "int", "fp", "int16")
# Control flow: the "+cf" specs. Without +cf ExecuTorch rejects cond/while_loop ("does not
# support control flow extension") and delegates at most the predicate around them. uint8
# IO (+cf) fails in ExecuTorch 1.5.1, the uint8 IO config also landing on the branch/body
# submodules' IO: cond hits "tosa::rescale currently only supports int32, int16 and int8,
# not torch.uint8", while_loop "carried_inputs and body_output ... differ in dtype".
CONTROL_FLOW = ("fp-cf", "int-cf", "int16-cf")


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class ZooCase:
    name: str
    factory: Callable[[], nn.Module]
    inputs_factory: Callable[[], tuple[torch.Tensor, ...]]
    configs: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = set(self.configs) - set(CONFIGS)
        if unknown:
            raise ValueError(f"{self.name}: unknown configs {sorted(unknown)}")


def _seeded(seed: int, build: Callable[[], nn.Module]) -> Callable[[], nn.Module]:
    """A factory: ``build()`` under a forked, seeded RNG, in eval mode."""

    def factory() -> nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = build()
        return model.eval()

    return factory


def _inputs(
    *shapes: tuple[int, ...], seed: int, positive: bool = False
) -> Callable[[], tuple[torch.Tensor, ...]]:
    """An inputs factory: normal (or, with ``positive``, uniform [0, 1)) tensors."""

    def inputs_factory() -> tuple[torch.Tensor, ...]:
        generator = torch.Generator().manual_seed(seed)
        draw = torch.rand if positive else torch.randn
        return tuple(draw(*shape, generator=generator) for shape in shapes)

    return inputs_factory


# --------------------------------------------------------------------------- models
# ReLU6 is nn.ReLU6 (aten.hardtanh) throughout: F.relu6 exports as aten.relu6, which the
# Arm quantizer of torch 2.13 leaves unquantized, splitting the INT graph.


class SmallCNN(nn.Module):
    """Image classifier trunk: conv/ReLU, max pool, conv/ReLU, avg pool."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.act1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.act2 = nn.ReLU()
        self.pool2 = nn.AvgPool2d(2)

    def forward(self, x):
        x = self.pool1(self.act1(self.conv1(x)))
        return self.pool2(self.act2(self.conv2(x)))


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expand, depthwise 3x3, 1x1 project, residual add."""

    def __init__(self, channels: int = 8, expand: int = 2) -> None:
        super().__init__()
        hidden = channels * expand
        self.expand = nn.Conv2d(channels, hidden, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.act1 = nn.ReLU6()
        self.depthwise = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden, bias=False)
        self.bn2 = nn.BatchNorm2d(hidden)
        self.act2 = nn.ReLU6()
        self.project = nn.Conv2d(hidden, channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(channels)

    def forward(self, x):
        y = self.act1(self.bn1(self.expand(x)))
        y = self.act2(self.bn2(self.depthwise(y)))
        return x + self.bn3(self.project(y))


class SigmoidTanhGelu(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gelu = nn.GELU()

    def forward(self, x):
        return torch.sigmoid(x) + torch.tanh(x) * self.gelu(x)


class Softmax(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x):
        return self.softmax(x)


class Attention(nn.Module):
    """Single-head self-attention: softmax(q @ k^T * scale) @ v."""

    def __init__(self, dim: int = 16) -> None:
        super().__init__()
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.softmax = nn.Softmax(dim=-1)
        self.scale = dim**-0.5

    def forward(self, x):
        q, k, v = self.q(x), self.k(x), self.v(x)
        return self.softmax((q @ k.transpose(-2, -1)) * self.scale) @ v


class Concat(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(4, 4, 1)
        self.b = nn.Conv2d(4, 4, 3, padding=1)
        self.mix = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        return self.mix(torch.cat([self.a(x), self.b(x)], dim=1))


class MaxPool(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)

    def forward(self, x):
        return self.pool(x)


class AvgPool(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(2)

    def forward(self, x):
        return self.pool(x)


class Upsample(nn.Module):
    def __init__(self, mode: str) -> None:
        super().__init__()
        extra = {"align_corners": False} if mode == "bilinear" else {}
        self.up = nn.Upsample(scale_factor=2, mode=mode, **extra)

    def forward(self, x):
        return self.up(x)


class TransposeConv(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.deconv = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)

    def forward(self, x):
        return self.deconv(x)


class LSTM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(4, 4, num_layers=1, batch_first=True)

    def forward(self, x):
        return self.rnn(x)[0]


class GRU(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(4, 4, num_layers=1, batch_first=True)

    def forward(self, x):
        return self.rnn(x)[0]


class Cond(nn.Module):
    """``torch.cond`` on a data-dependent predicate, branches with different ops."""

    def forward(self, x):
        def true_branch(a):
            return torch.sigmoid(a) * 2.0

        def false_branch(a):
            return torch.relu(a) - 1.0

        return torch.cond(x.sum() > 0, true_branch, false_branch, [x])


class NestedCond(nn.Module):
    """A ``torch.cond`` in a branch of another, each predicate data dependent.

    The branches compute without float constants: with one (``sigmoid(a) * 2.0``) the
    quantized constant sits in the nested branch's graph module, and torch's decomposition
    in ``to_edge`` fails on it ("Attempting to use FunctionalTensor on its own") with int8
    IO as well, ExecuTorch's partitioner or ours.
    """

    def forward(self, x):
        def inner_true(a):
            return torch.sigmoid(a)

        def inner_false(a):
            return torch.relu(a)

        def outer_true(a):
            return torch.cond(a.amax() > 1.0, inner_true, inner_false, [a])

        def outer_false(a):
            return torch.tanh(a)

        return torch.cond(x.sum() > 0, outer_true, outer_false, [x])


class WhileLoop(nn.Module):
    """``while_loop``: double ``x`` until its sum reaches a limit (a buffer the condition
    captures, lifted into an extra loop input).

    The condition compares against a (1,)-tensor and squeezes, as ExecuTorch's own tests
    do: with ``v.sum() < 100.0`` (a Python float) the quantized condition returns a
    (1,)-tensor and torch rejects it ("cond_fn must return a boolean scalar tensor").
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("limit", torch.tensor((100.0,)))

    def forward(self, x):
        from torch._higher_order_ops.while_loop import while_loop

        def cond_fn(v):
            return torch.lt(v.sum(), self.limit).squeeze()

        def body_fn(v):
            return (torch.add(v, v),)

        return while_loop(cond_fn, body_fn, (x,))[0]


# uint8 IO behind data movement: what ExecuTorch 1.5.1 leaves on the CPU (UINT8_IO_ZOO).


class CatInputs(nn.Module):
    """``torch.cat`` of the graph inputs themselves (two or three, different ranges)."""

    def forward(self, *xs):
        return torch.cat(xs, dim=1)


class StackInputs(nn.Module):
    def forward(self, a, b):
        return torch.stack([a, b], dim=1)


class PixelShuffle(nn.Module):
    def forward(self, x):
        return nn.functional.pixel_shuffle(x, 2)


class SliceInput(nn.Module):
    """A slice and a view of the input, then a conv."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 1)

    def forward(self, x):
        return self.conv(x[:, 1:3].reshape(1, 2, 4, 8))


class ConvAndConcat(nn.Module):
    """One input feeding both a conv and the concat after it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x):
        return torch.cat([torch.relu(self.conv(x)), x], dim=1)


class ConcatOutput(nn.Module):
    """The output is the concat of two branches (each a conv)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return torch.cat([torch.relu(self.a(x)), self.b(x)], dim=1)


class ConvCatInput(nn.Module):
    """``cat((relu(conv(a)), b), 1)``: a computed branch and a raw input."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, a, b):
        return torch.cat([torch.relu(self.conv(a)), b], dim=1)


def _ranged(*shapes: tuple[int, ...], seed: int) -> Callable[[], tuple[torch.Tensor, ...]]:
    """Uniform inputs, input ``i`` in [0, i + 1): different ranges, so different uint8
    scales at the IO."""

    def inputs_factory() -> tuple[torch.Tensor, ...]:
        generator = torch.Generator().manual_seed(seed)
        return tuple(
            torch.rand(*shape, generator=generator) * (i + 1) for i, shape in enumerate(shapes)
        )

    return inputs_factory


# --------------------------------------------------------------------------- the zoo
# Every case gives one partition under each of its configs. Per config: non-constant TOSA
# ops (tosa.yield included) + constants, as tosa-opt shows ExecuTorch's flatbuffer; the
# main ops; lowering seconds on a 2-core machine.

ZOO: tuple[ZooCase, ...] = (
    # conv/ReLU/max pool/avg pool; int-uint8-io is the headline config (RESCALE flags at the
    # IO). int-uint8-io 10+25 (conv2d 2, max/avg_pool2d, rescale 4) | int 8+17 |
    # fp 8+9 (ReLU as clamp) | int16 10+17 (i16 activations, i48 accumulators). ~1.5 s each.
    ZooCase("cnn", _seeded(0, SmallCNN), _inputs((1, 3, 16, 16), seed=0, positive=True), ALL),
    # Linear layers become 1x1 conv2d between reshapes.
    # int-uint8-io 8+26 | int 6+18 | fp 5+10 | int16 7+18. ~1.5 s each.
    ZooCase("mlp", _seeded(1, MLP), _inputs((2, 16), seed=1), ALL),
    # BatchNorm folds into the convs; conv2d 2, depthwise_conv2d 1, add 1.
    # int-uint8-io 14+43 | int 12+35 | fp 8+11 | int16 13+31. ~1.8 s each.
    ZooCase(
        "inverted_residual",
        _seeded(2, InvertedResidual),
        _inputs((1, 8, 16, 16), seed=2),
        ALL,
    ),
    # INT: three TABLEs; fp: sigmoid, tanh, erf (GELU) and muls.
    # int-uint8-io 13+36 | int 11+28 | fp 9+7 | int16 14+40 (16-bit TABLE). ~1.3 s each.
    ZooCase("sigmoid_tanh_gelu", _seeded(3, SigmoidTanhGelu), _inputs((1, 4, 8, 8), seed=3), ALL),
    # INT: reduce_max, sub, TABLE (exp), reduce_sum, TABLE (reciprocal), mul; fp: exp and
    # reciprocal. int-uint8-io 16+43 | int 14+35 | fp 6+1 | int16 16+43. ~1.7 s each.
    ZooCase("softmax", _seeded(4, Softmax), _inputs((1, 4, 16), seed=4), ALL),
    # conv2d 3 (q, k, v), matmul 2, transpose 1, the softmax above.
    # int-uint8-io 35+95 | int 33+87 | fp 17+21 | int16 35+95. ~4 s each (fp 1.7 s).
    ZooCase("attention", _seeded(5, Attention), _inputs((1, 8, 16), seed=5), ALL),
    # Two convs concatenated and mixed by a third (a concat at the output would stay
    # outside the delegate under uint8 IO).
    # int-uint8-io 11+32 | int 9+24 | fp 6+12 | int16 9+24. ~1.5 s each.
    ZooCase("concat", _seeded(6, Concat), _inputs((1, 4, 8, 8), seed=6), ALL),
    # max_pool2d 3x3/2, pad 1, between NCHW<->NHWC transposes.
    # int-uint8-io 5+8 | int 3+0 | fp 3+0 | int16 3+0. ~1 s each.
    ZooCase("max_pool", _seeded(7, MaxPool), _inputs((1, 4, 8, 8), seed=7), ALL),
    # int-uint8-io 5+9 | int 3+1 | fp 3+1 | int16 3+1. ~1 s each.
    ZooCase("avg_pool", _seeded(8, AvgPool), _inputs((1, 4, 8, 8), seed=8), ALL),
    # RESIZE NEAREST_NEIGHBOR. int-uint8-io 5+11 | int 3+3 | fp 3+3 | int16 3+3. ~1 s each.
    ZooCase(
        "upsample_nearest",
        _seeded(9, lambda: Upsample("nearest")),
        _inputs((1, 4, 8, 8), seed=9),
        ALL,
    ),
    # RESIZE BILINEAR (INT: a RESCALE after it).
    # int-uint8-io 6+15 | int 4+7 | fp 3+3 | int16 4+7. ~1.2 s each.
    ZooCase(
        "upsample_bilinear",
        _seeded(10, lambda: Upsample("bilinear")),
        _inputs((1, 4, 8, 8), seed=10),
        ALL,
    ),
    # transpose_conv2d, stride 2, pad 1, output_padding 1.
    # int-uint8-io 6+16 | int 4+8 | fp 3+4 | int16 4+8. ~1 s each.
    ZooCase("transpose_conv", _seeded(11, TransposeConv), _inputs((1, 8, 8, 8), seed=11), ALL),
    # nn.LSTM(4, 4), two time steps, unrolled: slices, 1x1 convs, TABLEs (sigmoid/tanh).
    # int-uint8-io 74+188 | int 74+184 | fp 38+41 | int16 84+216. ~9.5 s each INT (fp 2 s):
    # the slowest case, hence the two steps.
    ZooCase("lstm", _seeded(12, LSTM), _inputs((1, 2, 4), seed=12), ALL),
    # nn.GRU(4, 4), two time steps. int 87+230 (10 s) | fp 37+39 (2.4 s). int-uint8-io and
    # int16 lower as well but are left out to keep the zoo's lowering time down (~10 s each).
    ZooCase("gru", _seeded(13, GRU), _inputs((1, 2, 4), seed=13), ("int", "fp")),
    # cond_if with a sigmoid/mul then branch and a clamp/sub else branch. The example input
    # takes the then branch; the else branch is quantized uncalibrated (torchao: "must run
    # observer before calling calculate_qparams", default qparams).
    # fp-cf 13+6 | int-cf 26+59 | int16-cf 24+51. 2-4 s each. Left out: fp/int/int16
    # (no +cf: the cond is never delegated, at most its predicate) and int-uint8-io (see
    # CONTROL_FLOW).
    ZooCase("cond", _seeded(14, Cond), _inputs((1, 4, 8), seed=14), CONTROL_FLOW),
    # a cond in the then branch of a cond; the example input takes both then branches.
    ZooCase("nested_cond", _seeded(16, NestedCond), _inputs((1, 4, 8), seed=16), CONTROL_FLOW),
    # while_loop with reduce_sum/greater in the cond region and add in the body.
    # fp-cf 10+3 | int-cf 22+47 | int16-cf 19+35. 1.5-2.7 s each. Left out: fp/int/int16
    # (no +cf: nothing delegated) and int-uint8-io (see CONTROL_FLOW).
    ZooCase(
        "while_loop",
        _seeded(15, WhileLoop),
        _inputs((1, 4, 8), seed=15, positive=True),
        CONTROL_FLOW,
    ),
)
# Whole zoo, 61 lowerings: ~125 s of lowering (~135 s wall with imports) on 2 cores.

CASES: dict[str, ZooCase] = {case.name: case for case in ZOO}


# --------------------------------------------------------------------------- uint8 IO
# Models whose int8-IO version ExecuTorch 1.5.1 delegates whole but whose uint8-IO version
# it leaves (partly) on the CPU in float: the quantizer will not share a qspec with a
# uint8 model input/output ("Shared-qspec bridge cluster touches uint8 model IO"), so the
# data movement stays float and the partitioner rejects it ("Node was not marked as
# quantized in the Arm backend"). ``bridge.Partitioner`` delegates each whole
# (``bridge.uint8_io``). ``executorch_outside`` lists the compute ops ExecuTorch's
# TOSAPartitioner leaves outside, as measured. Spec: UINT8_IO_SPEC, uint8 IO.

UINT8_IO_SPEC = "TOSA-1.0+INT"


@dataclass(frozen=True)
class Uint8IOCase:
    name: str
    factory: Callable[[], nn.Module]
    inputs_factory: Callable[[], tuple[torch.Tensor, ...]]
    executorch_outside: tuple[str, ...]


UINT8_IO_ZOO: tuple[Uint8IOCase, ...] = (
    # Nothing delegated by ExecuTorch: the cat is the only compute op.
    Uint8IOCase(
        "cat2", _seeded(20, CatInputs), _ranged((1, 3, 4, 4), (1, 3, 4, 4), seed=20), ("cat",)
    ),
    Uint8IOCase(
        "cat3",
        _seeded(21, CatInputs),
        _ranged((1, 3, 4, 4), (1, 2, 4, 4), (1, 1, 4, 4), seed=21),
        ("cat",),
    ),
    Uint8IOCase(
        "stack",
        _seeded(22, StackInputs),
        _ranged((1, 3, 4, 4), (1, 3, 4, 4), seed=22),
        ("cat", "view_copy"),
    ),
    Uint8IOCase(
        "pixel_shuffle",
        _seeded(23, PixelShuffle),
        _ranged((1, 8, 4, 4), seed=23),
        ("view_copy", "permute_copy", "_clone_dim_order", "view_copy", "_clone_dim_order"),
    ),
    # The conv is delegated; the slice and view in front of it stay on the CPU.
    Uint8IOCase(
        "slice_view",
        _seeded(24, SliceInput),
        _ranged((1, 4, 4, 8), seed=24),
        ("slice_copy", "view_copy"),
    ),
    # The conv is delegated; the concat after it stays on the CPU.
    Uint8IOCase(
        "conv_and_concat", _seeded(25, ConvAndConcat), _ranged((1, 3, 8, 8), seed=25), ("cat",)
    ),
    Uint8IOCase(
        "concat_output", _seeded(26, ConcatOutput), _ranged((1, 3, 8, 8), seed=26), ("cat",)
    ),
    Uint8IOCase(
        "conv_cat_input",
        _seeded(27, ConvCatInput),
        _ranged((1, 3, 8, 8), (1, 3, 8, 8), seed=27),
        ("cat",),
    ),
)

UINT8_IO_CASES: dict[str, Uint8IOCase] = {case.name: case for case in UINT8_IO_ZOO}

# Control flow with uint8 IO on UINT8_IO_CF_SPEC: ExecuTorch 1.5.1 fails inside its passes
# (the quantizer's submodule driver puts uint8 Q/DQ inside the regions; see CONTROL_FLOW);
# bridge.Partitioner delegates each whole. The zoo's cond, nested cond and while_loop.
UINT8_IO_CF_SPEC = "TOSA-1.0+INT+cf"
UINT8_IO_CONTROL_FLOW: dict[
    str, tuple[Callable[[], nn.Module], Callable[[], tuple[torch.Tensor, ...]]]
] = {
    "cond": (CASES["cond"].factory, CASES["cond"].inputs_factory),
    "nested_cond": (CASES["nested_cond"].factory, CASES["nested_cond"].inputs_factory),
    "while_loop": (CASES["while_loop"].factory, CASES["while_loop"].inputs_factory),
}


def case_configs() -> list[tuple[ZooCase, str]]:
    """Every (case, config key) pair of the zoo, for ``pytest.mark.parametrize``."""
    return [(case, key) for case in ZOO for key in case.configs]


def case_config_ids() -> list[str]:
    return [f"{case.name}-{key}" for case, key in case_configs()]


# --------------------------------------------------------------------------- lowering
# ExecuTorch's own flow, independent of bridge.capture (whose capture it is the oracle of):
# TOSAQuantizer, torch.export, to_edge_transform_and_lower with TOSAPartitioner, and the
# delegates' processed bytes, which TOSABackend fills with the bare TOSA flatbuffer.

_TOSA_FILE_IDENTIFIER = b"TOSA"


def _quiet():
    """bridge.capture's log silencer (only the silencer: the lowering here stays ExecuTorch's)."""
    from bridge.capture import quiet

    return quiet()


def executorch_tosa_flatbuffers(case: ZooCase | str, config: str) -> list[bytes]:
    """ExecuTorch's own TOSA flatbuffer of each partition of ``case`` under ``config``,
    in graph order; a RuntimeError if nothing is delegated."""
    case = CASES[case] if isinstance(case, str) else case
    cfg = CONFIGS[config]
    model, inputs = case.factory(), case.inputs_factory()
    with _quiet():
        from executorch.backends.arm.tosa.compile_spec import TosaCompileSpec
        from executorch.backends.arm.tosa.partitioner import TOSAPartitioner
        from executorch.exir import EdgeCompileConfig, to_edge_transform_and_lower
        from executorch.exir.lowered_backend_module import LoweredBackendModule

        from bridge.capture import (
            quantize_and_export,  # the recipe; partitioning stays ExecuTorch's
        )

        compile_spec = TosaCompileSpec(cfg.spec)
        exported = quantize_and_export(
            model, inputs, cfg.spec, cfg.uint8_io, quantization=cfg.quantization
        )
        edge = to_edge_transform_and_lower(
            exported,
            partitioner=[TOSAPartitioner(compile_spec)],
            # As ExecuTorch's own Arm flows (aot_arm_compiler, recipes, test harness): the
            # edge IR validity check re-runs the lowered graph through torch's verifier,
            # which rejects graphs the Arm flow handles (a scalar tosa.CONST_SHAPE).
            compile_config=EdgeCompileConfig(_check_ir_validity=False),
        )

    graph_module = edge.exported_program().graph_module
    blobs = [
        bytes(getattr(graph_module, node.target).processed_bytes)
        for node in graph_module.graph.nodes
        if node.op == "get_attr"
        and isinstance(getattr(graph_module, node.target), LoweredBackendModule)
    ]
    if not blobs:
        raise RuntimeError(f"{case.name}: ExecuTorch delegated nothing to TOSA for {cfg.spec}")
    for index, blob in enumerate(blobs):
        if blob[4:8] != _TOSA_FILE_IDENTIFIER:
            raise ValueError(f"{case.name}: partition {index} is not a TOSA flatbuffer")
    return blobs


__all__ = [
    "CASES",
    "CONFIGS",
    "UINT8_IO_CASES",
    "UINT8_IO_CF_SPEC",
    "UINT8_IO_CONTROL_FLOW",
    "UINT8_IO_SPEC",
    "UINT8_IO_ZOO",
    "ZOO",
    "Uint8IOCase",
    "ZooCase",
    "ZooConfig",
    "case_config_ids",
    "case_configs",
    "executorch_tosa_flatbuffers",
]
