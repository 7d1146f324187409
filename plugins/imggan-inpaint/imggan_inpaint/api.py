"""The Python API: :func:`inpaint` an in-memory image, plus the pieces the task is built from.

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

import contextlib
import functools
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from imggan.errors import MaskError
from imggan_inpaint.fill import pyramid_fill
from imggan_inpaint.models import InpaintGenerator, build_generator
from imggan_inpaint.regions import inpaint_by_windows

WEIGHTS_DIR = Path(__file__).parent / "weights"
EXAMPLES_DIR = Path(__file__).parent / "examples"  # astronaut.jpg + astronaut_mask.png (the README's demo)
DEFAULT_MODEL = "inpaint-small"
_CACHE: dict[tuple[str, str], InpaintGenerator] = {}
_LOCK = threading.Lock()


def model_entries() -> list[Any]:
    """The models this package ships, as :class:`imggan.weights.ModelEntry` (default first)."""
    from imggan.weights import ModelEntry

    return [
        ModelEntry(
            name=DEFAULT_MODEL,
            task="inpaint",
            path=WEIGHTS_DIR / f"{DEFAULT_MODEL}.safetensors",
            default=True,
            description="Residual U-Net over a pyramid fill, ~1M parameters, trained on DATA.md photos.",
        )
    ]


def load_model(model: str | Path | None = None, device: str | torch.device = "cpu") -> InpaintGenerator:
    """Load a generator by registered name or ``.safetensors`` path (default: the shipped one); cached.

    Raises:
        ModelNotFoundError: the name or path does not resolve to weights.
    """
    from imggan.weights import load_weights, resolve_model

    entry = resolve_model("inpaint", None if model is None else str(model), model_entries())
    key = (str(Path(entry.path).resolve()), str(device))
    with _LOCK:
        if key not in _CACHE:
            tensors, card = load_weights(entry.path)
            generator = build_generator(card.get("arch", {}))
            generator.load_state_dict(tensors)
            _CACHE[key] = generator.eval().requires_grad_(False).to(device)
        return _CACHE[key]


def hole_from_mask(mask: np.ndarray, shape: tuple[int, int], invert: bool = False, dilate: int = 0) -> np.ndarray:
    """Turn a user mask into an HxW bool hole: resized (nearest), thresholded at 127, inverted, dilated.

    Args:
        mask: HxW, HxWx3 or HxWx4 array, uint8/uint16/bool/float; white (above half range) = hole.
        shape: the image's (height, width).
        invert: black = hole instead.
        dilate: grow the hole by this many pixels (elliptic structuring element).

    Raises:
        MaskError: the mask is empty or not an image.
    """
    mask = np.asarray(mask)
    if mask.ndim == 3:
        mask = mask[..., :3].max(axis=2)
    if mask.ndim != 2 or mask.size == 0:
        raise MaskError(f"a mask must be a 2-D image, got an array of shape {mask.shape}")
    if mask.dtype == bool:
        hole = mask
    elif mask.dtype.kind == "f":
        hole = mask > 0.5
    else:
        peak = 255 if mask.dtype == np.uint8 else int(np.iinfo(mask.dtype).max) if mask.dtype.kind == "u" else 255
        hole = mask > (127 if peak == 255 else peak // 2)
    if hole.shape != tuple(shape):
        hole = cv2.resize(hole.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    if invert:
        hole = ~hole
    if dilate > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1))
        hole = cv2.dilate(hole.astype(np.uint8), kernel) > 0
    return hole


def _autocast(device: torch.device, dtype: np.dtype) -> contextlib.AbstractContextManager:
    """bf16 autocast for 8-bit images where the hardware has fast bf16 (CUDA, CPUs with AVX512-BF16/AMX).

    The network only adds a residual to the classical fill, so bf16 changes its output by well under one
    8-bit level (measured max 3e-4) while making the CPU pass about a third faster. 16-bit images stay fp32.
    """
    if np.dtype(dtype) != np.uint8:
        return contextlib.nullcontext()
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    if device.type == "cpu" and _cpu_has_fast_bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@functools.cache
def _cpu_has_fast_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def fill_window(generator: InpaintGenerator, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Inpaint one HxWx3 BGR crop (uint8/uint16) with ``generator``; returns the same shape and dtype."""
    from imggan.tensors import image_to_tensor, tensor_to_image

    device = next(generator.parameters()).device
    with torch.inference_mode():
        x = image_to_tensor(image, device)
        h = torch.from_numpy(np.ascontiguousarray(hole)).to(device=device, dtype=x.dtype)[None, None]
        filled = pyramid_fill(x * (1 - h), h, iterations=generator.fill_iterations)
        with _autocast(device, image.dtype):
            residual = generator.residual(filled, h)
        y = (filled + residual.float() * h).clamp(0, 1)
    out = tensor_to_image(y, image.dtype)
    out[~hole] = image[~hole]
    return out


def inpaint_bgr(
    generator: InpaintGenerator, image: np.ndarray, hole: np.ndarray, max_side: int = 1024, margin: int = 32
) -> np.ndarray:
    """Inpaint an HxWx3 BGR image of any size through the crop strategy; only hole pixels change."""
    return inpaint_by_windows(
        image, hole, lambda crop, crop_hole: fill_window(generator, crop, crop_hole), max_side, margin
    )


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
    from imggan_inpaint.tasks import TASK

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
