"""Loss functions of the inpainting head (plain tensors in, scalar out), registered as trainer loss terms.

- ``hole_l1``: L1 over the hole pixels only, normalised by the hole's area (known pixels are copied back,
  so they carry no error anyway).
- ``hole_grad``: L1 between the Sobel gradients of output and target inside the hole (edges, not just
  colours: pushes away from the blurry fills a plain L1 accepts near edges).
- ``hole_energy``: L1 between the local mean gradient magnitudes (7x7 windows) of output and target inside
  the hole: asks for detail of the right strength without asking for its exact phase, a cheap texture
  statistic that needs no pretrained network.
- ``hole_detail``: per image, the absolute difference of the mean gradient magnitude inside the hole's
  interior (pixels at least ``DETAIL_DEPTH`` px from any known pixel), relative to the target's: the amount
  of detail a large hole holds (what the benchmark's hole sharpness measures), free of where exactly it sits.
  Only large holes have an interior: there a pixel loss drives the fill towards a blurry average, while thin
  strokes, which context pins down, are left to the pixel losses.
- ``hole_ssim``: 1 - SSIM (kornia, Gaussian window 11, sigma 1.5, as the benchmark's scikit-image SSIM)
  averaged over the hole's band: the hole and the 5 pixels around it (where filled pixels enter the SSIM
  windows), less the interior of large holes. SSIM scores texture of the wrong phase below a flat fill, so
  in an interior, where the content cannot be predicted, it would pull towards blur; there ``hole_detail``
  and ``hole_energy`` decide.
- ``hole_pattern``: per image, how far the fill's fine-detail autocorrelation at 8-16 px (inside the
  5x5-eroded hole, as :func:`imggan.metrics.pattern_score` measures it) exceeds the original's: it
  punishes invented repetition (grids, plaids, streaks) and asks for no detail at all, so a smooth fill
  and a faithful one both pay nothing. ``hole_energy`` and ``hole_detail`` reward detail strength for its
  own sake and are not in the default objective.

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


DETAIL_DEPTH = 8


def hole_interior(hole: torch.Tensor, depth: int = DETAIL_DEPTH) -> torch.Tensor:
    """The hole eroded by a (2 * depth + 1)^2 square: pixels at least ``depth`` px from the known region."""
    return 1.0 - F.max_pool2d(1.0 - hole, 2 * depth + 1, 1, depth)


def hole_detail(fake: torch.Tensor, target: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Mean over images with a hole interior of |its mean gradient magnitude in fake - in target| / target's."""
    core = hole_interior(hole)
    area = core.sum((1, 2, 3))
    mf = (_magnitude(fake) * core).sum((1, 2, 3)) / area.clamp_min(1.0)
    mt = (_magnitude(target) * core).sum((1, 2, 3)) / area.clamp_min(1.0)
    has_core = (area > 0).float()
    per_image = (mf - mt).abs() / mt.clamp_min(1e-2)
    return (per_image * has_core).sum() / has_core.sum().clamp_min(1.0)


def hole_ssim(fake: torch.Tensor, target: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """1 - mean SSIM over the hole dilated by 5 pixels (the 11x11 window's reach) less the hole's interior."""
    from kornia.metrics import ssim

    region = F.max_pool2d(hole, 11, 1, 5) * (1.0 - hole_interior(hole))
    index = ssim(fake.clamp(0, 1), target, 11, max_val=1.0)
    return ((1.0 - index) * region).sum() / (region.sum() * fake.shape[1]).clamp_min(1.0)


PATTERN_LAGS = tuple(range(8, 17))


def _fine_detail(x: torch.Tensor) -> torch.Tensor:
    """Gray (channel mean) minus its Gaussian blur (sigma 1.5, reflect border): Bx1xHxW."""
    from kornia.filters import gaussian_blur2d

    gray = x.mean(1, keepdim=True)
    return gray - gaussian_blur2d(gray, (11, 11), (1.5, 1.5), border_type="reflect")


def detail_autocorrelation(x: torch.Tensor, region: torch.Tensor, lags=PATTERN_LAGS) -> torch.Tensor:
    """Per image (B,), the mean normalised autocorrelation of the fine detail over ``region`` at ``lags``."""
    d = _fine_detail(x.float())
    area = region.sum((1, 2, 3), keepdim=True).clamp_min(1.0)
    d = (d - (d * region).sum((1, 2, 3), keepdim=True) / area) * region
    values = []
    for lag in lags:
        for a, b, m in (
            (d[..., :, :-lag], d[..., :, lag:], region[..., :, :-lag] * region[..., :, lag:]),
            (d[..., :-lag, :], d[..., lag:, :], region[..., :-lag, :] * region[..., lag:, :]),
        ):
            num = (a * b * m).sum((1, 2, 3))
            den = ((a * a * m).sum((1, 2, 3)) * (b * b * m).sum((1, 2, 3)) + 1e-12).sqrt()
            values.append(num / den)
    return torch.stack(values, 1).mean(1)


def hole_pattern(fake: torch.Tensor, target: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Mean over images of max(0, autocorrelation of the fill's detail - the original's), 5x5-eroded hole."""
    region = 1.0 - F.max_pool2d(1.0 - hole, 5, 1, 2)
    has = (region.sum((1, 2, 3)) > 0).float()
    with torch.no_grad():
        reference = detail_autocorrelation(target, region)
    excess = F.relu(detail_autocorrelation(fake, region) - reference)
    return (excess * has).sum() / has.sum().clamp_min(1.0)
