"""Sliced Wasserstein distance between the 7x7 patch distributions of two images (torch, differentiable).

This is how the head sees style without a pretrained network (as GPDM, Elnekave & Weiss 2022, and the
sliced Wasserstein style loss of Heitz et al. 2021): a style is the distribution of its small patches at
several scales. Two patch sets are compared by projecting them on random unit directions, sorting each
projection and taking the mean squared gap between the sorted values (the 1-D optimal transport cost).

Patches are sampled at random positions (``count`` per image and step) instead of unfolding the whole
image, so a step costs the same at 64 px and at 2048 px; fresh positions and directions every step make
the estimate unbiased over the run. Every random draw goes through the given ``torch.Generator``, so a
seed reproduces a result exactly.

Example:
    >>> import torch
    >>> from imggan_style.swd import patch_swd
    >>> g = torch.Generator().manual_seed(0)
    >>> a, b = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    >>> flat = torch.full((1, 3, 32, 32), 0.5)
    >>> bool(patch_swd(a, b, generator=g) < patch_swd(flat, b, generator=g))
    True
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def sorted_rows(values: torch.Tensor) -> torch.Tensor:
    """Each row of a 2-D tensor sorted, without gradient: the reference's projections, sorted once per draw.

    On a CPU through NumPy, whose vectorised sort is about 4x faster than ``torch.sort`` here (the same
    values: a sort's values do not depend on how ties are ordered); elsewhere ``torch.sort``.
    """
    values = values.detach()
    if values.device.type != "cpu":
        return torch.sort(values.contiguous(), dim=1).values
    return torch.from_numpy(np.sort(values.numpy(), axis=1))


def sample_patches(images: torch.Tensor, count: int, size: int = 7, generator: torch.Generator | None = None):
    """``count`` random ``size`` x ``size`` patches of each image in an NxCxHxW batch, flattened.

    Returns:
        An (N*count) x (C*size*size) tensor (differentiable w.r.t. ``images``). When an image has fewer
        valid positions than ``count``, positions repeat.
    """
    n, c, h, w = images.shape
    size = min(size, h, w)
    ys = torch.randint(0, h - size + 1, (n, count), generator=generator).to(images.device)
    xs = torch.randint(0, w - size + 1, (n, count), generator=generator).to(images.device)
    offsets = torch.arange(size, device=images.device)
    rows = ys[..., None, None] + offsets[:, None]  # n x count x size x 1
    cols = xs[..., None, None] + offsets[None, :]  # n x count x 1 x size
    index = (rows * w + cols).reshape(n, 1, -1).expand(n, c, -1)  # n x c x (count*size*size)
    patches = images.reshape(n, c, h * w).gather(2, index)
    patches = patches.reshape(n, c, count, size * size).permute(0, 2, 1, 3)
    return patches.reshape(n * count, c * size * size)


def grid_patches(images: torch.Tensor, count: int, size: int = 7, generator: torch.Generator | None = None):
    """Patches on a randomly shifted regular grid of each image: every pixel is covered each step.

    The grid's stride is the smallest that keeps the number of patches near ``count`` but never more than
    ``size`` (so the patches tile the image without gaps); small images give every position (stride 1).
    Dense coverage matters for optimising pixels with Adam: a pixel that a step's sample misses gets no
    gradient, and Adam turns sparse, noisy gradients into per-pixel colour noise.

    Returns:
        An (N*count') x (C*size*size) tensor, ``count'`` the number of grid positions per image.
    """
    n, c, h, w = images.shape
    size = min(size, h, w)
    valid_h, valid_w = h - size + 1, w - size + 1
    stride = 1
    while stride < size and (valid_h // stride) * (valid_w // stride) > count:
        stride += 1
    oy, ox = (int(v) for v in torch.randint(0, stride, (2,), generator=generator))
    ys = torch.arange(oy, valid_h, stride, device=images.device)
    xs = torch.arange(ox, valid_w, stride, device=images.device)
    offsets = torch.arange(size, device=images.device)
    rows = (ys[:, None] + offsets)[:, None, :, None]  # gy x 1 x size x 1
    cols = (xs[:, None] + offsets)[None, :, None, :]  # 1 x gx x 1 x size
    index = (rows * w + cols).reshape(1, 1, -1).expand(n, c, -1)
    patches = images.reshape(n, c, h * w).gather(2, index)
    patches = patches.reshape(n, c, len(ys) * len(xs), size * size).permute(0, 2, 1, 3)
    return patches.reshape(-1, c * size * size)


def detail_band(images: torch.Tensor) -> torch.Tensor:
    """The finest band of a Laplacian pyramid: the images minus their blurred selves (NxCxHxW).

    The blur is the separable binomial [1, 4, 6, 4, 1] / 16 filter of OpenCV's ``pyrDown`` (the pyramid of
    ProGAN's multi-scale SWD) applied twice, i.e. the 9-tap binomial (replicate padding).
    """
    # Twice the 5-tap filter is the 9-tap binomial (about the pass band of pyrUp(pyrDown(x)), sigma
    # sqrt(2)): eight means of neighbours along each axis, cheaper on a CPU than a convolution.
    low = F.pad(images, (4, 4, 4, 4), mode="replicate")
    for _ in range(8):
        low = (low[..., 1:] + low[..., :-1]) * 0.5
    for _ in range(8):
        low = (low[..., 1:, :] + low[..., :-1, :]) * 0.5
    return images - low


def random_directions(dim: int, count: int, generator: torch.Generator | None, device: torch.device | str):
    """``count`` random unit vectors in ``dim`` dimensions, as a dim x count matrix."""
    directions = torch.randn(dim, count, generator=generator)
    return (directions / directions.norm(dim=0, keepdim=True)).to(device)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Mean squared gap between the sorted projections of two equal-size point sets (rows)."""
    pa = torch.sort((a @ directions).T.contiguous(), dim=1).values  # rows sort fastest on the CPU
    pb = torch.sort((b @ directions).T.contiguous(), dim=1).values
    return (pa - pb).square().mean()


def sorted_distance(projected: torch.Tensor, reference_sorted: torch.Tensor) -> torch.Tensor:
    """Sliced Wasserstein distance of points projected on K directions (N x K) to a reference whose
    projections are already sorted per direction (K x M, :func:`sorted_rows`), M may differ from N: each of
    the N sorted values is compared with the reference's value at the same quantile (bin centres)."""
    ordered = torch.sort(projected.T.contiguous(), dim=1).values  # rows sort fastest on the CPU
    m = reference_sorted.shape[1]
    at = ((torch.arange(ordered.shape[1], device=ordered.device) + 0.5) * (m / ordered.shape[1])).long()
    return (ordered - reference_sorted[:, at.clamp_max(m - 1)]).square().mean()


def patch_swd(
    x: torch.Tensor,
    style: torch.Tensor,
    count: int = 4096,
    projections: int = 64,
    size: int = 7,
    generator: torch.Generator | None = None,
    style_patches: torch.Tensor | None = None,
) -> torch.Tensor:
    """Sliced Wasserstein distance between the patch distributions of ``x`` and ``style`` (NxCxHxW each).

    Args:
        x: the images being optimised or generated.
        style: the reference image(s); their sizes may differ from ``x``'s.
        count: patches drawn per image of ``x`` (and as many from ``style``).
        projections: random directions.
        size: patch side.
        generator: source of every random draw.
        style_patches: precomputed reference patches (rows); drawn from ``style`` when ``None``.
    """
    a = sample_patches(x, count, size, generator)
    if style_patches is None:
        per_image = -(-a.shape[0] // style.shape[0])
        style_patches = sample_patches(style, per_image, size, generator)[: a.shape[0]]
    elif style_patches.shape[0] != a.shape[0]:
        pick = torch.randint(0, style_patches.shape[0], (a.shape[0],), generator=generator).to(a.device)
        style_patches = style_patches[pick]
    directions = random_directions(a.shape[1], projections, generator, a.device)
    return sliced_wasserstein(a, style_patches.to(a.dtype), directions)


class StyleQuantiles:
    """Sorted random projections of a reference's patches at several octaves, redrawn every few steps.

    Sorting the reference's projections once per draw (over ``reference_patches`` patches, more than an
    optimisation step samples from ``x``) halves the sorting work of a step and gives a finer estimate of
    the reference's distribution; only ``x``'s projections are sorted at each step.

    Args:
        style: 1xCxHxW reference at the working scale.
        scales: octaves compared (the reference halved ``scales - 1`` times, area-averaged).
        projections: random directions per draw.
        reference_patches: patches of the reference projected per octave and draw.
        subspace: directions are drawn in the span of the reference patches' top ``subspace`` principal
            components (0 = the whole patch space). Sliced matching in all 147 dimensions converges
            slowly: flat regions diffuse along random directions the reference never varies in, which
            shows as colour noise; inside the reference's own subspace every step moves towards its patches.
        generator: source of every random draw.
    """

    def __init__(
        self,
        style: torch.Tensor,
        scales: int,
        projections: int,
        reference_patches: int = 16384,
        size: int = 7,
        generator: torch.Generator | None = None,
        subspace: int = 32,
    ) -> None:
        self.octaves = [style]
        for _ in range(scales - 1):
            if min(self.octaves[-1].shape[-2:]) < 16:
                break
            self.octaves.append(F.avg_pool2d(self.octaves[-1], 2))
        self.projections = projections
        valid = (style.shape[-2] - size + 1) * (style.shape[-1] - size + 1)
        self.reference_patches = min(reference_patches, max(256, 2 * valid))
        self.size = size
        self.generator = generator
        self.colors = style[0].flatten(1).T.contiguous()  # every reference pixel, N x C
        self.bases: list[torch.Tensor | None] = []
        for octave in self.octaves:
            if not subspace:
                self.bases.append(None)
                continue
            patches = sample_patches(octave, min(reference_patches, 4096), size, generator).double()
            centred = patches - patches.mean(0)
            _, vectors = torch.linalg.eigh(centred.T @ centred)  # ascending eigenvalues
            self.bases.append(vectors[:, -min(subspace, vectors.shape[1]) :].to(style.dtype).contiguous())
        band = detail_band(style)
        self.band_scale = band.std(dim=(0, 2, 3), keepdim=True) + 1e-3
        self.band = band / self.band_scale
        self.directions: list[torch.Tensor] = []
        self.sorted: list[torch.Tensor] = []
        self.redraw()

    def redraw(self) -> None:
        """New random directions, and the reference's sorted projections on them."""
        self.directions, self.sorted = [], []
        self.color_directions = random_directions(3, 16, self.generator, self.octaves[0].device)
        pick = torch.randint(0, self.colors.shape[0], (min(self.colors.shape[0], 16384),), generator=self.generator)
        self.color_sorted = sorted_rows((self.colors[pick] @ self.color_directions).T)
        for octave, basis in zip(self.octaves, self.bases, strict=True):
            patches = sample_patches(octave, self.reference_patches, self.size, self.generator)
            if basis is None:
                d = random_directions(patches.shape[1], self.projections, self.generator, patches.device)
            else:  # unit vectors of the principal subspace: orthonormal basis times unit coefficients
                d = basis @ random_directions(basis.shape[1], self.projections, self.generator, patches.device)
            self.directions.append(d)
            self.sorted.append(sorted_rows((patches @ d).T))
        patches = sample_patches(self.band, self.reference_patches, self.size, self.generator)
        self.band_directions = random_directions(patches.shape[1], self.projections, self.generator, patches.device)
        self.band_sorted = sorted_rows((patches @ self.band_directions).T)

    def color_loss(self, x: torch.Tensor, count: int = 16384) -> torch.Tensor:
        """Sliced Wasserstein distance between ``x``'s pixel colours and the reference's (3-D, 1x1 patches).

        Random projections of 147-D patches match the patch distribution only along the drawn directions,
        which leaves room for colours the reference never has; matching the 3-D colour distribution itself
        (cheap: 3 dimensions, many pixels) removes them.
        """
        a = x[0].flatten(1).T  # every pixel, N x C
        if a.shape[0] > count:
            a = a[torch.randint(0, a.shape[0], (count,), generator=self.generator).to(a.device)]
        return sorted_distance(a @ self.color_directions, self.color_sorted)

    def band_loss(self, x: torch.Tensor, count: int) -> torch.Tensor:
        """Sliced Wasserstein distance between the fine-detail patches of ``x`` and of the reference.

        The detail band is an image minus its blurred self (:func:`detail_band`), divided per channel by the
        reference band's standard deviation, so the term weighs fine texture relative to how much the
        reference has: where the reference is smooth, any grain or noise in ``x`` costs a lot (as in
        ProGAN's multi-scale SWD, whose finest level is such a band). Raw-patch directions drawn in the
        reference's principal subspace never see that grain: it lies in the components they leave out.
        Directions are drawn in the whole patch space and redrawn with the others.
        """
        band = detail_band(x) / self.band_scale
        patches = grid_patches(band, count, self.size, self.generator)
        return sorted_distance(patches @ self.band_directions, self.band_sorted)

    def loss(self, x: torch.Tensor, count: int) -> torch.Tensor:
        """Sum over octaves of the sliced Wasserstein distance between ``x``'s patches and the reference's."""
        total = x.new_zeros(())
        for octave, (directions, reference) in enumerate(zip(self.directions, self.sorted, strict=True)):
            if octave:
                if min(x.shape[-2:]) < 16:
                    break
                x = F.avg_pool2d(x, 2)
            patches = grid_patches(x, count, self.size, self.generator)
            total = total + sorted_distance(patches @ directions, reference)
        return total


def multiscale_patch_swd(
    x: torch.Tensor,
    style: torch.Tensor,
    scales: int = 2,
    count: int = 4096,
    projections: int = 64,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """:func:`patch_swd` summed over ``scales`` octaves (x and style halved together, area-averaged)."""
    total = x.new_zeros(())
    for octave in range(scales):
        if octave:
            if min(x.shape[-2:]) < 16 or min(style.shape[-2:]) < 16:
                break
            x = F.avg_pool2d(x, 2)
            style = F.avg_pool2d(style, 2)
        total = total + patch_swd(x, style, count, projections, generator=generator)
    return total
