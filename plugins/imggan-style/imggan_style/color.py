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


def match_histograms(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Map each channel of ``image`` so its histogram matches ``reference``'s (quantile mapping)."""
    out = np.empty_like(image, dtype=np.float32)
    for ch in range(image.shape[2]):
        src = image[..., ch].ravel()
        ref = np.sort(reference[..., ch].ravel())
        order = np.argsort(src, kind="stable")
        quantiles = (np.arange(src.size) + 0.5) / src.size
        mapped = np.empty(src.size, np.float32)
        mapped[order] = np.interp(quantiles, (np.arange(ref.size) + 0.5) / ref.size, ref)
        out[..., ch] = mapped.reshape(image.shape[:2])
    return out


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
