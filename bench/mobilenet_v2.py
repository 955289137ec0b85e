"""MobileNetV2 (Sandler et al. 2018) at 224x224, in plain torch with seeded weights.

torchvision does not install here, so the architecture is written out: the same layer
table as ``torchvision.models.mobilenet_v2`` (width 1.0, 1000 classes), ReLU6 as
``nn.ReLU6`` (``aten.hardtanh``, which the Arm quantizer annotates; ``F.relu6`` it
leaves float). Weights are random but seeded, so quantization parameters and so every
flatbuffer are the same on each run; the benchmark needs the shape of the graph, not
accuracy.
"""

from __future__ import annotations

import torch
from torch import nn

#: (expansion t, output channels c, repeats n, first stride s), as in the paper's table 2
INVERTED_RESIDUAL_SETTING = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
STEM_CHANNELS = 32
LAST_CHANNELS = 1280
NUM_CLASSES = 1000
INPUT_SHAPE = (1, 3, 224, 224)


def conv_bn_relu6(
    inp: int, out: int, kernel: int, stride: int = 1, groups: int = 1
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out),
        nn.ReLU6(),
    )


class InvertedResidual(nn.Module):
    """1x1 expand (skipped when t = 1), depthwise 3x3, linear 1x1 project, residual add
    when the shape is kept."""

    def __init__(self, inp: int, out: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = inp * expand
        layers = [conv_bn_relu6(inp, hidden, 1)] if expand != 1 else []
        layers += [
            conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, out, 1, bias=False),
            nn.BatchNorm2d(out),
        ]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and inp == out

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        layers = [conv_bn_relu6(3, STEM_CHANNELS, 3, stride=2)]
        channels = STEM_CHANNELS
        for t, c, n, s in INVERTED_RESIDUAL_SETTING:
            for i in range(n):
                layers.append(InvertedResidual(channels, c, s if i == 0 else 1, t))
                channels = c
        layers.append(conv_bn_relu6(channels, LAST_CHANNELS, 1))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Linear(LAST_CHANNELS, NUM_CLASSES)

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def mobilenet_v2(seed: int = 0) -> nn.Module:
    """The model in eval mode, weights from a forked RNG seeded with ``seed``; BatchNorm
    statistics are randomized too, so folding them changes the weights as in a trained net."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MobileNetV2()
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    return model.eval()


def example_inputs(seed: int = 0) -> tuple[torch.Tensor]:
    """One image in [0, 1): the calibration batch and the export example."""
    return (torch.rand(*INPUT_SHAPE, generator=torch.Generator().manual_seed(seed)),)
