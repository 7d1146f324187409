"""The default path of ``imggan stylize``: optimise the image's pixels so its patches look like the reference's.

GPDM-like multi-scale patch distribution matching, starting from the content image, with a content term:

1. Working resolution: the content's long side is brought to ``size`` (never enlarged); the style
   reference is resized to the same pixel area (times ``style_scale``), so its brush strokes and textures
   keep their size relative to the picture.
2. The colour stage: the content with the reference's colour histogram (per channel; with
   ``preserve_colors`` only its Lab lightness, chroma kept), :func:`imggan_style.color.transfer_color`.
3. Coarse to fine over ``len(preset.steps)`` levels (long side ``size / 2**k``): the coarsest level starts
   from the colour stage's image plus seeded Gaussian noise (``preset.noise``, 0.03: without it a smooth
   gradient's contours grow into concentric rings); each finer level from the previous result upsampled plus
   ``detail * (1 - strength)`` times the colour stage's own detail at that level.
4. At each level Adam (learning rate decaying to 0, cosine) minimises, over the pixels,
   ``patch SWD + colour SWD + band SWD + content_weight * |blur(b(x)) - blur(b(h))|^2``:
   the patch term over two octaves in the reference patches' principal subspace, the colour term on
   single pixels, the band term on the finest Laplacian band scaled by the reference's (grain where the
   reference is smooth costs a lot) on the finest ``preset.band_levels`` levels only (two in the shipped
   presets: on coarser ones it grows grain into the result's coarse structure), and ``b`` the brightness
   (mean of R, G, B) blurred with sigma 2 px, ``h`` the colour stage's image: the content term keeps shapes
   and their light and dark, in the reference's tones. ``strength`` in [0, 1] sets the balance:
   ``content_weight = base * ((1 - strength) / strength)^2``; 0 returns the content, 1 drops the term.
   On every level but the coarsest that weight is scaled per level (``preset.content_fraction``): at the
   level's first step the content term's gradient, at a probe halfway between ``h`` and its flat mean,
   gets ``content_weight * content_fraction`` times the norm of the style terms' gradient. A fixed weight
   is dwarfed by the band term on a dark, busy photograph (its gradients there are ~1000x the content
   term's) and its structure vanishes; the coarsest level keeps the fixed weight, where a strong pull
   toward ``h`` would keep a smooth gradient's contours.
5. The result's finest two Laplacian bands get the reference's band histograms (Heeger and Bergen's
   step) and then its colour histogram (the colour stage again), four rounds
   (:func:`final_statistics`), so the statistics the optimiser leaves approximate
   (fine texture, palette) end close to exact. Only two: the third and fourth bands (structures of 4 to
   16 px) given a smooth reference's narrow band histograms flatten a photograph's trunks and edges.
6. The content floor (:func:`imggan_style.keep.keep_content`): when the blurred (sigma 2) grayscale of
   the result has an SSIM to the content's below ``preset.content_floor * (1 - strength)`` (0.45 at the
   default strength), its low-frequency brightness is moved toward the content's just far enough to
   reach it (a dark photo under a bright reference keeps some of its dark); otherwise nothing changes.
7. Images larger than the working resolution get the result upsampled plus the content's detail above the
   working resolution (:func:`imggan_style.upsample.guided_upsample`); the statistics are taken over the
   whole image at the working resolution, so there are no tiles and no seams.

Example:
    >>> import numpy as np
    >>> from imggan_style.optimize import stylize_array
    >>> rng = np.random.default_rng(0)
    >>> content = np.full((40, 56, 3), 0.5, np.float32)
    >>> style = rng.random((48, 48, 3), dtype=np.float32)
    >>> stylize_array(content, style, size=32, quality="fast", seed=0).shape
    (40, 56, 3)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from imggan_style.color import from_lab, preserve_color, to_lab, transfer_color
from imggan_style.histmatch import laplacian_bands, match_statistics, quantile_map, quantiles_of
from imggan_style.keep import floor_for, keep_content
from imggan_style.presets import CONTENT_BASE, DEFAULT_SIZE, DEFAULT_STRENGTH, PRESETS, Preset, content_weight
from imggan_style.swd import StyleQuantiles
from imggan_style.upsample import guided_upsample

__all__ = [
    "CONTENT_BASE",
    "DEFAULT_SIZE",
    "DEFAULT_STRENGTH",
    "PRESETS",
    "Preset",
    "content_weight",
    "final_statistics",
    "level_shapes",
    "reproducible",
    "structure",
    "stylize_array",
]


def structure(x: torch.Tensor, sigma: float = 2.0, standardise: bool = True) -> torch.Tensor:
    """Blurred, standardised brightness of an NxCxHxW RGB batch: what the content term keeps.

    Brightness is the plain mean of R, G and B, so its gradient moves the three channels alike: pushing
    it up or down changes lightness, never hue (with Rec. 601 weights, darkening a region mostly lowers
    green and turns it magenta). The blur is a Gaussian of ``sigma`` px (separable), applied at half
    resolution with half the sigma when the image is large enough, and the result is standardised to
    zero mean and unit variance, so a global change of tone or contrast costs nothing.
    """
    luma = x.mean(1, keepdim=True)
    if min(x.shape[-2:]) >= 64:
        luma = F.avg_pool2d(luma, 2)
        sigma = sigma / 2
    radius = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-(t**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    padded = F.pad(luma, (radius, radius, radius, radius), mode="replicate")
    low = F.conv2d(F.conv2d(padded, kernel.view(1, 1, 1, -1)), kernel.view(1, 1, -1, 1))
    if not standardise:
        return low
    mean = low.mean(dim=(2, 3), keepdim=True)
    std = low.std(dim=(2, 3), keepdim=True) + 1e-3
    return (low - mean) / std


def _normalised_weight(
    x: torch.Tensor, style_loss: torch.Tensor, c: torch.Tensor, target: torch.Tensor, fraction: float, fixed: float
) -> float:
    """Content weight whose pull, at a probe halfway between the level's image ``c`` (whose structure is
    ``target``) and its flat mean, has ``fraction`` times the norm of the style terms' gradient at ``x`` (see
    :attr:`Preset.content_fraction`); ``fixed`` for a flat target, which has no structure to pull toward."""
    g_style = torch.autograd.grad(style_loss, x, retain_graph=True)[0].norm()
    with torch.enable_grad():
        probe = (c + 0.5 * (c.mean(dim=(2, 3), keepdim=True) - c)).detach().requires_grad_(True)
        term = (structure(probe, standardise=False) - target).square().mean()
        g_content = torch.autograd.grad(term, probe)[0].norm()
    if g_content < 1e-8:
        return fixed
    return float(fraction * g_style / g_content)


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    interp = cv2.INTER_AREA if height * width < h * w else cv2.INTER_CUBIC
    return cv2.resize(image, (width, height), interpolation=interp)


def level_shapes(height: int, width: int, size: int, levels: int) -> list[tuple[int, int]]:
    """(h, w) of each level, coarsest first; the finest has long side ``min(size, max(height, width))``."""
    long_side = max(height, width)
    finest = min(size, long_side)
    shapes = []
    for k in reversed(range(levels)):
        scale = finest / (2**k) / long_side
        h, w = max(8, round(height * scale)), max(8, round(width * scale))
        if shapes and shapes[-1] == (h, w):
            continue
        if min(h, w) < 16 and k > 0:
            continue
        shapes.append((h, w))
    return shapes


def _tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].float().to(device)


def _array(x: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(x[0].detach().clamp(0, 1).cpu().numpy().transpose(1, 2, 0), dtype=np.float32)


def _style_at(style: np.ndarray, area: float, style_scale: float) -> np.ndarray:
    h, w = style.shape[:2]
    factor = math.sqrt(area / (h * w)) * style_scale
    return _resize(style, max(8, round(h * factor)), max(8, round(w * factor)))


def final_statistics(
    image: np.ndarray, reference: np.ndarray, preset: Preset, preserve_colors: bool = False, levels: int = 1024
) -> np.ndarray:
    """The last stage: ``preset.final_iterations`` rounds of the finest ``preset.final_bands`` Laplacian
    bands given the reference's band histograms, then the colours given its colour histogram (blended by
    ``preset.final_color``; Lab lightness only with ``preserve_colors``), as
    :func:`imggan_style.histmatch.match_statistics` does it (``levels`` quantiles of the reference).
    """
    ref = _tensor(reference, torch.device("cpu"))
    bands = [quantiles_of(b[0], levels) for b in laplacian_bands(ref, preset.final_bands)[0]]
    if preserve_colors:
        lightness = quantiles_of(torch.from_numpy(to_lab(reference)[..., 0]).reshape(1, -1) / 100, levels)
    colors = quantiles_of(ref[0], levels)

    def color(y: torch.Tensor) -> torch.Tensor:
        if preserve_colors:
            lab = to_lab(_array(y))
            light = torch.from_numpy(np.ascontiguousarray(lab[..., 0]))[None, None] / 100
            lab[..., 0] = quantile_map(light, lightness)[0, 0].numpy() * 100
            matched = _tensor(from_lab(lab), y.device)
        else:
            matched = quantile_map(y, colors)
        return matched if preset.final_color >= 1 else y + preset.final_color * (matched - y)

    with torch.inference_mode():
        if not bands:
            return _array(color(_tensor(image, ref.device)))
        return _array(match_statistics(_tensor(image, ref.device), colors, bands, preset.final_iterations, color))


def stylize_array(
    content: np.ndarray,
    style: np.ndarray,
    *,
    strength: float = DEFAULT_STRENGTH,
    size: int = DEFAULT_SIZE,
    quality: str | Preset = "fast",
    seed: int = 0,
    preserve_colors: bool = False,
    style_scale: float = 1.0,
    device: str | torch.device = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Stylise ``content`` with the patch statistics of ``style`` (both HxWx3 float32 RGB in [0, 1]).

    Args:
        content: the picture to repaint; the result has its size.
        style: the reference (any size).
        strength: 0 keeps the content, 1 follows only the style statistics; 0.5 is the default balance.
            The result keeps a blurred-gray SSIM of at least ``preset.content_floor * (1 - strength)`` to
            the content at the working resolution (0.45 at 0.5 with the shipped presets).
        size: working resolution (long side) of the optimisation.
        quality: ``"fast"``, ``"best"`` or a :class:`Preset`.
        seed: fixes every random draw (the start's noise, patch positions, projections): the same seed,
            device and number of torch threads give the same result (:func:`reproducible`).
        preserve_colors: keep the content's chroma (Lab a*, b*) and take only lightness from the result.
        style_scale: scale of the reference's textures relative to the picture (1 = same pixel area).
        device: where to optimise.
        progress: called as ``progress(done_steps, total_steps)``.

    Returns:
        HxWx3 float32 RGB in [0, 1], the content's size.
    """
    preset = PRESETS[quality] if isinstance(quality, str) else quality
    if strength <= 0:
        return content.astype(np.float32, copy=True)
    device = torch.device(device)
    with reproducible(device):
        return _optimise(content, style, preset, strength, size, seed, preserve_colors, style_scale, device, progress)


@contextmanager
def reproducible(device: torch.device) -> Iterator[None]:
    """PyTorch's deterministic algorithms while stylising on a CPU, then the caller's setting again.

    The patches are gathered from the image, so their gradient is a scatter-add; on several CPU threads
    its sums come in a varying order, and Adam amplifies the last-bit differences to visible ones (up to
    50 levels of 255 at 512x512 between two runs with one seed). The deterministic scatter-add sums in
    index order: with one thread the result is bit-identical to the default one (the figures in
    benchmarks/RESULTS.md stand), with more it no longer changes from run to run, at no measurable cost.
    Other devices keep the caller's setting (CUDA's deterministic mode needs a cuBLAS workspace setting).
    """
    if device.type != "cpu":
        yield
        return
    enabled, warn_only = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


def _optimise(
    content: np.ndarray,
    style: np.ndarray,
    preset: Preset,
    strength: float,
    size: int,
    seed: int,
    preserve_colors: bool,
    style_scale: float,
    device: torch.device,
    progress: Callable[[int, int], None] | None,
) -> np.ndarray:
    """:func:`stylize_array`'s work (see there), with the preset resolved and ``strength`` > 0."""
    generator = torch.Generator().manual_seed(int(seed))
    height, width = content.shape[:2]
    shapes = level_shapes(height, width, size, len(preset.steps))
    steps = list(preset.steps[-len(shapes) :])
    base_weight = content_weight(strength) if strength < 1 else 0.0
    total, done = sum(steps), 0

    # The colour stage: the content with the reference's colours, at the working resolution. Every level
    # starts from it (the coarsest directly, finer ones for their detail) and the content term keeps its
    # brightness, a target the style term can agree with (the content's own brightness asks for tones the
    # reference lacks, and the optimiser then invents off-palette colours to reach them).
    fh, fw = shapes[-1]
    style_work = _style_at(style, fh * fw, style_scale)
    colored = transfer_color(_resize(content, fh, fw), style_work, preserve_colors)
    x: torch.Tensor | None = None
    band_from = len(shapes) - preset.band_levels if preset.band_levels else 0  # the first level with the band term
    for index, ((h, w), n_steps) in enumerate(zip(shapes, steps, strict=True)):
        band_weight = preset.band_weight if index >= band_from else 0.0
        content_level = _resize(colored, h, w)
        style_level = _style_at(style, h * w, style_scale)
        c = _tensor(content_level, device)
        s = _tensor(style_level, device)
        if x is None:
            x = c.clone()
            if preset.noise:
                x = x + preset.noise * torch.randn(x.shape, generator=generator).to(device)
        else:
            coarse = F.interpolate(c, size=x.shape[-2:], mode="area")
            detail = c - F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
            x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
            x = x + preset.detail * (1 - strength) * detail
        x = x.clamp(0, 1).detach().requires_grad_(True)
        weight = base_weight
        target = structure(c, standardise=False)
        optimizer = torch.optim.Adam([x], lr=preset.lr)
        schedule = (
            torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i, n=n_steps: 0.5 * (1 + math.cos(math.pi * i / n)))
            if preset.decay
            else None
        )
        reference = StyleQuantiles(
            s, preset.scales, preset.projections, preset.reference_patches, generator=generator,
            subspace=preset.subspace,
        )  # fmt: skip
        for step in range(n_steps):
            if step and step % preset.redraw == 0:
                reference.redraw()
            optimizer.zero_grad(set_to_none=True)
            loss = reference.loss(x, preset.patches)
            if preset.color_weight:
                loss = loss + preset.color_weight * reference.color_loss(x)
            if band_weight:
                loss = loss + band_weight * reference.band_loss(x, preset.patches)
            if weight > 0:
                if step == 0 and preset.content_fraction > 0 and (h, w) != shapes[0]:
                    fraction = preset.content_fraction * base_weight
                    weight = _normalised_weight(x, loss, c, target, fraction, base_weight)
                term = (structure(x, standardise=False) - target).square().mean()
                loss = loss + weight * term
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            with torch.no_grad():
                x.clamp_(0, 1)
            done += 1
            if progress is not None:
                progress(done, total)
    assert x is not None
    result = _array(x)
    if preset.final_bands or preset.final_color:
        result = final_statistics(result, style_work, preset, preserve_colors)
    if preset.content_floor > 0:
        result = keep_content(result, _resize(content, fh, fw), floor_for(strength, preset.content_floor))
    if result.shape[:2] != (height, width):
        result = guided_upsample(result, content)
    if preserve_colors:
        result = preserve_color(result, content)
    return result
