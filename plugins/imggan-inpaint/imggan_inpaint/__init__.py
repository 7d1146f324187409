"""imggan's inpainting head: ``imggan inpaint photo.jpg -m mask.png`` and :func:`inpaint` in Python.

Example:
    >>> import numpy as np
    >>> from imggan_inpaint import inpaint
    >>> image = np.full((64, 64, 3), 128, np.uint8)
    >>> mask = np.zeros((64, 64), np.uint8); mask[20:30, 20:30] = 255
    >>> out = inpaint(image, mask)
    >>> out.shape, bool((out[mask == 0] == image[mask == 0]).all())
    ((64, 64, 3), True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["inpaint", "__version__"]

if TYPE_CHECKING:
    import numpy as np


def inpaint(image: np.ndarray, mask: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Fill the holes of ``image``; see :func:`imggan_inpaint.api.inpaint` (imports torch lazily)."""
    from imggan_inpaint.api import inpaint as _inpaint

    return _inpaint(image, mask, **kwargs)
