"""The Python API: :func:`inpaint` an in-memory image, mirroring ``imggan inpaint``.

Example:
    >>> import numpy as np
    >>> from imggan_inpaint.api import inpaint
    >>> image = np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    >>> mask = np.zeros((96, 128), np.uint8); mask[30:50, 40:80] = 255   # white = hole
    >>> out = inpaint(image, mask)                                         # shipped model, CPU
    >>> out.shape == image.shape, bool((out[mask == 0] == image[mask == 0]).all())
    (True, True)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imggan_inpaint.inference import fill_window, inpaint_bgr, load_model
from imggan_inpaint.tasks import TASK, hole_from_mask
from imggan_inpaint.zoo import DEFAULT_MODEL, EXAMPLES_DIR, WEIGHTS_DIR, model_entries

__all__ = [
    "DEFAULT_MODEL",
    "EXAMPLES_DIR",
    "WEIGHTS_DIR",
    "fill_window",
    "hole_from_mask",
    "inpaint",
    "inpaint_bgr",
    "load_model",
    "model_entries",
]


def inpaint(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    model: str | Path | None = None,
    device: str = "cpu",
    invert_mask: bool = False,
    dilate: int = 0,
    max_side: int = 1024,
) -> np.ndarray:
    """Fill the holes of ``image`` marked by ``mask``; every other pixel is returned unchanged.

    Args:
        image: OpenCV layout: HxW gray, HxWx3 BGR or HxWx4 BGRA; uint8 or uint16.
        mask: HxW (any size: resized nearest); white (> 127) = hole, unless ``invert_mask``.
        model: registered model name or ``.safetensors`` path; default the shipped model.
        device: ``cpu``, ``cuda``, ``auto``...
        invert_mask: treat black as the hole.
        dilate: grow the hole by this many pixels first.
        max_side: largest crop the network sees at once; larger photos are worked on around each hole.

    Returns:
        An array of the input's shape and dtype.

    Example:
        >>> import cv2
        >>> from imggan_inpaint import inpaint
        >>> out = inpaint(cv2.imread("photo.jpg"), cv2.imread("photo_mask.png", 0))  # doctest: +SKIP
    """
    from imggan.pipeline import process_image

    return process_image(
        TASK,
        image,
        device=device,
        model=None if model is None else str(model),
        sides={"mask": mask},
        invert_mask=invert_mask,
        dilate=dilate,
        max_side=max_side,
    )
