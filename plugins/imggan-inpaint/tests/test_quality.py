"""Quality checks of the shipped model (issue 12): smooth context stays smooth, no invented pattern."""

from __future__ import annotations

import numpy as np

from imggan.metrics import pattern_score
from imggan_inpaint.api import inpaint_bgr, load_model


def _ramp() -> np.ndarray:
    y, x = np.mgrid[0:256, 0:256]
    return np.stack([x * 0.6 + 40, y * 0.5 + 60, (x + y) * 0.3 + 30], -1).round().astype(np.uint8)


def _hole() -> np.ndarray:
    hole = np.zeros((256, 256), bool)
    hole[96:160, 80:144] = True  # 64 x 64
    return hole


def test_a_smooth_ramp_is_continued_within_three_levels() -> None:
    ramp, hole = _ramp(), _hole()
    out = inpaint_bgr(load_model(), ramp, hole)
    assert np.abs(out.astype(int) - ramp)[hole].max() <= 3


def test_a_flat_image_gets_no_pattern() -> None:
    flat = np.full((256, 256, 3), (90, 120, 150), np.uint8)
    hole = _hole()
    out = inpaint_bgr(load_model(), flat, hole)
    assert pattern_score([out], [hole]) <= 0.06


def test_known_pixels_are_returned_bit_for_bit() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (200, 232, 3), dtype=np.uint8)
    hole = np.zeros((200, 232), bool)
    hole[40:110, 50:150] = True
    hole[150:160, :] = True
    out = inpaint_bgr(load_model(), image, hole)
    assert np.array_equal(out[~hole], image[~hole])
    assert not np.array_equal(out[hole], image[hole])


def test_a_gray_photo_gets_a_gray_fill() -> None:
    rng = np.random.default_rng(3)
    texture = (rng.normal(128, 30, (256, 256)).clip(0, 255)).astype(np.uint8)
    gray = np.repeat(texture[..., None], 3, axis=-1)
    gray[..., 2] = np.clip(gray[..., 2].astype(int) + rng.integers(0, 2, (256, 256)), 0, 255)  # JPEG-like: 1 level
    hole = _hole()
    out = inpaint_bgr(load_model(), gray, hole).astype(int)
    assert (np.abs(out[..., 0] - out[..., 1])[hole].max(), np.abs(out[..., 1] - out[..., 2])[hole].max()) == (0, 0)
    colour = gray.copy()
    colour[..., 0] = colour[..., 0] // 2  # a colour photo is not made gray
    filled = inpaint_bgr(load_model(), colour, hole).astype(int)
    assert np.abs(filled[..., 0] - filled[..., 1])[hole].mean() > 20
