"""The optimiser's presets (``--quality fast|best``), its default strength and size, and the content weight.

:mod:`imggan_style.optimize` runs a :class:`Preset`; ``best`` is ``fast`` with twice the steps per level
and 96 projections instead of 64. :func:`content_weight` turns ``--strength`` into the content term's
weight (``CONTENT_BASE`` times ``((1 - s) / s)^2``).

Example:
    >>> from imggan_style.presets import PRESETS, content_weight
    >>> PRESETS["best"].steps, PRESETS["best"].band_levels, content_weight(0.5)
    ((160, 120, 80, 40), 2, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from imggan_style.keep import FLOOR_AT_FULL


@dataclass(frozen=True)
class Preset:
    """How much work the optimiser does.

    Attributes:
        steps: Adam steps per level, coarsest first (its length is the number of levels).
        patches: patches drawn per image, scale and step.
        projections: random directions per step.
        scales: octaves of the image compared at each level (1 = the level itself only).
        lr: Adam's learning rate on pixels in [0, 1].
        redraw: steps between new random directions (and the reference's projections on them).
        color_weight: weight of the 3-D colour distribution term.
        subspace: principal components of the reference's patches the directions are drawn in (0 = all).
        band_weight: weight of the fine-detail band term (:meth:`imggan_style.swd.StyleQuantiles.band_loss`)
            on the levels ``band_levels`` names.
        detail: how much of the colour-matched content's own detail each finer level starts with, times
            ``1 - strength``.
        final_color: blend of the result with its own histogram matched to the reference (0 = none, 1 =
            the reference's per-channel histogram exactly; only lightness with ``preserve_colors``).
        final_bands: Laplacian bands of the result given the reference's band histograms before the final
            colour match (:func:`imggan_style.optimize.final_statistics`; 0 = none).
        final_iterations: rounds of the final band and colour matching (Heeger and Bergen iterate: each
            match moves the other statistic a little).
        decay: the learning rate falls to 0 over each level (cosine). Adam moves every pixel by about
            ``lr`` per step whatever its gradient, so a constant rate ends in grain of that size, which a
            smooth reference does not have.
        reference_patches: reference patches projected and sorted per draw (sorting them is most of a
            draw's cost).
        content_floor: the blurred-gray SSIM to the content the result keeps at strength 0; the floor
            at strength ``s`` is ``content_floor * (1 - s)`` (:mod:`imggan_style.keep`; 0 = none).
        noise: standard deviation of the Gaussian noise (seeded) added to the coarsest level's start. On a
            smooth region (a sky, a gradient) the style terms have no texture of the content to grow but the
            region's own faint contours, and grow them into rings along its isophotes (the band term most,
            where ``band_levels`` lets it reach the coarsest level); noise gives them an isotropic seed
            instead (0 = none).
        content_fraction: on every level but the coarsest, the content weight is set at the level's first
            step so that the content term's gradient at a probe halfway between the target and its flat
            mean has ``content_fraction * content_weight(strength)`` times the norm of the style terms'
            gradient (0 = the fixed :func:`content_weight` everywhere).
        band_levels: the band term is on the finest ``band_levels`` levels only (0 = every level; more
            than there are levels = every level too). On a coarse level the reference brought down to its
            size has fine texture everywhere, and matching it there grows texture at that scale into the
            result's coarse structure (confetti grain on smooth gradients, its low-pass level farther from
            the reference's). The shipped presets use 2: the working resolution and its half, where the
            term only shapes fine texture.
    """

    steps: tuple[int, ...]
    patches: int
    projections: int
    scales: int
    lr: float
    redraw: int = 4
    color_weight: float = 1.0
    subspace: int = 32
    band_weight: float = 0.0
    detail: float = 1.0
    final_color: float = 0.0
    final_bands: int = 0
    final_iterations: int = 1
    decay: bool = False
    reference_patches: int = 8192
    content_floor: float = 0.0
    noise: float = 0.0
    content_fraction: float = 0.0
    band_levels: int = 0


_FAST = Preset(
    steps=(80, 60, 40, 20),
    patches=2048,
    projections=64,
    scales=2,
    lr=0.01,
    color_weight=3.0,
    band_weight=1.0,
    final_bands=2,
    final_iterations=4,
    final_color=1.0,
    decay=True,
    content_floor=FLOOR_AT_FULL,
    noise=0.03,
    content_fraction=1.0,
    band_levels=2,
)
# best = the fast stages with twice the steps per level and 96 projections
PRESETS: dict[str, Preset] = {
    "fast": _FAST,
    "best": replace(_FAST, steps=tuple(2 * n for n in _FAST.steps), projections=96),
}
CONTENT_BASE = 1.0
DEFAULT_STRENGTH = 0.5
DEFAULT_SIZE = 512


def content_weight(strength: float) -> float:
    """Weight of the content term for ``strength`` in (0, 1]: ``CONTENT_BASE * ((1 - s) / s) ** 2``."""
    strength = min(max(float(strength), 1e-3), 1.0)
    return CONTENT_BASE * ((1.0 - strength) / strength) ** 2
