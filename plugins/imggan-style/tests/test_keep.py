"""The content floor (imggan_style.keep): the SSIM it measures, the blend it makes, and the default path
keeping a dark photo's light and dark under a bright reference, and a smooth sky free of colour blobs."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from imggan_style.color import to_lab
from imggan_style.keep import blurred_gray_ssim, floor_for, keep_content, ssim
from imggan_style.optimize import PRESETS, stylize_array

# the default preset's stages (band term, final band and colour matching, the content floor) at a tiny size
STAGED = replace(
    PRESETS["fast"], steps=(25, 15), patches=512, projections=32, scales=1, lr=0.02, final_bands=1, final_iterations=1
)


def _dark_forest(size: int = 48) -> np.ndarray:
    """A dark, low-contrast textured picture (mean about 0.12): a forest at dusk, as far as SSIM cares."""
    rng = np.random.default_rng(0)
    noise = cv2.GaussianBlur(rng.standard_normal((size, size)).astype(np.float32), (0, 0), 2)
    noise = (noise / noise.std())[..., None]
    image = 0.12 + 0.05 * noise * np.array([0.6, 1.0, 0.5], np.float32) + np.array([0.0, 0.03, 0.0], np.float32)
    return np.clip(image, 0, 1).astype(np.float32)


def _bright(painting: np.ndarray) -> np.ndarray:
    """The bundled painting lifted to pale tones (mean about 0.73)."""
    return np.clip(painting * 0.4 + 0.55, 0, 1).astype(np.float32)


def test_ssim_is_skimages():
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(3)
    a = cv2.GaussianBlur(rng.random((40, 52)).astype(np.float32) * 255, (0, 0), 1.5)
    b = np.clip(0.6 * a + 40 + 20 * rng.standard_normal(a.shape), 0, 255).astype(np.float32)
    assert ssim(a, b) == pytest.approx(metrics.structural_similarity(a, b, data_range=255.0), abs=1e-6)


def test_floor_falls_with_strength():
    assert floor_for(0.0) == pytest.approx(0.9) and floor_for(0.5) == pytest.approx(0.45) and floor_for(1.0) == 0
    assert floor_for(0.25) > floor_for(0.5) > floor_for(0.75)


def test_keep_content_reaches_the_floor_and_no_further(painting):
    content = _dark_forest()
    result = cv2.resize(_bright(painting), (48, 48), interpolation=cv2.INTER_AREA)
    assert blurred_gray_ssim(result, content) < 0.3
    kept = keep_content(result, content, 0.45)
    assert 0.45 <= blurred_gray_ssim(kept, content) < 0.47  # the smallest blend that reaches the floor
    # the detail above the blur's scale and the hue are the result's: only the low-pass brightness moved
    high = kept - cv2.GaussianBlur(kept, (0, 0), 2)
    assert np.abs(high - (result - cv2.GaussianBlur(result, (0, 0), 2))).mean() < 0.01
    # a result already at the floor, or no floor, comes back unchanged
    assert keep_content(kept, content, 0.45) is kept
    assert keep_content(result, content, 0.0) is result


def test_a_dark_photo_under_a_bright_reference_keeps_the_floor(painting):
    content, style = _dark_forest(), _bright(painting)
    without = stylize_array(content, style, quality=replace(STAGED, content_floor=0.0), size=48, seed=0)
    assert blurred_gray_ssim(without, content) < 0.4  # the case the floor is for
    for strength in (0.5, 0.3):
        out = stylize_array(content, style, quality=STAGED, size=48, seed=0, strength=strength)
        assert blurred_gray_ssim(out, content) >= floor_for(strength) - 1e-6
    # it stays in the reference's light: much brighter than the photo, darker than the unfloored result
    assert content.mean() + 0.2 < out.mean() < without.mean()


def test_a_smooth_sky_gets_no_colour_blobs(painting):
    """A smooth blue gradient stylised with a painting: almost no pixel is more saturated than the
    reference's own most saturated 1% (a colour stage that invents chroma on flat regions fails this)."""
    size = 64
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 1, size, dtype=np.float32)[:, None, None]
    sky = np.array([0.35, 0.55, 0.85], np.float32) * (0.75 + 0.25 * ramp) + 0.003 * rng.standard_normal((size, size, 3))
    sky = np.clip(sky, 0, 1).astype(np.float32)
    style = cv2.resize(painting, (size, size * 2 // 3), interpolation=cv2.INTER_AREA)
    out = stylize_array(sky, style, quality=STAGED, size=size, seed=0)

    def chroma(x: np.ndarray) -> np.ndarray:
        lab = to_lab(x)
        return np.hypot(lab[..., 1], lab[..., 2])

    assert (chroma(out) > np.percentile(chroma(style), 99) + 10).mean() < 0.03


def test_an_image_smaller_than_the_window_is_returned_as_it_is():
    bright = np.full((5, 5, 3), 0.9, np.float32)
    dark = np.full((5, 5, 3), 0.1, np.float32)
    assert keep_content(bright, dark, 0.45) is bright  # SSIM has no 7x7 window here: nothing to keep
