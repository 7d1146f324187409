"""Shared fixtures of the inpainting head's tests: small procedural photos-like images."""

from __future__ import annotations

import numpy as np
import pytest


def smooth_image(h: int, w: int, seed: int = 0, dtype: type = np.uint8) -> np.ndarray:
    """A BGR image of smooth gradients, blobs and stripes (something an inpainter can continue)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    channels = []
    for _ in range(3):
        a, b, c = rng.uniform(-1, 1, 3)
        f = rng.uniform(0.01, 0.05)
        channels.append(0.5 + 0.25 * np.sin(f * (a * x + b * y) + c) + 0.15 * (x / w - 0.5) * a)
    image = np.clip(np.stack(channels, -1), 0, 1)
    peak = np.iinfo(dtype).max
    return np.rint(image * peak).astype(dtype)


@pytest.fixture
def make_image():
    """The :func:`smooth_image` factory."""
    return smooth_image


@pytest.fixture
def image256() -> np.ndarray:
    return smooth_image(256, 256)


@pytest.fixture
def hole256() -> np.ndarray:
    mask = np.zeros((256, 256), np.uint8)
    mask[100:140, 60:180] = 255
    mask[20:30, 20:220] = 255
    return mask
