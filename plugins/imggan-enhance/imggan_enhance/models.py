"""Networks of the enhancement head: a blind/non-blind denoiser, a super-resolution net, a discriminator.

* :class:`DenoiseNet` — FFDNet-style: the noisy image is pixel-unshuffled to half resolution (4x fewer
  positions), concatenated with a noise-level map (value and a "known" flag, so one network serves blind
  and hinted use), and passed through a small U-Net of residual blocks (three further down-scalings, so the
  receptive field covers smooth areas cheaply). The network predicts the noise; output = input - noise.
* :class:`UpscaleNet` — EDSR-style residual blocks at low resolution, sub-pixel (pixel-shuffle) upsampling
  in x2 steps, and a global bicubic skip so training starts from bicubic quality.
* :class:`PatchDiscriminator` — a spectral-normalised PatchGAN that also returns its intermediate features
  (for feature matching).

Every model is built from a JSON-able ``arch`` dict (``build_model(arch)``), which the model card records.

Example:
    >>> import torch
    >>> from imggan_enhance.models import build_model
    >>> net = build_model({"name": "denoise-unet", "width": 8, "blocks": [1, 1, 1, 1]})
    >>> tuple(net(torch.rand(1, 3, 40, 36)).shape)
    (1, 3, 40, 36)
    >>> sr = build_model({"name": "upscale-res", "scale": 4, "width": 8, "blocks": 1})
    >>> tuple(sr(torch.rand(1, 3, 10, 7)).shape)
    (1, 3, 40, 28)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

SIGMA_SCALE = 50.0  # noise levels (8-bit scale) are fed to the denoiser as sigma / SIGMA_SCALE


class ResBlock(nn.Module):
    """conv-act-conv with an identity skip (no normalisation; residual scaled for stable early training)."""

    def __init__(self, channels: int, dilation: int = 1, res_scale: float = 1.0) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.act = nn.LeakyReLU(0.1, inplace=True)
        self.res_scale = res_scale
        nn.init.zeros_(self.conv2.weight)  # each block starts as the identity: deep stacks train from step 1
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.res_scale * self.conv2(self.act(self.conv1(x)))


def _stage(channels: int, count: int, dilations: Sequence[int] = (1,)) -> nn.Sequential:
    return nn.Sequential(*(ResBlock(channels, dilations[i % len(dilations)]) for i in range(count)))


class DenoiseNet(nn.Module):
    """Residual noise predictor on a pixel-unshuffled input with a noise-level map.

    Args:
        width: channels at the first (half-resolution) level; doubled at each further level.
        blocks: residual blocks per level, from half resolution down to the middle; the middle level is
            the last entry (its blocks alternate dilation 1 and 2). Decoder levels mirror the encoder.
        max_width: cap on the channels of the deeper levels.
    """

    def __init__(self, width: int = 32, blocks: Sequence[int] = (1, 1, 1, 2), max_width: int = 192) -> None:
        super().__init__()
        levels = len(blocks)
        widths = [min(width * 2**i, max_width) for i in range(levels)]
        self.multiple = 2 * 2 ** (levels - 1)
        self.head = nn.Conv2d(12 + 2, widths[0], 3, padding=1)
        self.enc = nn.ModuleList(_stage(widths[i], blocks[i]) for i in range(levels - 1))
        self.down = nn.ModuleList(nn.Conv2d(widths[i], widths[i + 1], 2, stride=2) for i in range(levels - 1))
        self.middle = _stage(widths[-1], blocks[-1], dilations=(1, 2))
        self.up = nn.ModuleList(
            nn.Sequential(nn.Conv2d(widths[i + 1], widths[i] * 4, 1), nn.PixelShuffle(2)) for i in range(levels - 1)
        )
        self.dec = nn.ModuleList(_stage(widths[i], blocks[i]) for i in range(levels - 1))
        self.tail = nn.Conv2d(widths[0], 12, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        """Denoise ``x`` (``N x 3 x H x W`` in [0, 1]).

        Args:
            x: noisy images; any size (padded internally to a multiple of :attr:`multiple`).
            sigma: ``None`` for blind denoising; else per-image levels (``N``) or a per-pixel map
                (``N x 1 x H x W``) on the 8-bit scale; negative values mean "unknown" (blind).
        """
        n, _, h, w = x.shape
        pad_h, pad_w = (-h) % self.multiple, (-w) % self.multiple
        if pad_h or pad_w:
            mode = "reflect" if pad_h < h and pad_w < w else "replicate"
            x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
        half = F.pixel_unshuffle(x, 2)
        hh, hw = half.shape[-2:]
        if sigma is None:
            level = half.new_zeros(n, 2, hh, hw)
        else:
            sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
            if sigma.ndim <= 1:
                sigma = sigma.reshape(-1, 1, 1, 1).expand(n, 1, hh, hw)
            else:
                sigma = F.pad(sigma, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else sigma
                sigma = F.avg_pool2d(sigma, 2)
            known = (sigma >= 0).to(x.dtype)
            level = torch.cat([sigma.clamp_min(0) * known / SIGMA_SCALE, known], 1)
        feats = []
        y = self.head(torch.cat([half, level], 1))
        for enc, down in zip(self.enc, self.down, strict=True):
            y = enc(y)
            feats.append(y)
            y = down(y)
        y = self.middle(y)
        for i in reversed(range(len(self.up))):
            y = self.dec[i](self.up[i](y) + feats[i])
        noise = F.pixel_shuffle(self.tail(y), 2)
        return (x - noise)[..., :h, :w]


class UpscaleNet(nn.Module):
    """Super-resolution by ``scale`` (2 or 4): residual body at low resolution, pixel-shuffle upsampling.

    Args:
        scale: 2 or 4.
        width: channels of the body.
        blocks: residual blocks in the body.
    """

    def __init__(self, scale: int = 4, width: int = 48, blocks: int = 8) -> None:
        super().__init__()
        if scale not in (2, 4):
            raise ValueError(f"scale must be 2 or 4, not {scale}")
        self.scale = scale
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.Sequential(*(ResBlock(width) for _ in range(blocks)))
        self.body_tail = nn.Conv2d(width, width, 3, padding=1)
        ups: list[nn.Module] = []
        for _ in range(scale // 2 - 1):
            ups += [nn.Conv2d(width, width * 4, 3, padding=1), nn.PixelShuffle(2), nn.LeakyReLU(0.1, True)]
        self.upsample = nn.Sequential(*ups)
        self.tail = nn.Sequential(nn.Conv2d(width, 3 * 4, 3, padding=1), nn.PixelShuffle(2))
        nn.init.zeros_(self.tail[0].weight)
        nn.init.zeros_(self.tail[0].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upscale ``x`` (``N x 3 x h x w`` in [0, 1]) to ``N x 3 x (scale*h) x (scale*w)``."""
        base = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        y = self.head(x)
        y = y + self.body_tail(self.body(y))
        return base + self.tail(self.upsample(y))


def PatchDiscriminator(width: int = 32, layers: int = 3) -> nn.Module:  # noqa: N802 - reads as a class
    """The core's spectral-normalised PatchGAN (``imggan.nn.discriminator``) for RGB images.

    Args:
        width: channels of the first layer; doubled per down-scaling up to ``8 * width``.
        layers: strided layers (each halves the resolution).
    """
    from imggan.nn.discriminator import PatchDiscriminator as CorePatchDiscriminator

    return CorePatchDiscriminator(in_channels=3, width=width, layers=layers, spectral_norm=True, max_width=8 * width)


ARCHS = {"denoise-unet": DenoiseNet, "upscale-res": UpscaleNet, "patch-d": PatchDiscriminator}


def build_model(arch: dict[str, Any]) -> nn.Module:
    """Build a network from its card's ``arch`` dict: ``{"name": ..., **constructor arguments}``."""
    arch = dict(arch)
    name = arch.pop("name")
    if name not in ARCHS:
        raise ValueError(f"unknown architecture {name!r} (known: {', '.join(sorted(ARCHS))})")
    return ARCHS[name](**arch)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
