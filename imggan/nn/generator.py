"""Generators usable by the heads: a U-Net and a ResNet (encoder, residual body, decoder).

Both map an NxCinxHxW input to NxCoutxHxW (H and W divisible by ``2**depth``). The output layer is
zero-initialised when ``residual=True``, so the network starts as the identity on its first ``out_channels``
input channels -- the shape the field notes found trains fastest and safest (a residual over a classical
fill or a noisy image).

Example:
    >>> import torch
    >>> from imggan.nn.generator import UNetGenerator
    >>> g = UNetGenerator(in_channels=4, out_channels=3, width=8, depth=2, residual=True)
    >>> x = torch.rand(1, 4, 32, 32)
    >>> bool(torch.equal(g(x), x[:, :3]))     # zero-initialised residual head: identity at the start
    True
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from imggan.nn.blocks import ConvBlock, ResBlock, Upsample


class UNetGenerator(nn.Module):
    """U-Net: ``depth`` stride-2 downsamplings, ``middle`` dilated residual blocks, skip-connected decoder.

    Args:
        in_channels, out_channels: input and output channels.
        width: channels at full resolution (doubled per level up to ``max_width``).
        depth: number of downsamplings.
        middle: residual blocks at the lowest resolution (dilations 1, 2, 4, ... widen the receptive field).
        norm: normalisation in the blocks (``none``, ``group``, ``instance``, ``batch``).
        residual: add the output to the input's first ``out_channels`` channels (zero-initialised head).
        out_act: ``none``, ``sigmoid`` or ``tanh`` applied at the end (after the residual sum).
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        width: int = 32,
        depth: int = 3,
        middle: int = 2,
        norm: str = "none",
        residual: bool = False,
        out_act: str = "none",
        max_width: int = 256,
    ) -> None:
        super().__init__()
        self.residual = residual
        self.out_act = out_act
        self.stem = ConvBlock(in_channels, width, 3, norm="none")
        self.down = nn.ModuleList()
        widths = [width]
        channels = width
        for _ in range(depth):
            nxt = min(channels * 2, max_width)
            self.down.append(nn.Sequential(ConvBlock(channels, nxt, 4, 2, norm=norm), ConvBlock(nxt, nxt, norm=norm)))
            widths.append(nxt)
            channels = nxt
        self.middle = nn.Sequential(*[ResBlock(channels, norm=norm, dilation=2**i) for i in range(middle)])
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for skip in reversed(widths[:-1]):
            self.up.append(Upsample(channels, skip, norm=norm))
            self.merge.append(ConvBlock(2 * skip, skip, norm=norm))
            channels = skip
        self.head = nn.Conv2d(channels, out_channels, 3, 1, 1)
        if residual:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(self, x: Tensor) -> Tensor:
        skips = [self.stem(x)]
        h = skips[0]
        for down in self.down:
            h = down(h)
            skips.append(h)
        h = self.middle(skips.pop())
        for up, merge in zip(self.up, self.merge, strict=True):
            h = merge(torch.cat([up(h), skips.pop()], dim=1))
        out = self.head(h)
        if self.residual:
            out = out + x[:, : out.shape[1]]
        return _finish(out, self.out_act)


class ResNetGenerator(nn.Module):
    """Encoder (``depth`` stride-2 convs) -> ``blocks`` residual blocks -> decoder (nearest upsampling).

    The pix2pixHD/CycleGAN-style body; ``residual`` and ``out_act`` as in :class:`UNetGenerator`.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        width: int = 32,
        depth: int = 2,
        blocks: int = 6,
        norm: str = "instance",
        residual: bool = False,
        out_act: str = "none",
    ) -> None:
        super().__init__()
        self.residual = residual
        self.out_act = out_act
        layers: list[nn.Module] = [ConvBlock(in_channels, width, 7, norm=norm, act="relu")]
        channels = width
        for _ in range(depth):
            layers.append(ConvBlock(channels, channels * 2, 3, 2, norm=norm, act="relu"))
            channels *= 2
        layers += [ResBlock(channels, norm=norm, act="relu") for _ in range(blocks)]
        for _ in range(depth):
            layers.append(Upsample(channels, channels // 2, norm=norm, act="relu"))
            channels //= 2
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(channels, out_channels, 7, 1, 3)
        if residual:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(self, x: Tensor) -> Tensor:
        out = self.head(self.body(x))
        if self.residual:
            out = out + x[:, : out.shape[1]]
        return _finish(out, self.out_act)


def _finish(x: Tensor, act: str) -> Tensor:
    if act == "sigmoid":
        return torch.sigmoid(x)
    if act == "tanh":
        return torch.tanh(x)
    return x
