"""Synthetic hole masks: free-form brush strokes, rectangles and blobs (uint8 HxW, 255 = hole).

Used on the fly in training (a mix covering 5-50% of the crop) and, with fixed seeds, by the benchmark's
protocol (strokes covering 10-30% with brushes 6-22 px wide; one rectangle covering 4-11%).

Example:
    >>> import numpy as np
    >>> from imggan_inpaint.masks import stroke_mask
    >>> m = stroke_mask(128, 128, np.random.default_rng(0), coverage=(0.1, 0.3), width=(6, 22))
    >>> bool(0.1 <= (m > 0).mean() <= 0.35), m.dtype.name
    (True, 'uint8')
"""

from __future__ import annotations

import cv2
import numpy as np


def _coverage(mask: np.ndarray) -> float:
    return float((mask > 0).mean())


def _one_stroke(mask: np.ndarray, rng: np.random.Generator, width: tuple[int, int]) -> None:
    """Draw one random polyline brush stroke (a few segments of random angle and length) into ``mask``."""
    h, w = mask.shape
    y, x = float(rng.uniform(0, h)), float(rng.uniform(0, w))
    brush = int(rng.integers(width[0], width[1] + 1))
    angle = float(rng.uniform(0, 2 * np.pi))
    for _ in range(int(rng.integers(2, 7))):
        angle += float(rng.uniform(-1.2, 1.2))
        length = float(rng.uniform(0.08, 0.3)) * max(h, w)
        ny = float(np.clip(y + length * np.sin(angle), 0, h - 1))
        nx = float(np.clip(x + length * np.cos(angle), 0, w - 1))
        cv2.line(mask, (int(x), int(y)), (int(nx), int(ny)), 255, brush, lineType=cv2.LINE_8)
        cv2.circle(mask, (int(nx), int(ny)), brush // 2, 255, -1)
        y, x = ny, nx


def stroke_mask(
    h: int,
    w: int,
    rng: np.random.Generator,
    coverage: tuple[float, float] = (0.1, 0.3),
    width: tuple[int, int] = (6, 22),
) -> np.ndarray:
    """Free-form brush strokes until the covered fraction reaches a target drawn from ``coverage``.

    Widths scale with the image only through ``width`` (pixels). Overshoot past the upper bound is undone
    by dropping the last stroke when possible.
    """
    target = float(rng.uniform(*coverage))
    mask = np.zeros((h, w), np.uint8)
    for _ in range(200):
        before = mask.copy()
        _one_stroke(mask, rng, width)
        if _coverage(mask) > coverage[1] and _coverage(before) >= coverage[0]:
            return before
        if _coverage(mask) >= target:
            break
    return mask


def rect_mask(h: int, w: int, rng: np.random.Generator, coverage: tuple[float, float] = (0.04, 0.11)) -> np.ndarray:
    """One axis-aligned rectangle whose area is a fraction drawn from ``coverage``, aspect 1:2 to 2:1."""
    area = float(rng.uniform(*coverage)) * h * w
    aspect = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    rh = int(np.clip(round(np.sqrt(area * aspect)), 1, h))
    rw = int(np.clip(round(area / rh), 1, w))
    y = int(rng.integers(0, h - rh + 1))
    x = int(rng.integers(0, w - rw + 1))
    mask = np.zeros((h, w), np.uint8)
    mask[y : y + rh, x : x + rw] = 255
    return mask


def blob_mask(h: int, w: int, rng: np.random.Generator, coverage: tuple[float, float] = (0.05, 0.4)) -> np.ndarray:
    """Irregular blobs: thresholded smooth noise, grown until the target coverage is reached."""
    target = float(rng.uniform(*coverage))
    scale = int(rng.integers(4, 12))
    noise = rng.random((scale, scale)).astype(np.float32)
    field = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    threshold = float(np.quantile(field, 1.0 - target))
    return np.where(field >= threshold, 255, 0).astype(np.uint8)


def training_mask(
    h: int, w: int, rng: np.random.Generator, coverage: tuple[float, float] = (0.05, 0.5), rect_prob: float = 0.2
) -> np.ndarray:
    """The training mix: strokes (60%), rectangles (20%), blobs (20%), sometimes combined, within ``coverage``.

    Stroke widths scale with the crop so a 96 px crop sees brushes of the same relative size as a 256 px
    benchmark image. ``rect_prob`` sets the share of rectangles; strokes and blobs keep their 3:1 ratio.
    """
    s = max(h, w) / 256.0
    width = (max(2, int(round(6 * s))), max(3, int(round(26 * s))))
    stroke_end = round(0.75 * (1.0 - rect_prob), 12)
    kind = rng.random()
    if kind < stroke_end:
        mask = stroke_mask(h, w, rng, (coverage[0], min(coverage[1], 0.4)), width)
    elif kind < round(stroke_end + rect_prob, 12):
        mask = rect_mask(h, w, rng, (coverage[0], min(coverage[1], 0.25)))
        if rng.random() < 0.3:
            mask |= stroke_mask(h, w, rng, (0.03, 0.12), width)
    else:
        mask = blob_mask(h, w, rng, (coverage[0], min(coverage[1], 0.4)))
    return mask
