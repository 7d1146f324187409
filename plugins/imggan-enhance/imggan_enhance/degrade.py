"""Synthetic degradations that make training pairs (and benchmark inputs) from clean images.

Tensors are ``N x 3 x H x W`` float RGB in [0, 1]; NumPy helpers take 8-bit/16-bit OpenCV images. Noise
levels are on the 8-bit scale (sigma = 25 means 25/255). Downscaling is antialiased bicubic (Keys cubic,
a = -0.5, kernel widened by the scale factor), the convention of MATLAB ``imresize`` and Pillow ``BICUBIC``;
torch's ``interpolate(..., antialias=True)`` implements that filter.

Example:
    >>> import torch
    >>> from imggan_enhance.degrade import add_noise, downscale, quantize
    >>> x = torch.rand(2, 3, 32, 32)
    >>> tuple(downscale(x, 4).shape)
    (2, 3, 8, 8)
    >>> noisy = add_noise(x, torch.tensor([25.0, 0.0]), generator=torch.Generator().manual_seed(0))
    >>> bool((noisy[1] - quantize(x[1])).abs().max() == 0)
    True
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from imggan.tensors import image_to_tensor, tensor_to_image

__all__ = [
    "add_noise",
    "blur",
    "downscale",
    "jpeg",
    "jpeg_image",
    "noise_image",
    "quantize",
    "random_sigmas",
    "downscale_image",
    "robust_lowres",
    "robust_lowres_image",
]


def quantize(x: torch.Tensor, levels: int = 255) -> torch.Tensor:
    """Clip to [0, 1] and round to ``levels`` steps, as saving an 8-bit image does."""
    return torch.round(x.clamp(0, 1) * levels) / levels


def random_sigmas(
    n: int, low: float = 0.0, high: float = 50.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``n`` noise levels drawn uniformly from ``[low, high]`` (8-bit scale)."""
    return low + (high - low) * torch.rand(n, generator=generator)


def add_noise(
    x: torch.Tensor,
    sigma: torch.Tensor,
    generator: torch.Generator | None = None,
    gray: torch.Tensor | None = None,
    round_to_8bit: bool = True,
) -> torch.Tensor:
    """Add white Gaussian noise of per-image level ``sigma`` (8-bit scale), then clip and round.

    Args:
        x: clean images, ``N x 3 x H x W`` in [0, 1].
        sigma: ``N`` noise levels on the 8-bit scale.
        generator: random generator (reproducible noise).
        gray: optional ``N`` booleans; those images get the same noise in all three channels (a gray photo
            expanded to RGB, as the batch runner does with grayscale files).
        round_to_8bit: quantise the result like an 8-bit file.
    """
    n, c, h, w = x.shape
    noise = torch.randn((n, c, h, w), generator=generator).to(x.device)
    if gray is not None and bool(gray.any()):
        shared = noise[:, :1].expand(n, c, h, w)
        noise = torch.where(gray.to(x.device).view(n, 1, 1, 1), shared, noise)
    noisy = x + noise * (sigma.to(x.device, x.dtype).view(n, 1, 1, 1) / 255.0)
    return quantize(noisy) if round_to_8bit else noisy


def downscale(x: torch.Tensor, scale: int) -> torch.Tensor:
    """Antialiased bicubic downscaling by an integer factor (H and W must be divisible by it)."""
    h, w = x.shape[-2:]
    if h % scale or w % scale:
        raise ValueError(f"size {h}x{w} is not divisible by the scale {scale}")
    return F.interpolate(x, size=(h // scale, w // scale), mode="bicubic", antialias=True, align_corners=False)


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Isotropic Gaussian blur of standard deviation ``sigma`` pixels (no-op for ``sigma <= 0``)."""
    if sigma <= 0:
        return x
    import kornia

    k = int(2 * round(3 * sigma) + 1)
    return kornia.filters.gaussian_blur2d(x, (k, k), (sigma, sigma), border_type="reflect")


def jpeg(x: torch.Tensor, quality: int) -> torch.Tensor:
    """Round-trip every image through OpenCV's JPEG encoder at ``quality`` (CPU, not differentiable)."""
    out = []
    for image in x.detach().cpu():
        array = np.rint(image.clamp(0, 1).permute(1, 2, 0).numpy()[..., ::-1] * 255).astype(np.uint8)
        decoded = jpeg_image(array, quality)[..., ::-1].astype(np.float32) / 255.0
        out.append(torch.from_numpy(np.ascontiguousarray(decoded.transpose(2, 0, 1))))
    return torch.stack(out).to(x.device)


def jpeg_image(image: np.ndarray, quality: int) -> np.ndarray:
    """Training and benchmark protocol: a uint8 BGR image saved as a JPEG by OpenCV (4:2:0) and decoded."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def noise_image(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Benchmark protocol: add Gaussian noise (8-bit scale) to a uint8 image in float, round and clip."""
    noisy = image.astype(np.float64) + rng.normal(0.0, sigma, image.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def downscale_image(image: np.ndarray, scale: int) -> np.ndarray:
    """Benchmark protocol: antialiased bicubic downscale of a uint8 BGR image, rounded to uint8."""
    return tensor_to_image(downscale(image_to_tensor(image), scale))


ROBUST_BENCH = {"blur": 0.8, "noise": 3.0, "jpeg": 80}
"""The fixed degradation of the benchmark's "robust" rows: blur sigma, noise sigma (8-bit), JPEG quality."""


def robust_lowres(
    x: torch.Tensor, scale: int, blur_sigma: float = 0.0, noise: torch.Tensor | None = None, qualities=None
) -> torch.Tensor:
    """The robust upscaler's input: optional blur, antialiased downscale, per-image noise, per-image JPEG.

    Args:
        x: clean HR images ``N x 3 x H x W`` in [0, 1].
        scale: the downscale factor.
        blur_sigma: Gaussian blur before downscaling (pixels of the HR image; 0 = none).
        noise: per-image Gaussian noise levels on the 8-bit scale (``N``; 0 = none), added after downscaling.
        qualities: per-image JPEG qualities (``None`` entries or no list: no JPEG), applied last.
    """
    low = downscale(blur(x, blur_sigma), scale)
    if noise is not None:
        low = low + torch.randn_like(low) * noise.to(low).view(-1, 1, 1, 1) / 255.0
    low = quantize(low)
    if qualities is not None:
        low = torch.cat([jpeg(low[i : i + 1], q) if q else low[i : i + 1] for i, q in enumerate(qualities)])
    return low


def robust_lowres_image(image: np.ndarray, scale: int, rng: np.random.Generator) -> np.ndarray:
    """Benchmark protocol of the robust rows: :data:`ROBUST_BENCH` applied to a uint8 BGR image."""
    low = tensor_to_image(downscale(blur(image_to_tensor(image), ROBUST_BENCH["blur"]), scale))
    return jpeg_image(noise_image(low, ROBUST_BENCH["noise"], rng), int(ROBUST_BENCH["jpeg"]))
