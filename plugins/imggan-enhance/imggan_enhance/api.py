"""Python API: ``denoise(image)`` and ``upscale(image, scale=4)`` on OpenCV images (NumPy arrays).

Images are ``HxW`` (gray), ``HxWx3`` (BGR) or ``HxWx4`` (BGRA), uint8 or uint16; the result has the same
layout and dtype. Alpha is not denoised; for upscaling it is resized separately (bicubic). Models are
loaded once per file and device (the core's model cache).

Example:
    >>> import numpy as np
    >>> from imggan_enhance.api import upscale
    >>> upscale(np.zeros((5, 7), np.uint8), scale=2).shape
    (10, 14)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from imggan.errors import ImgganError
from imggan.task import RunContext

__all__ = ["denoise", "upscale"]


def _model(task: str, model: str | None, scale: int, device: str) -> Any:
    """The loaded model (the core's cache, :mod:`imggan.modelcache`, keeps each network loaded once)."""
    from imggan.device import resolve_device
    from imggan_enhance.tasks import load_denoiser, load_upscaler

    ctx = RunContext(device=resolve_device(device), model=model, options={"scale": scale})
    return load_denoiser(ctx) if task == "denoise" else load_upscaler(ctx)


def _check(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype not in (np.uint8, np.uint16):
        raise ImgganError("expected a uint8 or uint16 NumPy image (HxW, HxWx3 BGR or HxWx4 BGRA)")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3, 4))):
        raise ImgganError(f"unsupported image shape {image.shape}: expected HxW, HxWx3 or HxWx4")


def _apply(task: str, image: np.ndarray, model: str | None, scale: int, device: str, tile: int | None, **kw):
    from imggan.pipeline import join_image, split_image
    from imggan.task import Item
    from imggan_enhance.tasks import process_denoise, process_upscale

    _check(image)
    rgb, alpha = split_image(image)
    loaded = _model(task, model, scale, device)
    ctx = RunContext(device=loaded.device, model=model, options={"scale": scale, **kw}, tile=tile)
    process = process_denoise if task == "denoise" else process_upscale
    (out,) = process(loaded, [Item(source=None, relative=None, image=rgb)], ctx)  # type: ignore[arg-type]
    channels = 1 if image.ndim == 2 or image.shape[2] == 1 else image.shape[2]
    return join_image(out, alpha, channels, str(image.dtype))


def denoise(
    image: np.ndarray,
    sigma: float | None = None,
    model: str | None = None,
    device: str = "cpu",
    tile: int | None = None,
    ensemble: int = 1,
) -> np.ndarray:
    """Denoise an image with the shipped blind denoiser (or ``model``: a name or ``.safetensors`` path).

    Args:
        image: HxW / HxWx3 BGR / HxWx4 BGRA, uint8 or uint16.
        sigma: optional noise level hint on the 8-bit scale (e.g. 25); ``None`` = blind.
        model: registered model name or weights path; ``None`` = the shipped default.
        device: ``cpu``, ``cuda``, ``auto``...
        tile: tile side for large images (``None``: automatic).
        ensemble: average over 1, 2, 4 or 8 flipped/rotated copies (N times slower, slightly better).
    """
    return _apply("denoise", image, model, 1, device, tile, sigma=sigma, ensemble=ensemble)


def upscale(
    image: np.ndarray,
    scale: int = 4,
    model: str | None = None,
    device: str = "cpu",
    tile: int | None = None,
    ensemble: int = 1,
) -> np.ndarray:
    """Upscale an image by ``scale`` (2 or 4); ``model="sharp"`` for the adversarially fine-tuned variant.

    Args:
        image: HxW / HxWx3 BGR / HxWx4 BGRA, uint8 or uint16.
        scale: 2 or 4; the output is exactly ``scale`` x the input size.
        model: ``None`` (PSNR-oriented default), ``"sharp"``, another registered name or a weights path.
        device: ``cpu``, ``cuda``, ``auto``...
        tile: tile side for large images (``None``: automatic).
        ensemble: average over 1, 2, 4 or 8 flipped/rotated copies (N times slower, slightly better).
    """
    if scale not in (2, 4):
        raise ImgganError(f"scale must be 2 or 4, not {scale}")
    return _apply("upscale", image, model, scale, device, tile, ensemble=ensemble)
