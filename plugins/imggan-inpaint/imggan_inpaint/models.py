"""The inpainting networks: a residual generator over a classical fill, and a PatchGAN discriminator.

The generator never starts from nothing: :func:`imggan_inpaint.fill.pyramid_fill` first fills the hole with
a smooth continuation of its surroundings (already as good as a biharmonic solve), and the network only adds
a residual inside the hole. Its body is a small U-Net that works at half resolution (pixel-unshuffle) with
dilated residual blocks and a Fourier unit at 1/8 resolution, so one pass sees the whole image cheaply.
The head is zero-initialised: an untrained generator returns exactly the classical fill.

Example:
    >>> import torch
    >>> from imggan_inpaint.models import InpaintGenerator
    >>> g = InpaintGenerator(widths=(8, 16, 24), blocks=1)
    >>> image = torch.rand(1, 3, 64, 64); hole = torch.zeros(1, 1, 64, 64); hole[..., 8:24, 8:24] = 1
    >>> out = g(image, hole)
    >>> tuple(out.shape), bool(torch.equal(out * (1 - hole), image * (1 - hole)))
    ((1, 3, 64, 64), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from imggan_inpaint.fill import pyramid_fill

ARCH_NAME = "imggan-inpaint-residual-unet-v2"


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2, inplace=True)


class ResBlock(nn.Module):
    """Two 3x3 convolutions (the first dilated) with a scaled residual path; no normalisation."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation, padding_mode="reflect")
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.act = _act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.5 * self.conv2(self.act(self.conv1(x)))


class FourierUnit(nn.Module):
    """A 1x1 convolution in the 2-D Fourier domain: every output pixel sees the whole feature map."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.act = _act()
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        spec = torch.fft.rfft2(x.float(), norm="ortho")
        z = torch.cat([spec.real, spec.imag], 1)
        z = self.act(self.conv(z))
        real, imag = z.chunk(2, 1)
        y = torch.fft.irfft2(torch.complex(real.float(), imag.float()), s=(h, w), norm="ortho").to(x.dtype)
        return x + 0.5 * self.out(y)


class InpaintGenerator(nn.Module):
    """Residual U-Net over the pyramid fill; known pixels are always copied back exactly.

    Args:
        widths: channels at 1/2, 1/4 and 1/8 resolution.
        blocks: dilated residual blocks at 1/8 resolution (dilations cycle 1, 2, 4, 8).
        fourier: add a global Fourier unit after the blocks.
        fill_iterations: Jacobi sweeps of the classical fill on the finest level.
    """

    def __init__(
        self,
        widths: Sequence[int] = (32, 64, 96),
        blocks: int = 4,
        fourier: bool = True,
        fill_iterations: int = 8,
    ) -> None:
        super().__init__()
        c1, c2, c3 = widths
        self.config: dict[str, Any] = {
            "widths": list(widths),
            "blocks": blocks,
            "fourier": fourier,
            "fill_iterations": fill_iterations,
        }
        self.fill_iterations = fill_iterations
        self.stem = nn.Sequential(nn.PixelUnshuffle(2), nn.Conv2d(24, c1, 3, padding=1, padding_mode="reflect"), _act())
        self.down1 = nn.Sequential(nn.Conv2d(c1, c2, 4, stride=2, padding=1, padding_mode="reflect"), _act())
        self.down2 = nn.Sequential(nn.Conv2d(c2, c3, 4, stride=2, padding=1, padding_mode="reflect"), _act())
        body: list[nn.Module] = [ResBlock(c3, (1, 2, 4, 8)[i % 4]) for i in range(blocks)]
        if fourier:
            body.append(FourierUnit(c3))
        self.body = nn.Sequential(*body)
        # Decoder: a 1x1 projection at the coarse scale, bilinear upsampling, the skip added, one 3x3 conv.
        self.up2 = nn.Conv2d(c3, c2, 1)
        self.merge2 = nn.Sequential(nn.Conv2d(c2, c2, 3, padding=1, padding_mode="reflect"), _act())
        self.up1 = nn.Conv2d(c2, c1, 1)
        self.merge1 = nn.Sequential(nn.Conv2d(c1, c1, 3, padding=1, padding_mode="reflect"), _act())
        self.head = nn.Sequential(nn.Conv2d(c1, 12, 3, padding=1, padding_mode="reflect"), nn.PixelShuffle(2))
        nn.init.zeros_(self.head[0].weight)
        nn.init.zeros_(self.head[0].bias)

    def residual(self, filled: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """The network's correction to ``filled`` (any size; padded internally, cropped back)."""
        h, w = filled.shape[-2:]
        # Multiples of 8, and at least 80 px so the dilated convolutions at 1/8 scale fit their padding.
        ph, pw = max((-h) % 8, 80 - h), max((-w) % 8, 80 - w)
        x = torch.cat([filled * 2 - 1, hole, 1 - hole, filled.mean(1, keepdim=True) * 2 - 1], 1)
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        s1 = self.stem(x)
        s2 = self.down1(s1)
        y = self.body(self.down2(s2))
        y = F.interpolate(self.up2(y), size=s2.shape[-2:], mode="bilinear", align_corners=False)
        y = self.merge2(y + s2)
        y = F.interpolate(self.up1(y), size=s1.shape[-2:], mode="bilinear", align_corners=False)
        y = self.merge1(y + s1)
        return self.head(y)[..., :h, :w]

    def forward(self, image: torch.Tensor, hole: torch.Tensor, filled: torch.Tensor | None = None) -> torch.Tensor:
        """Fill the holes of ``image`` (Bx3xHxW in [0, 1]); ``hole`` is Bx1xHxW, 1 = missing.

        ``filled`` may pass a precomputed classical fill. The result equals ``image`` outside the hole.
        """
        hole = (hole > 0.5).to(image.dtype)
        known = image * (1 - hole)
        if filled is None:
            with torch.no_grad():
                filled = pyramid_fill(known, hole, iterations=self.fill_iterations)
        out = filled + self.residual(filled, hole)
        return known + out * hole


def PatchDiscriminator(width: int = 32, in_channels: int = 4) -> nn.Module:  # noqa: N802 - reads as a class
    """The core's spectral-norm PatchGAN (``imggan.nn.discriminator``) sized for image + hole mask.

    Args:
        width: channels of the first layer (doubled twice, capped at ``4 * width``).
        in_channels: 3 image channels + 1 mask channel.
    """
    from imggan.nn.discriminator import PatchDiscriminator as CorePatchDiscriminator

    return CorePatchDiscriminator(
        in_channels=in_channels, width=width, layers=3, spectral_norm=True, max_width=4 * width
    )


def build_generator(config: dict[str, Any]) -> InpaintGenerator:
    """Build the generator from a config/card ``arch`` dict (unknown keys ignored)."""
    return InpaintGenerator(
        widths=tuple(config.get("widths", (32, 64, 96))),
        blocks=int(config.get("blocks", 4)),
        fourier=bool(config.get("fourier", True)),
        fill_iterations=int(config.get("fill_iterations", 8)),
    )
