"""Colour helpers of the style head: per-channel histogram matching and chroma preservation in Lab.

Images are HxWx3 float32 RGB in [0, 1] (what :mod:`imggan_style.optimize` works on).

Example:
    >>> import numpy as np
    >>> from imggan_style.color import preserve_color
    >>> content = np.zeros((4, 4, 3), np.float32); content[..., 0] = 0.8     # red
    >>> styled = np.full((4, 4, 3), 0.5, np.float32)                          # gray
    >>> out = preserve_color(styled, content)
    >>> bool(out[..., 0].mean() > out[..., 2].mean())                         # red again, at gray's lightness
    True
"""

from __future__ import annotations

import cv2
import numpy as np


def sorted_channels(reference: np.ndarray) -> np.ndarray:
    """Each channel's values of an HxWxC array, sorted: what :func:`match_sorted` maps onto (an N x C array)."""
    return np.sort(reference.reshape(-1, reference.shape[-1]), axis=0)


def match_sorted(image: np.ndarray, reference_sorted: np.ndarray) -> np.ndarray:
    """Map each channel of ``image`` onto the distribution of the sorted values ``reference_sorted`` (N x C)."""
    out = np.empty(image.shape, dtype=np.float32)
    ref_quantiles = (np.arange(reference_sorted.shape[0]) + 0.5) / reference_sorted.shape[0]
    for ch in range(image.shape[2]):
        src = image[..., ch].ravel()
        order = np.argsort(src, kind="stable")
        mapped = np.empty(src.size, np.float32)
        mapped[order] = np.interp((np.arange(src.size) + 0.5) / src.size, ref_quantiles, reference_sorted[:, ch])
        out[..., ch] = mapped.reshape(image.shape[:2])
    return out


def match_histograms(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Map each channel of ``image`` so its histogram matches ``reference``'s (quantile mapping)."""
    return match_sorted(image, sorted_channels(reference))


def transfer_color(image: np.ndarray, reference: np.ndarray, preserve: bool = False) -> np.ndarray:
    """The colour stage of the default path: ``image`` with ``reference``'s colour distribution.

    Per channel histogram matching (:func:`match_histograms`) in RGB; with ``preserve``, only the Lab
    lightness is matched to the reference's and the image keeps its own chroma (a*, b*), so
    ``--preserve-color`` keeps the content's colours from the first step on.
    """
    if not preserve:
        return match_histograms(image, reference)
    lab = to_lab(image)
    lab[..., :1] = match_histograms(lab[..., :1], to_lab(reference)[..., :1])
    return from_lab(lab)


def _split(image: np.ndarray, bands: int) -> tuple[list[np.ndarray], np.ndarray]:
    """The finest ``bands`` Laplacian bands of ``image`` (finest first; fewer when it gets under 16 px) and
    the low-pass left: a band is an image minus its blurred, down-and-up-sampled self (OpenCV's
    ``pyrDown``/``pyrUp``, the pyramid of ProGAN's multi-scale SWD)."""
    details, current = [], image
    for _ in range(bands):
        if min(current.shape[:2]) < 16:
            break
        small = cv2.pyrDown(current)
        details.append(current - cv2.pyrUp(small, dstsize=(current.shape[1], current.shape[0])))
        current = small
    return details, current


def _merge(details: list[np.ndarray], low: np.ndarray) -> np.ndarray:
    for detail in reversed(details):
        low = cv2.pyrUp(low, dstsize=(detail.shape[1], detail.shape[0])) + detail
    return low


def match_detail(image: np.ndarray, reference: np.ndarray, bands: int = 1) -> np.ndarray:
    """Give the finest ``bands`` Laplacian-pyramid bands of ``image`` the histograms of ``reference``'s.

    Heeger and Bergen's step of texture synthesis (1995): matching each band's values per channel to the
    reference band's sets how much fine texture there is and of what contrast, so a smooth reference gets
    a smooth result (no grain left by the optimiser) and a grainy one a grainy result. Coarser content is
    untouched.
    """
    return StatisticsTarget(reference, bands).match(image, iterations=1, color=0.0)


class StatisticsTarget:
    """A reference's sorted colour values and sorted Laplacian-band values, computed once, and the
    Heeger-Bergen matching of an image to them (:meth:`match`).

    Args:
        reference: HxWx3 float32 RGB in [0, 1].
        bands: the finest Laplacian bands matched (0 = colours only).
        preserve: colours matched by Lab lightness only (``--preserve-color``), as :func:`transfer_color`.
    """

    def __init__(self, reference: np.ndarray, bands: int, preserve: bool = False) -> None:
        reference = reference.astype(np.float32)
        details, _ = _split(reference, bands)
        self.bands = [sorted_channels(d) for d in details]
        self.preserve = preserve
        self.colors = sorted_channels(to_lab(reference)[..., :1] if preserve else reference)

    def match(self, image: np.ndarray, iterations: int = 1, color: float = 1.0) -> np.ndarray:
        """``iterations`` rounds of: each band's histograms the reference's, then the colour histograms
        (blended ``color``: 0 = none, 1 = exact). One round leaves each statistic exact right after its
        own step only (matching the colours moves the bands a little, and the bands the colours); a few
        rounds bring both close at once (Heeger and Bergen iterate the same way)."""
        image = image.astype(np.float32)
        for _ in range(max(1, int(iterations))):
            if self.bands:
                details, low = _split(image, len(self.bands))
                details = [match_sorted(d, ref) for d, ref in zip(details, self.bands, strict=False)]
                image = np.clip(_merge(details, low), 0, 1).astype(np.float32)
            if color:
                image = (1 - color) * image + color * self._colors(image)
        return image

    def _colors(self, image: np.ndarray) -> np.ndarray:
        if not self.preserve:
            return match_sorted(image, self.colors)
        lab = to_lab(image)
        lab[..., :1] = match_sorted(lab[..., :1], self.colors)
        return from_lab(lab)


def to_lab(image: np.ndarray) -> np.ndarray:
    """RGB float in [0, 1] -> CIE Lab (L in [0, 100]) through OpenCV (D65, sRGB gamma)."""
    return cv2.cvtColor(np.clip(image, 0, 1).astype(np.float32), cv2.COLOR_RGB2Lab)


def from_lab(lab: np.ndarray) -> np.ndarray:
    """CIE Lab -> RGB float in [0, 1] (out-of-gamut values clipped)."""
    return np.clip(cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB), 0, 1)


def preserve_color(styled: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The lightness of ``styled`` with the chroma (a*, b*) of ``content`` (same size)."""
    lab = to_lab(styled)
    lab[..., 1:] = to_lab(content)[..., 1:]
    return from_lab(lab)


def chroma_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean Euclidean distance of two RGB images' (a*, b*) chroma in Lab (delta E with lightness ignored)."""
    return float(np.sqrt(np.square(to_lab(a)[..., 1:] - to_lab(b)[..., 1:]).sum(-1)).mean())
