"""The crop strategy for images of any size: work on crops around each hole region, never on the whole photo.

Every connected group of hole pixels gets a box grown by a context margin (boxes that overlap are merged),
each window is inpainted on its own at native resolution, and only its hole pixels are pasted back; an
image whose windows would cover most of it anyway is inpainted whole. A window whose side would exceed
``max_side`` (a huge hole) is shrunk to fit, inpainted, resized back up and pasted into the hole only.
Memory is bounded by ``max_side``, whatever the photo's size.

Example:
    >>> import numpy as np
    >>> from imggan_inpaint.regions import plan_windows
    >>> hole = np.zeros((3000, 2000), bool); hole[100:120, 200:260] = True; hole[2500:2510, 1500:1520] = True
    >>> [w.box for w in plan_windows(hole, max_side=512, margin=64)]
    [(36, 136, 184, 324), (2436, 1436, 2574, 1584)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Window:
    """A crop of the image to inpaint: ``box`` = (y0, x0, y1, x1), half-open."""

    box: tuple[int, int, int, int]

    @property
    def height(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def width(self) -> int:
        return self.box[3] - self.box[1]


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _union(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def plan_windows(
    hole: np.ndarray, max_side: int = 1024, margin: int = 64, whole_fraction: float = 0.5, context: float = 0.5
) -> list[Window]:
    """Windows covering every hole pixel with context around each hole region.

    Each connected region's box is grown by ``context`` times its longer side, at least ``margin`` pixels, so a wide
    hole sees enough of its surroundings; overlapping windows are merged until none overlap. An image no
    larger than ``max_side`` is taken whole when its windows would cover more than ``whole_fraction`` of
    it (cropping then saves little); otherwise only the windows are worked on, which is what makes a
    small hole in a large photo cheap.
    """
    h, w = hole.shape
    if not hole.any():
        return []
    count, _, stats, _ = cv2.connectedComponentsWithStats(hole.astype(np.uint8), connectivity=8)
    boxes = []
    for i in range(1, count):
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        m = max(margin, int(context * max(bw, bh)))
        boxes.append((max(0, y - m), max(0, x - m), min(h, y + bh + m), min(w, x + bw + m)))
    merged = True
    while merged:
        merged = False
        out: list[tuple[int, int, int, int]] = []
        for box in boxes:
            for i, other in enumerate(out):
                if _overlap(box, other):
                    out[i] = _union(box, other)
                    merged = True
                    break
            else:
                out.append(box)
        boxes = out
    area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes)
    if max(h, w) <= max_side and area > whole_fraction * h * w:
        return [Window((0, 0, h, w))]
    return [Window(b) for b in sorted(boxes)]


def inpaint_by_windows(
    image: np.ndarray,
    hole: np.ndarray,
    fill_window: Callable[[np.ndarray, np.ndarray], np.ndarray],
    max_side: int = 1024,
    margin: int = 64,
    context: float = 0.5,
    whole_fraction: float = 0.5,
) -> np.ndarray:
    """Inpaint ``image`` window by window with ``fill_window(crop, crop_hole) -> filled crop``.

    Args:
        image: HxWxC array (any dtype ``fill_window`` accepts).
        hole: HxW bool, True = missing.
        fill_window: inpaints one crop of at most ``max_side`` per side; its result must have the crop's
            shape and dtype.
        max_side: largest side handed to ``fill_window``; bigger windows are shrunk first (INTER_AREA) and
            the result enlarged back (bicubic) before pasting.
        margin: least context around each hole region (see :func:`plan_windows`).
        context: context around each hole region as a fraction of its longer side (see :func:`plan_windows`).
        whole_fraction: windows covering more of the image than this: the image is inpainted whole.

    Returns:
        A copy of ``image`` in which only the hole pixels differ.
    """
    out = image.copy()
    for window in plan_windows(hole, max_side, margin, whole_fraction, context):
        y0, x0, y1, x1 = window.box
        crop, crop_hole = image[y0:y1, x0:x1], hole[y0:y1, x0:x1]
        side = max(window.height, window.width)
        if side <= max_side:
            filled = fill_window(crop, crop_hole)
        else:
            f = max_side / side
            size = (max(1, round(window.width * f)), max(1, round(window.height * f)))
            small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
            small_hole = cv2.resize(crop_hole.astype(np.uint8), size, interpolation=cv2.INTER_AREA) > 0
            filled_small = fill_window(small, small_hole)
            filled = cv2.resize(filled_small, (window.width, window.height), interpolation=cv2.INTER_CUBIC)
            filled = filled.reshape(crop.shape)
        region = out[y0:y1, x0:x1]
        region[crop_hole] = filled[crop_hole]
    return out
