"""What every task sees: any decoded image as HxWx3 BGR (+ alpha), and the result turned back into the input's kind.

Example:
    >>> import numpy as np
    >>> from imggan.normalise import join_image, split_image
    >>> bgr, alpha = split_image(np.zeros((2, 3), np.uint16))
    >>> bgr.shape, alpha, join_image(bgr, alpha, 1, "uint16").shape
    ((2, 3, 3), None, (2, 3))
"""

from __future__ import annotations

import cv2
import numpy as np


def split_image(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Any decoded image -> (HxWx3 BGR of the same dtype, alpha or None); gray is expanded to 3 channels."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), None
    if image.shape[2] == 1:
        return cv2.cvtColor(image[..., 0], cv2.COLOR_GRAY2BGR), None
    if image.shape[2] == 4:
        return np.ascontiguousarray(image[..., :3]), np.ascontiguousarray(image[..., 3])
    return image, None


def match_dtype(image: np.ndarray, dtype: np.dtype | str) -> np.ndarray:
    """Convert between uint8 and uint16 by scaling (x257 / rounding down by 257)."""
    dtype = np.dtype(dtype)
    if image.dtype == dtype:
        return image
    if image.dtype == np.uint8 and dtype == np.uint16:
        return image.astype(np.uint16) * 257
    if image.dtype == np.uint16 and dtype == np.uint8:
        return np.rint(image / 257.0).astype(np.uint8)
    if image.dtype.kind == "f":
        peak = np.iinfo(dtype).max
        return np.clip(np.rint(image * peak), 0, peak).astype(dtype)
    return image.astype(dtype)


def join_image(result: np.ndarray, alpha: np.ndarray | None, channels: int, dtype: str) -> np.ndarray:
    """Undo :func:`split_image` on a task's result: restore gray, re-attach alpha (resized), restore dtype."""
    result = match_dtype(result, dtype)
    if channels == 1 and result.ndim == 3:
        return cv2.cvtColor(result, cv2.COLOR_BGR2GRAY)
    if alpha is not None and result.ndim == 3:
        alpha = match_dtype(alpha, result.dtype)
        if alpha.shape[:2] != result.shape[:2]:
            alpha = cv2.resize(alpha, (result.shape[1], result.shape[0]), interpolation=cv2.INTER_CUBIC)
        return np.dstack([result, alpha])
    return result
