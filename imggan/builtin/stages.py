"""Built-in OpenCV stages for ``imggan run --steps``: resize, nlmeans, CLAHE, sharpen, blur, gamma, gray.

Stage names never equal task names (``imggan run`` takes both): OpenCV's non-local means is ``nlmeans``,
while ``denoise`` in a chain is the denoising task with its shipped model.

Each stage takes and returns an HxWx3 BGR image (uint8 or uint16, as the runner normalises them).
Stages built on 8-bit-only OpenCV functions convert 16-bit input down and back up.
"""

from __future__ import annotations

import cv2
import numpy as np

from imggan.errors import ImgganError
from imggan.hookspecs import hookimpl
from imggan.normalise import match_dtype
from imggan.stages import Stage


def resize(
    image: np.ndarray,
    value: float | None = None,
    scale: float | None = None,
    width: int | None = None,
    height: int | None = None,
) -> np.ndarray:
    """Resize by ``scale`` (or a bare value) or to ``width``/``height`` (the other keeps the aspect ratio)."""
    h, w = image.shape[:2]
    scale = scale if scale is not None else value
    if width or height:
        width = int(width or round(w * height / h))
        height = int(height or round(h * width / w))
    elif scale:
        width, height = max(1, round(w * float(scale))), max(1, round(h * float(scale)))
    else:
        raise ImgganError("resize needs scale=, width= or height=")
    shrinking = width * height < w * h
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


def nlmeans(
    image: np.ndarray, value: float | None = None, h: float = 10.0, template: int = 7, search: int = 21
) -> np.ndarray:
    """OpenCV non-local means (``fastNlMeansDenoisingColored``) with filter strength ``h``."""
    h = float(value if value is not None else h)
    eight = match_dtype(image, np.uint8)
    out = cv2.fastNlMeansDenoisingColored(eight, None, h, h, template, search)
    return match_dtype(out, image.dtype)


def clahe(image: np.ndarray, value: float | None = None, clip: float = 2.0, grid: int = 8) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation on the L channel of Lab."""
    eight = match_dtype(image, np.uint8)
    lab = cv2.cvtColor(eight, cv2.COLOR_BGR2LAB)
    equaliser = cv2.createCLAHE(clipLimit=float(value if value is not None else clip), tileGridSize=(grid, grid))
    lab[..., 0] = equaliser.apply(lab[..., 0])
    return match_dtype(cv2.cvtColor(lab, cv2.COLOR_LAB2BGR), image.dtype)


def sharpen(image: np.ndarray, value: float | None = None, amount: float = 0.6, sigma: float = 1.5) -> np.ndarray:
    """Unsharp mask: ``image + amount * (image - blur(image, sigma))``."""
    amount = float(value if value is not None else amount)
    blurred = cv2.GaussianBlur(image, (0, 0), sigma)
    return cv2.addWeighted(image, 1 + amount, blurred, -amount, 0)


def gaussian_blur(image: np.ndarray, value: float | None = None, sigma: float = 1.0) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels."""
    return cv2.GaussianBlur(image, (0, 0), float(value if value is not None else sigma))


def gamma(image: np.ndarray, value: float | None = None, gamma: float = 1.0) -> np.ndarray:
    """Power-law tone curve: output = input ** (1 / gamma); gamma > 1 brightens."""
    g = float(value if value is not None else gamma)
    peak = float(np.iinfo(image.dtype).max)
    return np.clip(np.rint(((image / peak) ** (1.0 / g)) * peak), 0, peak).astype(image.dtype)


def grayscale(image: np.ndarray) -> np.ndarray:
    """Luma only (kept as three equal channels so later stages see BGR)."""
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


STAGES = (
    Stage(
        "resize",
        "Resize: resize:0.5, resize:width=800 (area when shrinking, bicubic when enlarging).",
        resize,
    ),
    Stage("nlmeans", "OpenCV non-local means denoising (classical): nlmeans:h=10.", nlmeans),
    Stage("clahe", "Local contrast (CLAHE on Lab lightness): clahe:clip=2,grid=8.", clahe),
    Stage("sharpen", "Unsharp mask: sharpen:amount=0.6,sigma=1.5.", sharpen),
    Stage("gaussian-blur", "Gaussian blur: gaussian-blur:sigma=1.", gaussian_blur),
    Stage("gamma", "Tone curve: gamma:1.2 brightens, gamma:0.8 darkens.", gamma),
    Stage("grayscale", "Drop colour (keeps three equal channels).", grayscale),
)


@hookimpl
def register_stages(register) -> None:
    """Register the OpenCV stages."""
    for stage in STAGES:
        register(stage)
