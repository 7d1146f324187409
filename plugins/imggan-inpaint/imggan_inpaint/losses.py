"""Loss functions of the inpainting head (plain tensors in, scalar out), registered as trainer loss terms.

- ``hole_l1``: L1 over the hole pixels only, normalised by the hole's area (known pixels are copied back,
  so they carry no error anyway).
- ``hole_grad``: L1 between the Sobel gradients of output and target inside the hole (edges, not just
  colours: pushes away from the blurry fills a plain L1 accepts near edges).
- ``hole_energy``: L1 between the local mean gradient magnitudes (7x7 windows) of output and target inside
  the hole: asks for detail of the right strength without asking for its exact phase, a cheap texture
  statistic that needs no pretrained network.

Example:
    >>> import torch
    >>> from imggan_inpaint.losses import hole_l1
    >>> t = torch.zeros(1, 3, 8, 8); f = t.clone(); f[..., :4, :] = 1; hole = torch.zeros(1, 1, 8, 8)
    >>> hole[..., :4, :] = 1
    >>> float(hole_l1(f, t, hole))
    1.0
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def hole_l1(fake: torch.Tensor, target: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Mean absolute error per hole pixel and channel."""
    area = hole.sum() * fake.shape[1]
    return ((fake - target).abs() * hole).sum() / area.clamp_min(1.0)


def _sobel(x: torch.Tensor) -> torch.Tensor:
    """Horizontal and vertical Sobel responses of every channel (shifted slices; grouped convs are slow)."""
    p = F.pad(x, (1, 1, 1, 1), mode="replicate")
    rows = p[..., :-2, :] + 2 * p[..., 1:-1, :] + p[..., 2:, :]
    cols = p[..., :, :-2] + 2 * p[..., :, 1:-1] + p[..., :, 2:]
    gx = rows[..., 2:] - rows[..., :-2]
    gy = cols[..., 2:, :] - cols[..., :-2, :]
    return torch.cat([gx, gy], 1)


def hole_grad(fake: torch.Tensor, target: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of Sobel gradients inside the (one-pixel dilated) hole."""
    region = F.max_pool2d(hole, 3, 1, 1)
    diff = (_sobel(fake) - _sobel(target)).abs() * region
    return diff.sum() / (region.sum() * fake.shape[1] * 2).clamp_min(1.0)


def _magnitude(x: torch.Tensor) -> torch.Tensor:
    """Per-pixel gradient magnitude of the channel mean (Sobel), kept differentiable at zero."""
    g = _sobel(x.mean(1, keepdim=True))
    return (g.square().sum(1, keepdim=True) + 1e-6).sqrt()


def hole_energy(fake: torch.Tensor, target: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of 7x7 local means of gradient magnitude, inside the hole."""
    mf = F.avg_pool2d(_magnitude(fake), 7, 1, 3, count_include_pad=False)
    mt = F.avg_pool2d(_magnitude(target), 7, 1, 3, count_include_pad=False)
    return ((mf - mt).abs() * hole).sum() / hole.sum().clamp_min(1.0)
