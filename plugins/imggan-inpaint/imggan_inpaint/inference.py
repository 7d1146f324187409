"""Running the inpainting generator: loading it (through the core's checked model cache) and filling crops.

Example:
    >>> import numpy as np
    >>> from imggan_inpaint.inference import inpaint_bgr, load_model
    >>> image = np.full((40, 48, 3), 90, np.uint8); hole = np.zeros((40, 48), bool); hole[10:20, 10:30] = True
    >>> out = inpaint_bgr(load_model(), image, hole)
    >>> out.shape, bool((out[~hole] == image[~hole]).all())
    ((40, 48, 3), True)
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import cv2
import numpy as np
import torch

from imggan_inpaint.fill import pyramid_fill
from imggan_inpaint.models import ARCH_NAME, InpaintGenerator, build_generator
from imggan_inpaint.regions import inpaint_by_windows


def load_model(model: str | Path | None = None, device: str | torch.device = "cpu") -> InpaintGenerator:
    """The generator ``model`` names (registered name, ``.safetensors`` path or run folder; default: the
    shipped one), checked and cached by the core (:func:`imggan.modelcache.load_network`).

    Raises:
        ModelNotFoundError: the name or path does not resolve to usable weights (one line naming the file).
    """
    from imggan.modelcache import load_network

    name = None if model is None else str(model)
    return load_network("inpaint", name, build_generator, archs={ARCH_NAME}, device=device).net


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


def is_gray(image: np.ndarray, hole: np.ndarray, levels: int = 2) -> bool:
    """Whether the known pixels of a BGR crop are gray (channels within ``levels`` 8-bit levels of each other).

    A black-and-white photo stored as colour (or re-encoded as JPEG, which leaves its channels a level or two
    apart) must get a gray fill: the texture head's noise is shaped per colour and would otherwise tint it.

    Example:
        >>> import numpy as np
        >>> gray = np.full((8, 8, 3), 100, np.uint8); hole = np.zeros((8, 8), bool); hole[2:4, 2:4] = True
        >>> is_gray(gray, hole), is_gray(gray + np.array([0, 0, 9], np.uint8), hole)
        (True, False)
    """
    if hole.all():
        return False
    scale = 257 if image.dtype == np.uint16 else 1
    spread = cv2.max(cv2.absdiff(image[..., 0], image[..., 1]), cv2.absdiff(image[..., 1], image[..., 2]))
    spread = cv2.max(spread, cv2.absdiff(image[..., 0], image[..., 2]))
    spread[hole] = 0
    return bool(spread.max() <= levels * scale)


def fill_window(generator: InpaintGenerator, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Inpaint one HxWx3 BGR crop (uint8/uint16) with ``generator``; returns the same shape and dtype.

    The fill of a gray crop (:func:`is_gray`) is gray: the mean of the network's three channels.
    """
    from imggan.tensors import image_to_tensor, tensor_to_image

    device = next(generator.parameters()).device
    with torch.inference_mode():
        x = image_to_tensor(image, device)
        h = torch.from_numpy(np.ascontiguousarray(hole)).to(device=device, dtype=x.dtype)[None, None]
        filled = pyramid_fill(x * (1 - h), h, iterations=generator.fill_iterations)
        with _autocast(device, image.dtype):
            residual = generator.residual(filled, h)
        y = (filled + residual.float() * h).clamp(0, 1)
        if is_gray(image, hole):
            y = y.mean(dim=1, keepdim=True).expand_as(y)
    out = tensor_to_image(y, image.dtype)
    out[~hole] = image[~hole]
    return out


# The windows the network sees (:func:`imggan_inpaint.regions.plan_windows`), chosen on the validation split:
# each hole region's box grown by 0.35 of its longer side (at least 24 px), the whole image when the windows
# would cover more than 0.4 of it. Against 0.5 / 32 px / 0.5, a rectangle's window has about 0.7 of the
# area (the network's cost) at the same or better PSNR, SSIM and texture on val; objects stay whole.
WINDOW_MARGIN = 24
WINDOW_CONTEXT = 0.35
WINDOW_WHOLE_FRACTION = 0.4


def inpaint_bgr(
    generator: InpaintGenerator,
    image: np.ndarray,
    hole: np.ndarray,
    max_side: int = 1024,
    margin: int = WINDOW_MARGIN,
    context: float = WINDOW_CONTEXT,
    whole_fraction: float = WINDOW_WHOLE_FRACTION,
) -> np.ndarray:
    """Inpaint an HxWx3 BGR image of any size through the crop strategy; only hole pixels change."""
    return inpaint_by_windows(
        image,
        hole,
        lambda crop, crop_hole: fill_window(generator, crop, crop_hole),
        max_side,
        margin,
        context,
        whole_fraction,
    )
