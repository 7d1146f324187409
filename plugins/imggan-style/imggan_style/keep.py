"""The content floor of the default path: how much of the photo's light and dark a result is made to keep.

The style statistics can carry a picture far from its content: a dark forest repainted in a bright,
pale reference's tones keeps its shapes but not its light, and its blurred grayscale barely resembles
the photo's. :func:`keep_content` measures that resemblance, the SSIM of the two images' grayscale
(Rec. 601 weights, as OpenCV's ``RGB2GRAY``) blurred with a Gaussian of sigma 2 px, 7x7 windows, and when
it is below a floor it moves the result's low-frequency brightness toward the content's, just as far
as the floor asks (a bisection on the blend), every channel by the same amount (hue and texture above
the blur's scale stay the result's). A result already above the floor is returned unchanged.

:func:`floor_for` ties the floor to ``--strength``: ``0.9 * (1 - strength)``, 0.45 at the default 0.5,
0 (no floor) at strength 1.

Example:
    >>> import numpy as np
    >>> from imggan_style.keep import blurred_gray_ssim, keep_content
    >>> rng = np.random.default_rng(0)
    >>> content = np.clip(0.15 + 0.1 * rng.standard_normal((64, 64, 3)), 0, 1).astype(np.float32)
    >>> bright = np.clip(0.8 + 0.05 * rng.standard_normal((64, 64, 3)), 0, 1).astype(np.float32)
    >>> blurred_gray_ssim(bright, content) < 0.45
    True
    >>> blurred_gray_ssim(keep_content(bright, content, 0.45), content) >= 0.45
    True
"""

from __future__ import annotations

import cv2
import numpy as np

SIGMA = 2.0  # the blur of the compared grayscale, px
WINDOW = 7  # SSIM's window (uniform), px
FLOOR_AT_FULL = 0.9  # the floor at strength 0; it falls linearly to 0 at strength 1


def floor_for(strength: float, at_zero: float = FLOOR_AT_FULL) -> float:
    """The blurred-gray SSIM a result keeps to its content at ``strength`` in [0, 1]: ``at_zero * (1 - strength)``
    (0.45 at the default strength 0.5)."""
    return at_zero * (1.0 - min(max(float(strength), 0.0), 1.0))


def _gray(image: np.ndarray) -> np.ndarray:
    """Rec. 601 grayscale of an HxWx3 RGB float image in [0, 1], scaled to [0, 255]."""
    return (image[..., 0] * 0.299 + image[..., 1] * 0.587 + image[..., 2] * 0.114).astype(np.float32) * 255


def _blur(gray: np.ndarray, sigma: float = SIGMA) -> np.ndarray:
    return cv2.GaussianBlur(gray, (0, 0), sigma)


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """SSIM of two grayscale images (Wang et al. 2004): ``skimage.metrics.structural_similarity`` at its
    defaults (7x7 uniform windows, sample covariances, the mean over the windows inside the image), the
    measure the benchmark's content bar uses."""
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a.astype(np.float64), b.astype(np.float64), data_range=data_range))


def blurred_gray_ssim(result: np.ndarray, content: np.ndarray) -> float:
    """SSIM between the sigma-2-blurred grayscale of two HxWx3 RGB float images in [0, 1] (same size)."""
    return ssim(_blur(_gray(result)), _blur(_gray(content)))


def keep_content(result: np.ndarray, content: np.ndarray, floor: float, steps: int = 10) -> np.ndarray:
    """``result`` with at least ``floor`` blurred-gray SSIM to ``content`` (both HxWx3 RGB float in [0, 1]).

    Below the floor the result's blurred brightness is moved toward the content's by the smallest share
    ``t`` found in ``steps`` halvings (``result + t * (blur(gray(content)) - blur(gray(result)))``, added to
    R, G and B alike, clipped to [0, 1]); ``t = 1`` gives the content's blurred brightness under the
    result's finer detail, which clears any floor this module hands out. At or above the floor (or with
    ``floor <= 0``, or an image smaller than SSIM's 7x7 window, where the measure is undefined) ``result`` comes
    back as it is.
    """
    if floor <= 0 or min(result.shape[:2]) < WINDOW:
        return result
    target, blurred = _blur(_gray(content)), _blur(_gray(result))
    if ssim(blurred, target) >= floor:
        return result
    shift = ((target - blurred) / 255)[..., None]

    def blended(t: float) -> np.ndarray:
        return np.clip(result + t * shift, 0, 1).astype(np.float32)

    low, high = 0.0, 1.0
    best = blended(high)
    for _ in range(steps):
        mid = 0.5 * (low + high)
        candidate = blended(mid)
        if ssim(_blur(_gray(candidate)), target) >= floor:
            high, best = mid, candidate
        else:
            low = mid
    return best
