"""imggan-sepia: a minimal imggan plugin: the ``sepia`` task, the ``sepia-tone`` stage, one model entry.

The public API, re-exported; torch is imported only when :func:`sepia` runs.

Example:
    >>> import numpy as np
    >>> from imggan_sepia import sepia
    >>> sepia(np.full((4, 5), 100, np.uint8)).shape   # gray in, gray out
    (4, 5)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "sepia"]

if TYPE_CHECKING:
    import numpy as np


def sepia(image: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Sepia-tone ``image``; see :func:`imggan_sepia.api.sepia`."""
    from imggan_sepia.api import sepia as _sepia

    return _sepia(image, **kwargs)
