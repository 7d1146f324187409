"""The Python API, mirroring ``imggan sepia``: :func:`sepia` on an in-memory OpenCV image.

Example:
    >>> import numpy as np
    >>> from imggan_sepia.api import sepia
    >>> out = sepia(np.full((3, 4, 4), 120, np.uint8), strength=0.5)   # BGRA: alpha kept
    >>> out.shape, int(out[0, 0, 3])
    ((3, 4, 4), 120)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def sepia(image: np.ndarray, strength: float = 1.0, model: str | Path | None = None, device: str = "cpu") -> np.ndarray:
    """Sepia-tone ``image`` (HxW gray, HxWx3 BGR or HxWx4 BGRA; uint8 or uint16); same shape and dtype back.

    Runs the same stages as the CLI through :func:`imggan.pipeline.process_image`.
    """
    from imggan.pipeline import process_image
    from imggan_sepia.tasks import SEPIA_TASK

    return process_image(
        SEPIA_TASK, image, device=device, model=None if model is None else str(model), strength=strength
    )
