"""imggan-generate: unconditional and class-conditional image generation (``imggan generate``), latent
interpolation and exploration, and a memorisation audit (``imggan audit``).

The Python API lives in :mod:`imggan_generate.api` (:func:`load_generator`, :func:`generate`,
:func:`interpolate`, :func:`explore`) and :mod:`imggan_generate.audit` (:func:`audit`); the names are
re-exported here and import torch only when called.

Example:
    >>> from imggan_generate import load_generator, generate
    >>> generate(load_generator("digits"), 2, label=3).shape
    (2, 16, 16, 1)
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["audit", "explore", "generate", "interpolate", "load_generator", "__version__"]


def load_generator(model: Any = None, device: Any = "cpu") -> Any:
    """Load a generator; see :func:`imggan_generate.api.load_generator`."""
    from imggan_generate.api import load_generator as _load

    return _load(model, device)


def generate(model: Any, n: int, **kwargs: Any) -> Any:
    """``n`` images; see :func:`imggan_generate.api.generate`."""
    from imggan_generate.api import generate as _generate

    return _generate(model, n, **kwargs)


def interpolate(model: Any, seed_a: int, seed_b: int, **kwargs: Any) -> Any:
    """A latent walk; see :func:`imggan_generate.api.interpolate`."""
    from imggan_generate.api import interpolate as _interpolate

    return _interpolate(model, seed_a, seed_b, **kwargs)


def explore(model: Any, **kwargs: Any) -> Any:
    """Principal directions; see :func:`imggan_generate.api.explore`."""
    from imggan_generate.api import explore as _explore

    return _explore(model, **kwargs)


def audit(model: Any, data: Any, **kwargs: Any) -> Any:
    """Memorisation audit; see :func:`imggan_generate.audit.audit`."""
    from imggan_generate.audit import audit as _audit

    return _audit(model, data, **kwargs)
