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


SWD_LEVELS = 3
SWD_PATCH = 7
SWD_CENTRES = 128
SWD_PROJECTIONS = 64
SWD_MIN_STD = 0.01  # floor of the target's per-dimension patch std ([0, 1] units, ~2.5 8-bit levels)


def _blur5(x: torch.Tensor) -> torch.Tensor:
    """Separable [1, 4, 6, 4, 1] / 16 blur (reflect border), the kernel of OpenCV's pyrDown/pyrUp."""
    k = x.new_tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    p = F.pad(x, (2, 2, 2, 2), mode="reflect")
    rows = sum(k[i] * p[..., i : i + x.shape[-2], :] for i in range(5))
    return sum(k[i] * rows[..., i : i + x.shape[-1]] for i in range(5))


def laplacian_levels(x: torch.Tensor, levels: int = SWD_LEVELS) -> list[torch.Tensor]:
    """A Laplacian pyramid (finest band-pass first, low-pass remainder last), differentiable."""
    out = []
    for _ in range(levels - 1):
        small = _blur5(x)[..., ::2, ::2]
        up = _blur5(F.interpolate(small, size=x.shape[-2:], mode="bilinear", align_corners=False))
        out.append(x - up)
        x = small
    out.append(x)
    return out


def _patches(level: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """B x N x (C*size*size) patches of ``level`` centred at flat indices ``index`` (B x N, off the border)."""
    b, c, h, w = level.shape
    half = size // 2
    dy, dx = torch.meshgrid(torch.arange(-half, half + 1), torch.arange(-half, half + 1), indexing="ij")
    offsets = (dy * w + dx).reshape(-1).to(level.device)
    flat = (index[..., None] + offsets).reshape(b, 1, -1).expand(b, c, -1)
    values = level.reshape(b, c, h * w).gather(2, flat)
    return values.reshape(b, c, index.shape[1], -1).permute(0, 2, 1, 3).reshape(b, index.shape[1], -1)


def hole_swd(fake: torch.Tensor, target: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Sliced Wasserstein distance between 7x7 Laplacian-pyramid patches of fake and target inside the hole.

    At each of 3 pyramid levels, ``SWD_CENTRES`` patch centres are drawn (with replacement) among the hole
    pixels of each image, the same centres in fake and target; both patch sets are normalised by the
    target's per-dimension mean and std (floored at ``SWD_MIN_STD``), projected on ``SWD_PROJECTIONS`` random
    unit directions, sorted, and compared (mean absolute gap). Sorting drops the pairing of patches, so the
    loss asks for the target's *distribution* of local texture in the hole, not for its exact phase: a smooth
    fill and an invented pattern both pay, texture like the target's does not. It is the benchmark's hole
    texture distance (:func:`imggan.metrics.hole_texture_distance`) made differentiable.
    """
    fake, target = fake.float(), target.float()
    half = SWD_PATCH // 2
    losses = []
    mask = (hole > 0.5).float()
    for lf, lt in zip(laplacian_levels(fake), laplacian_levels(target), strict=True):
        h, w = lf.shape[-2:]
        m = F.interpolate(mask, size=(h, w), mode="nearest")[:, 0]
        valid = torch.zeros_like(m)
        valid[:, half : h - half, half : w - half] = 1.0
        weight = (m * valid).reshape(len(m), -1)
        has = weight.sum(1) > 0
        if not bool(has.any()):
            continue
        index = torch.multinomial(weight[has], SWD_CENTRES, replacement=True)
        pf = _patches(lf[has], index, SWD_PATCH)
        pt = _patches(lt[has], index, SWD_PATCH)
        mean = pt.mean(1, keepdim=True).detach()
        std = pt.std(1, keepdim=True).detach().clamp_min(SWD_MIN_STD)
        directions = F.normalize(torch.randn(pf.shape[-1], SWD_PROJECTIONS, device=pf.device), dim=0)
        a = ((pf - mean) / std) @ directions
        b = ((pt - mean) / std) @ directions
        losses.append((a.sort(1).values - b.sort(1).values).abs().mean())
    return torch.stack(losses).mean() if losses else fake.sum() * 0.0
