"""Bringing a result made at the working resolution up to the input's size, without tiles or seams.

``guided_upsample(result, content)``: the low-resolution result, upsampled (bicubic), plus the content's own
detail above the working resolution (the content minus its down-and-up-sampled self). Colour, tone and
texture at the working scale come from the stylised result, edges and fine detail from the full-size
content. Every pixel goes through the same global operations, so a large image has no tile seams.

Example:
    >>> import numpy as np
    >>> from imggan_style.upsample import guided_upsample
    >>> small = np.full((10, 15, 3), 0.25, np.float32)
    >>> big = np.full((41, 60, 3), 0.5, np.float32)
    >>> out = guided_upsample(small, big)
    >>> out.shape, round(float(out.mean()), 3)
    ((41, 60, 3), 0.25)
"""

from __future__ import annotations

import cv2
import numpy as np


def guided_upsample(result: np.ndarray, content: np.ndarray, detail: float = 1.0) -> np.ndarray:
    """Upsample ``result`` (HxWx3 float) to ``content``'s size and add the content's detail above its scale.

    Args:
        result: the stylised image at the working resolution.
        content: the full-size content image (float, same range).
        detail: weight of the content's high-frequency detail (0 = plain bicubic upsampling).
    """
    height, width = content.shape[:2]
    h, w = result.shape[:2]
    up = cv2.resize(result, (width, height), interpolation=cv2.INTER_CUBIC)
    if detail:
        low = cv2.resize(cv2.resize(content, (w, h), interpolation=cv2.INTER_AREA), (width, height),
                         interpolation=cv2.INTER_CUBIC)  # fmt: skip
        up = up + detail * (content.astype(np.float32) - low)
    return np.clip(up, 0, 1).astype(np.float32)
