"""imggan-enhance: blind denoising (``imggan denoise``) and x2/x4 upscaling (``imggan upscale``).

The Python API lives in :mod:`imggan_enhance.api` and is re-exported here as :func:`denoise` and
:func:`upscale`; torch is imported only when they are called, so that loading the plugin for
``imggan --help`` stays cheap.

Example:
    >>> import numpy as np
    >>> from imggan_enhance import denoise, upscale
    >>> image = np.full((24, 20, 3), 128, np.uint8)
    >>> denoise(image).shape, upscale(image, scale=2).shape
    ((24, 20, 3), (48, 40, 3))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["denoise", "upscale", "__version__"]

if TYPE_CHECKING:
    import numpy as np


def denoise(image: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Denoise ``image``; see :func:`imggan_enhance.api.denoise` for the options."""
    from imggan_enhance.api import denoise as _denoise

    return _denoise(image, **kwargs)


def upscale(image: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Upscale ``image``; see :func:`imggan_enhance.api.upscale` for the options."""
    from imggan_enhance.api import upscale as _upscale

    return _upscale(image, **kwargs)
