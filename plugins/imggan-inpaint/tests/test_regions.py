"""The crop strategy for large photos: bounded windows, only hole pixels change."""

from __future__ import annotations

import numpy as np

from imggan_inpaint.api import inpaint_bgr, load_model
from imggan_inpaint.regions import inpaint_by_windows, plan_windows


def test_small_image_with_a_wide_hole_is_one_window_else_a_crop() -> None:
    hole = np.zeros((300, 400), bool)
    hole[50:250, 100:300] = True
    assert [w.box for w in plan_windows(hole, max_side=512)] == [(0, 0, 300, 400)]
    hole[:] = False
    hole[10:20, 10:20] = True
    assert [w.box for w in plan_windows(hole, max_side=512, margin=32)] == [(0, 0, 52, 52)]
    assert plan_windows(np.zeros((10, 10), bool)) == []


def test_overlapping_regions_merge() -> None:
    hole = np.zeros((2000, 2000), bool)
    hole[500:510, 500:510] = True
    hole[520:530, 600:610] = True
    hole[1800:1810, 1800:1810] = True
    windows = plan_windows(hole, max_side=512, margin=64)
    assert len(windows) == 2
    covered = np.zeros_like(hole)
    for w in windows:
        covered[w.box[0] : w.box[2], w.box[1] : w.box[3]] = True
    assert covered[hole].all()


def test_huge_hole_is_shrunk_to_max_side_and_pasted_back() -> None:
    image = np.full((1500, 1500, 3), 100, np.uint8)
    hole = np.zeros((1500, 1500), bool)
    hole[200:1300, 200:1300] = True
    seen = []

    def fill(crop: np.ndarray, crop_hole: np.ndarray) -> np.ndarray:
        seen.append(crop.shape)
        out = crop.copy()
        out[crop_hole] = 7
        return out

    out = inpaint_by_windows(image, hole, fill, max_side=256, margin=32)
    assert all(max(s[:2]) <= 256 for s in seen)
    assert (out[~hole] == 100).all()
    inner = np.zeros_like(hole)
    inner[220:1280, 220:1280] = True  # the rim blends the enlarged low-resolution fill with its context
    assert (out[inner] == 7).all()


def test_2000x3000_photo_with_a_small_hole_changes_only_hole_pixels() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (2000, 3000, 3), dtype=np.uint8)
    hole = np.zeros((2000, 3000), bool)
    hole[1200:1230, 2500:2560] = True
    generator = load_model()
    sizes = []

    def spy(crop: np.ndarray, crop_hole: np.ndarray) -> np.ndarray:
        from imggan_inpaint.api import fill_window

        sizes.append(crop.shape[:2])
        return fill_window(generator, crop, crop_hole)

    out = inpaint_by_windows(image, hole, spy, max_side=1024, margin=128)
    assert out.shape == image.shape and out.dtype == image.dtype
    assert np.array_equal(out[~hole], image[~hole])
    assert not np.array_equal(out[hole], image[hole])
    assert len(sizes) == 1 and max(sizes[0]) <= 1024  # bounded memory: one small window, not the photo
    assert np.array_equal(inpaint_bgr(generator, image, hole)[~hole], image[~hole])
