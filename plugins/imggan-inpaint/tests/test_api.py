"""The Python API with the shipped model: exact known pixels, dtypes, alpha, gray, mask handling."""

from __future__ import annotations

import numpy as np
import pytest

from imggan.errors import MaskError
from imggan_inpaint import inpaint
from imggan_inpaint.api import hole_from_mask, load_model, model_entries


def test_shipped_model_exists_with_a_card() -> None:
    entry = model_entries()[0]
    assert entry.default and entry.path.is_file()
    card = entry.read_card()
    assert card["task"] == "inpaint" and card["arch"]["name"] == "imggan-inpaint-residual-unet-v2"
    assert card["commands"] and card["sources"] and card["training"]["steps_total"] > 0  # the core card writer
    assert entry.path.stat().st_size < 20 * 2**20
    load_model()


def test_shipped_model_changes_nothing_outside_the_hole(image256, hole256) -> None:
    out = inpaint(image256, hole256)
    keep = hole256 == 0
    assert out.dtype == np.uint8 and out.shape == image256.shape
    assert np.array_equal(out[keep], image256[keep])
    assert not np.array_equal(out[~keep], image256[~keep])


def test_fills_better_than_flat_grey(image256, hole256) -> None:
    out = inpaint(image256, hole256).astype(float)
    hole = hole256 > 0
    err = np.abs(out[hole] - image256[hole]).mean()
    assert err < 0.3 * np.abs(128.0 - image256[hole]).mean()


def test_uint16_gray_and_bgra_inputs(make_image) -> None:
    img16 = make_image(96, 80, seed=3, dtype=np.uint16)
    mask = np.zeros((96, 80), np.uint8)
    mask[30:50, 20:60] = 255
    out = inpaint(img16, mask)
    assert out.dtype == np.uint16 and np.array_equal(out[mask == 0], img16[mask == 0])
    gray = img16[..., 0]
    out = inpaint(gray, mask)
    assert out.shape == gray.shape and np.array_equal(out[mask == 0], gray[mask == 0])
    bgra = np.dstack([make_image(96, 80, seed=4), np.full((96, 80), 200, np.uint8)])
    out = inpaint(bgra, mask)
    assert out.shape == (96, 80, 4) and np.array_equal(out[mask == 0], bgra[mask == 0])
    assert (out[..., 3] == 200).all()


def test_alpha_channel_is_the_mask_when_none_is_given(make_image) -> None:
    from imggan.pipeline import process_image
    from imggan_inpaint.tasks import TASK

    bgra = np.dstack([make_image(64, 64, seed=5), np.full((64, 64), 255, np.uint8)])
    bgra[20:40, 20:40, 3] = 0
    out = process_image(TASK, bgra, device="cpu")
    hole = bgra[..., 3] == 0
    assert out.shape == (64, 64, 3)  # the transparent area was filled: the result is opaque
    assert np.array_equal(out[~hole], bgra[..., :3][~hole])


def test_no_mask_and_no_alpha_is_a_clear_error(make_image) -> None:
    from imggan.pipeline import process_image
    from imggan_inpaint.tasks import TASK

    with pytest.raises(MaskError, match="no mask"):
        process_image(TASK, make_image(32, 32), device="cpu")


def test_mask_resize_threshold_invert_dilate() -> None:
    mask = np.zeros((10, 10), np.uint8)
    mask[2:5, 2:5] = 200
    mask[7, 7] = 100  # below 127: not a hole
    hole = hole_from_mask(mask, (20, 20))
    assert hole.shape == (20, 20) and hole[4:10, 4:10].all() and hole.sum() == 36
    assert (hole_from_mask(mask, (10, 10), invert=True) == ~(mask > 127)).all()
    assert hole_from_mask(mask, (10, 10), dilate=1).sum() > (mask > 127).sum()
    with pytest.raises(MaskError):
        hole_from_mask(np.zeros((2, 2, 2, 2), np.uint8), (2, 2))


def test_invert_mask_and_size_mismatch_through_the_api(image256) -> None:
    small = np.full((64, 64), 255, np.uint8)
    small[16:32, 16:32] = 0  # black = hole with --invert-mask
    out = inpaint(image256, small, invert_mask=True)
    hole = np.zeros((256, 256), bool)
    hole[64:128, 64:128] = True
    assert np.array_equal(out[~hole], image256[~hole])
    assert not np.array_equal(out[hole], image256[hole])
