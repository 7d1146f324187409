"""imggan-style: style transfer from one reference image (``imggan stylize --style REF``), fast trained styles
(``--model``) and unpaired translation (``imggan train translate``).

The Python API lives in :mod:`imggan_style.api` and is re-exported here; torch is imported only when the
functions are called, so loading the plugin for ``imggan --help`` stays cheap.

Example:
    >>> import numpy as np
    >>> from imggan_style import stylize
    >>> photo = np.full((20, 28, 3), 100, np.uint8)
    >>> painting = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    >>> stylize(photo, style=painting, size=24, device="cpu").shape
    (20, 28, 3)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["stylize", "train_style", "train_translate", "__version__"]

if TYPE_CHECKING:
    import numpy as np


def stylize(image: np.ndarray, style: Any = None, **kwargs: Any) -> np.ndarray:
    """Stylise ``image``; see :func:`imggan_style.api.stylize` for the options."""
    from imggan_style.api import stylize as _stylize

    return _stylize(image, style, **kwargs)


def train_style(style: Any, data: Any, out: Any, **config: Any) -> dict[str, Any]:
    """Train a feed-forward style; see :func:`imggan_style.api.train_style`."""
    from imggan_style.api import train_style as _train

    return _train(style, data, out, **config)


def train_translate(domain_a: Any, domain_b: Any, out: Any, **config: Any) -> dict[str, Any]:
    """Train an unpaired translation; see :func:`imggan_style.api.train_translate`."""
    from imggan_style.api import train_translate as _train

    return _train(domain_a, domain_b, out, **config)
