"""Per-pixel metrics: PSNR, SSIM, gradient magnitude, hole sharpness, and sliced Wasserstein of point sets.

Example:
    >>> import numpy as np
    >>> from imggan.metrics.pixels import psnr
    >>> a = np.zeros((8, 8, 3), np.uint8); b = a.copy(); b[0, 0, 0] = 16
    >>> round(psnr(a, b), 2)
    46.88
"""

from __future__ import annotations

import cv2
import numpy as np


def psnr(reference: np.ndarray, test: np.ndarray, mask: np.ndarray | None = None, peak: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB; with ``mask`` (HxW, non-zero = counted) only over those pixels."""
    ref = reference.astype(np.float64)
    out = test.astype(np.float64)
    err = (ref - out) ** 2
    if mask is not None:
        sel = mask.astype(bool)
        if not sel.any():
            return float("inf")
        err = err[sel]
    mse = float(err.mean())
    return float("inf") if mse == 0 else float(10.0 * np.log10(peak**2 / mse))


def ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """Structural similarity (scikit-image, Gaussian window, data range 255), averaged over channels."""
    from skimage.metrics import structural_similarity

    channel_axis = -1 if reference.ndim == 3 else None
    return float(
        structural_similarity(
            reference,
            test,
            channel_axis=channel_axis,
            data_range=255,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
    )


def gradient_magnitude(image: np.ndarray) -> np.ndarray:
    """Per-pixel Sobel gradient magnitude of the gray version of an 8-bit image (float64)."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    gray = gray.astype(np.float64)
    gx = cv2.Sobel(gray, cv2.CV_64F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_64F, 0, 1, ksize=3)
    return np.sqrt(gx**2 + gy**2)


def hole_sharpness(reference: np.ndarray, test: np.ndarray, mask: np.ndarray) -> float:
    """Mean Sobel gradient magnitude of ``test`` inside the 3x3-eroded hole divided by the reference's.

    1.0 means as much detail as the original; blurry fills score well below (classical ~0.55-0.6).
    """
    hole = cv2.erode((mask > 0).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if not hole.any():
        hole = mask > 0
    ref = gradient_magnitude(reference)[hole].mean()
    out = gradient_magnitude(test)[hole].mean()
    return float(out / ref) if ref > 0 else float("nan")


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, projections: int = 128, seed: int = 0) -> float:
    """Sliced Wasserstein distance between two point sets (N x D arrays, equal N after subsampling).

    Used to score generators on low-dimensional data (the 8-Gaussians ring, 8x8 digits).
    """
    rng = np.random.default_rng(seed)
    n = min(len(a), len(b))
    a = a[rng.permutation(len(a))[:n]].reshape(n, -1).astype(np.float64)
    b = b[rng.permutation(len(b))[:n]].reshape(n, -1).astype(np.float64)
    directions = rng.normal(size=(a.shape[1], projections))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    pa = np.sort(a @ directions, axis=0)
    pb = np.sort(b @ directions, axis=0)
    return float(np.abs(pa - pb).mean())
