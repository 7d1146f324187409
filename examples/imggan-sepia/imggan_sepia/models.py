"""The network: a 1x1 convolution mixing RGB, built from a card's ``arch`` (``{"name": "colour-matrix"}``).

Example:
    >>> import torch
    >>> from imggan_sepia.models import build
    >>> net = build({"name": "colour-matrix"})
    >>> tuple(net(torch.rand(1, 3, 4, 4)).shape)
    (1, 3, 4, 4)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

ARCH = "colour-matrix"

# The usual sepia matrix, RGB in rows: out_r = 0.393 r + 0.769 g + 0.189 b, ...
SEPIA_MATRIX = ((0.393, 0.769, 0.189), (0.349, 0.686, 0.168), (0.272, 0.534, 0.131))


class ColourMatrix(nn.Module):
    """``y = M x`` per pixel, on N x 3 x H x W RGB in [0, 1] (clamped)."""

    def __init__(self) -> None:
        super().__init__()
        self.mix = nn.Conv2d(3, 3, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mix(x).clamp(0, 1)


def build(arch: dict[str, Any]) -> nn.Module:
    """The network a card describes; the core checks ``arch["name"]`` against :data:`ARCH` first."""
    if arch.get("name") != ARCH:
        raise ValueError(f"unknown architecture {arch.get('name')!r}")
    return ColourMatrix()


def sepia_network() -> ColourMatrix:
    """The network holding :data:`SEPIA_MATRIX` (what ``weights/sepia-classic.safetensors`` stores)."""
    net = ColourMatrix()
    with torch.no_grad():
        net.mix.weight.copy_(torch.tensor(SEPIA_MATRIX)[:, :, None, None])
    return net
