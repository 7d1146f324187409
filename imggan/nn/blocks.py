"""Small building blocks shared by the generators and discriminators.

Example:
    >>> import torch
    >>> from imggan.nn.blocks import ConvBlock, ResBlock
    >>> tuple(ConvBlock(3, 8, stride=2)(torch.zeros(1, 3, 16, 16)).shape)
    (1, 8, 8, 8)
    >>> tuple(ResBlock(8)(torch.zeros(1, 8, 4, 4)).shape)
    (1, 8, 4, 4)
"""

from __future__ import annotations

from torch import Tensor, nn

from imggan.nn.spectral import maybe_sn


def norm_layer(kind: str, channels: int) -> nn.Module:
    """``batch``, ``instance``, ``group`` (8 groups or fewer) or ``none``."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "group":
        groups = next(g for g in (8, 4, 2, 1) if channels % g == 0)
        return nn.GroupNorm(groups, channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}")


def activation(kind: str) -> nn.Module:
    """``relu``, ``lrelu`` (slope 0.2), ``silu`` or ``none``."""
    return {"relu": nn.ReLU, "lrelu": lambda: nn.LeakyReLU(0.2), "silu": nn.SiLU, "none": nn.Identity}[kind]()


class ConvBlock(nn.Sequential):
    """Conv (k x k, stride, same padding) -> norm -> activation; optional spectral norm on the conv."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int = 3,
        stride: int = 1,
        norm: str = "none",
        act: str = "lrelu",
        sn: bool = False,
        dilation: int = 1,
    ) -> None:
        padding = dilation * (kernel - 1) // 2
        conv = nn.Conv2d(cin, cout, kernel, stride, padding, dilation=dilation, bias=norm in ("none", "group"))
        super().__init__(maybe_sn(conv, sn), norm_layer(norm, cout), activation(act))


class ResBlock(nn.Module):
    """Two 3x3 conv blocks with a skip connection; the residual branch starts near zero (scaled 0.1)."""

    def __init__(self, channels: int, norm: str = "none", act: str = "lrelu", dilation: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(
            ConvBlock(channels, channels, norm=norm, act=act, dilation=dilation),
            ConvBlock(channels, channels, norm=norm, act="none"),
        )
        self.scale = 0.1

    def forward(self, x: Tensor) -> Tensor:
        return x + self.scale * self.body(x)


class Upsample(nn.Sequential):
    """Nearest x2 upsampling then a 3x3 conv block (no checkerboard artefacts of transposed convs)."""

    def __init__(self, cin: int, cout: int, norm: str = "none", act: str = "lrelu") -> None:
        super().__init__(nn.Upsample(scale_factor=2, mode="nearest"), ConvBlock(cin, cout, norm=norm, act=act))
