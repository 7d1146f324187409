"""DCGAN generator and discriminator (Radford et al. 2016) for 64x64 images: the benchmark's models.

Example:
    >>> import torch
    >>> from imggan.nn.dcgan import DCGANGenerator, DCGANDiscriminator
    >>> g, d = DCGANGenerator(z_dim=16, width=8), DCGANDiscriminator(width=8)
    >>> x = g(torch.randn(2, 16))
    >>> tuple(x.shape), tuple(d(x).shape)
    ((2, 3, 64, 64), (2, 1))
"""

from __future__ import annotations

from torch import Tensor, nn


class DCGANGenerator(nn.Module):
    """z (N x z_dim) -> 4x4 -> ... -> 64x64 image in [-1, 1]: transposed convs, batch norm, ReLU, tanh."""

    def __init__(self, z_dim: int = 100, width: int = 64, channels: int = 3) -> None:
        super().__init__()
        w = width
        self.z_dim = z_dim
        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim, w * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(w * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(w * 8, w * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(w * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(w * 4, w * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(w * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(w * 2, w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(w),
            nn.ReLU(True),
            nn.ConvTranspose2d(w, channels, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.reshape(z.shape[0], -1, 1, 1))


class DCGANDiscriminator(nn.Module):
    """64x64 image -> one logit: strided convs, batch norm, LeakyReLU(0.2)."""

    def __init__(self, width: int = 64, channels: int = 3) -> None:
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(channels, w, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, w * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(w * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w * 2, w * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(w * 4),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w * 4, w * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(w * 8),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w * 8, 1, 4, 1, 0, bias=False),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).reshape(x.shape[0], 1)
