"""Metrics sanity: PSNR, SSIM, hole sharpness and sliced Wasserstein behave as their definitions say."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from imggan.metrics import gradient_magnitude, hole_sharpness, psnr, sliced_wasserstein, ssim


def photo_like(seed: int = 0, size: int = 64) -> np.ndarray:
    """A textured 8-bit image: smooth shapes plus fine noise, so blur and noise both change it."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8), (size, size), interpolation=cv2.INTER_CUBIC)
    texture = rng.normal(0, 25, (size, size, 3))
    return np.clip(base + texture, 0, 255).astype(np.uint8)


def test_psnr_known_values():
    """Identical images give inf; a uniform error of 1 gives 48.13 dB; of 16 on one pixel the docstring's value."""
    a = np.zeros((8, 8, 3), np.uint8)
    assert psnr(a, a) == math.inf
    assert psnr(a, a + 1) == pytest.approx(20 * math.log10(255), abs=1e-9)
    b = a.copy()
    b[0, 0, 0] = 16
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / (256 / 192)), abs=1e-9)


def test_psnr_with_mask():
    """With a mask only the selected pixels count; an empty mask gives inf."""
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[:2] = 10
    mask = np.zeros((4, 4), np.uint8)
    mask[2:] = 255
    assert psnr(a, b, mask) == math.inf
    mask[:2] = 255
    mask[2:] = 0
    assert psnr(a, b, mask) == pytest.approx(10 * math.log10(255**2 / 100))
    assert psnr(a, b, np.zeros((4, 4))) == math.inf


def test_psnr_orders_by_noise():
    """More noise, lower PSNR."""
    clean = photo_like()
    rng = np.random.default_rng(1)
    light = np.clip(clean + rng.normal(0, 5, clean.shape), 0, 255).astype(np.uint8)
    heavy = np.clip(clean + rng.normal(0, 25, clean.shape), 0, 255).astype(np.uint8)
    assert psnr(clean, light) > psnr(clean, heavy) > 10


def test_ssim_sanity():
    """SSIM is 1 for identical images, lower for blurred and lower still for noisy; gray works too."""
    clean = photo_like()
    assert ssim(clean, clean) == pytest.approx(1.0)
    blurred = cv2.GaussianBlur(clean, (0, 0), 1.0)
    noisy = np.clip(clean + np.random.default_rng(2).normal(0, 40, clean.shape), 0, 255).astype(np.uint8)
    assert 0 < ssim(clean, noisy) < ssim(clean, blurred) < 1
    gray = cv2.cvtColor(clean, cv2.COLOR_BGR2GRAY)
    assert ssim(gray, gray) == pytest.approx(1.0)


def test_hole_sharpness_sanity():
    """The original scores 1; a blurred fill of the hole scores well below; a flat reference gives nan."""
    reference = photo_like(3)
    mask = np.zeros(reference.shape[:2], np.uint8)
    mask[16:48, 16:48] = 255
    assert hole_sharpness(reference, reference, mask) == pytest.approx(1.0)
    blurry = reference.copy()
    blurry[mask > 0] = cv2.GaussianBlur(reference, (0, 0), 3.0)[mask > 0]
    assert hole_sharpness(reference, blurry, mask) < 0.6
    flat = np.full_like(reference, 90)
    assert math.isnan(hole_sharpness(flat, reference, mask))
    thin = np.zeros_like(mask)
    thin[30, 10:50] = 255  # erodes to nothing: the raw mask is used
    assert hole_sharpness(reference, reference, thin) == pytest.approx(1.0)


def test_gradient_magnitude():
    """Flat images have zero gradient; a vertical edge has a positive gradient along it."""
    flat = np.full((10, 10, 3), 77, np.uint8)
    assert not gradient_magnitude(flat).any()
    edge = np.zeros((10, 10), np.uint8)
    edge[:, 5:] = 255
    magnitude = gradient_magnitude(edge)
    assert magnitude[:, 4:6].min() > 0 and magnitude[:, :3].max() == 0


def test_sliced_wasserstein_sanity():
    """Same distribution: near 0; a shifted one: clearly larger, growing with the shift; deterministic per seed."""
    rng = np.random.default_rng(4)
    a = rng.normal(size=(2000, 2))
    b = rng.normal(size=(2000, 2))
    near = sliced_wasserstein(a, b)
    assert near < 0.1
    assert sliced_wasserstein(a, a + 1.0) > 5 * near
    assert sliced_wasserstein(a, a + 2.0) > sliced_wasserstein(a, a + 1.0)
    assert sliced_wasserstein(a, b, seed=3) == sliced_wasserstein(a, b, seed=3)
    assert sliced_wasserstein(a, a) == pytest.approx(0.0)


def test_laplacian_pyramid_levels_sum_back_to_the_image():
    import cv2

    from imggan.metrics import laplacian_pyramid

    image = np.random.default_rng(1).integers(0, 256, (64, 48, 3)).astype(np.uint8)
    levels = laplacian_pyramid(image, 3)
    assert [lv.shape[:2] for lv in levels] == [(64, 48), (32, 24), (16, 12)]
    rebuilt = levels[-1]
    for band in reversed(levels[:-1]):
        rebuilt = cv2.pyrUp(rebuilt, dstsize=(band.shape[1], band.shape[0])) + band
    assert np.abs(rebuilt - image).max() < 1e-3


def test_patch_descriptors_respect_centres_and_count():
    from imggan.metrics import patch_descriptors

    level = np.arange(20 * 20, dtype=np.float32).reshape(20, 20, 1)
    centres = np.zeros((20, 20), bool)
    centres[10, 10] = True
    one = patch_descriptors(level, 7, None, centres=centres)
    assert one.shape == (1, 49) and one[0, 24] == level[10, 10, 0]
    assert patch_descriptors(level, 7, 5).shape == (5, 49)
    assert patch_descriptors(level, 7, 5, centres=np.zeros((20, 20), bool)).shape == (0, 49)


def test_multiscale_swd_ranks_texture_and_is_zero_for_identical_masked_pairs():
    from imggan.metrics import multiscale_swd

    rng = np.random.default_rng(0)
    texture = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(3)]
    same_kind = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(3)]
    flat = [np.full((64, 64, 3), 120, np.uint8) for _ in range(3)]
    assert multiscale_swd(same_kind, texture)["mean"] < multiscale_swd(flat, texture)["mean"]
    masks = [np.pad(np.ones((24, 24), np.uint8), 20) for _ in range(3)]
    assert multiscale_swd(texture, texture, masks=masks)["mean"] == 0.0
    assert multiscale_swd(flat, texture, masks=masks)["mean"] > 0.1
