"""A fast classical fill: a coarse-to-fine (pyramid) solve of the biharmonic equation inside the hole.

The hole is filled so that the result is smooth and continues both the values and the slopes of the known
pixels around it, as scikit-image's ``inpaint_biharmonic`` does, but with damped Jacobi sweeps on an image
pyramid in torch instead of a sparse linear solve: the coarse levels carry the low frequencies across wide
holes in a few sweeps, the fine levels fix the detail near the rim. It runs on any device, batched.

Example:
    >>> import torch
    >>> from imggan_inpaint.fill import pyramid_fill
    >>> image = torch.linspace(0, 1, 64).expand(1, 3, 64, 64).contiguous()
    >>> hole = torch.zeros(1, 1, 64, 64); hole[..., 20:40, 20:40] = 1
    >>> filled = pyramid_fill(image * (1 - hole), hole)
    >>> bool((filled - image).abs().max() < 0.02)
    True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _neighbours(x: torch.Tensor) -> torch.Tensor:
    """Sum of the 4 direct neighbours of every pixel (replicate padding: the border acts as a mirror)."""
    p = F.pad(x, (1, 1, 1, 1), mode="replicate")
    return p[..., :-2, 1:-1] + p[..., 2:, 1:-1] + p[..., 1:-1, :-2] + p[..., 1:-1, 2:]


def _sweeps(x: torch.Tensor, hole: torch.Tensor, iterations: int, biharmonic: bool) -> torch.Tensor:
    """Jacobi sweeps updating only the hole pixels of ``x`` (shifted slices: far faster than a conv)."""
    if biharmonic:
        # Biharmonic operator = Laplacian twice. Plain Jacobi diverges for the highest frequencies (their
        # eigenvalue 64 exceeds twice the diagonal 20); a damping of 0.6 keeps every frequency contracting.
        step = hole * (0.6 / 20.0)
        for _ in range(iterations):
            lap = _neighbours(x) - 4 * x
            x = x - step * (_neighbours(lap) - 4 * lap)
    else:
        for _ in range(iterations):
            x = torch.lerp(x, _neighbours(x) * 0.25, hole)
    return x


def _down(x: torch.Tensor, known: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Halve the resolution, averaging only known pixels; a coarse pixel is known if any child is."""
    weight = F.avg_pool2d(known, 2, ceil_mode=True)
    value = F.avg_pool2d(x * known, 2, ceil_mode=True) / weight.clamp_min(1e-6)
    coarse_known = (weight > 0.999).to(x.dtype)  # only fully known coarse pixels act as boundary values
    return value * coarse_known, coarse_known


def pyramid_fill(
    image: torch.Tensor,
    hole: torch.Tensor,
    iterations: int = 12,
    coarse_iterations: int = 96,
    min_size: int = 8,
    biharmonic: bool = False,
) -> torch.Tensor:
    """Fill ``hole`` pixels of ``image`` with a smooth continuation of the pixels around them.

    Args:
        image: BxCxHxW float tensor; values inside the hole are ignored.
        hole: Bx1xHxW tensor, 1 inside the hole, 0 on known pixels.
        iterations: Jacobi sweeps on the full-resolution level; each coarser level (4x cheaper) gets twice
            as many, up to ``coarse_iterations``.
        coarse_iterations: sweeps on the coarsest level (starting from the mean of the known pixels) and
            the most on any level.
        min_size: stop descending when the shorter side would fall below this.
        biharmonic: solve the biharmonic equation (continues slopes, sharper); else Laplace's (flatter).

    Returns:
        BxCxHxW tensor equal to ``image`` outside the hole.
    """
    hole = (hole > 0.5).to(image.dtype)
    known = 1.0 - hole
    levels = [(image * known, known)]
    while min(levels[-1][0].shape[-2:]) >= 2 * min_size and levels[-1][1].amin() < 1.0:
        levels.append(_down(*levels[-1]))
    x, k = levels[-1]
    mean = (x * k).sum((-2, -1), keepdim=True) / k.sum((-2, -1), keepdim=True).clamp_min(1.0)
    x = x * k + mean * (1 - k)
    x = _sweeps(x, 1 - k, coarse_iterations, biharmonic)
    for depth in range(len(levels) - 2, -1, -1):
        fine, fine_known = levels[depth]
        up = F.interpolate(x, size=fine.shape[-2:], mode="bilinear", align_corners=False)
        x = fine * fine_known + up * (1 - fine_known)
        x = _sweeps(x, 1 - fine_known, min(iterations << depth, coarse_iterations), biharmonic)
    return image * known + x * hole
