"""Hole texture distance and pattern score: faithful texture wins, smooth or invented fills lose."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imggan.metrics import hole_texture_distance, image_pattern_score, multiscale_swd, pattern_score


def _texture(seed: int, size: int = 128) -> np.ndarray:
    """A random (aperiodic) colour texture: blurred noise at two scales, 8-bit BGR."""
    rng = np.random.default_rng(seed)
    fine = cv2.GaussianBlur(rng.normal(0, 1, (size, size, 3)), (0, 0), 0.8)
    coarse = cv2.GaussianBlur(rng.normal(0, 1, (size, size, 3)), (0, 0), 4.0) * 4
    return np.clip(128 + 30 * fine + 30 * coarse, 0, 255).astype(np.uint8)


def _hole(size: int = 128) -> np.ndarray:
    hole = np.zeros((size, size), bool)
    hole[32:96, 24:104] = True
    return hole


def _fill(original: np.ndarray, hole: np.ndarray, content: np.ndarray) -> np.ndarray:
    out = original.copy()
    out[hole] = content[hole]
    return out


def test_faithful_texture_beats_a_flat_fill_and_an_invented_pattern() -> None:
    originals = [_texture(s) for s in range(3)]
    holes = [_hole() for _ in originals]
    same_kind = [_fill(o, h, _texture(100 + i)) for i, (o, h) in enumerate(zip(originals, holes, strict=True))]
    flat = [_fill(o, h, np.full_like(o, int(o[h].mean()))) for o, h in zip(originals, holes, strict=True)]
    y, x = np.mgrid[0:128, 0:128]
    stripes = np.repeat((128 + 60 * np.sign(np.sin(2 * np.pi * (x + y) / 6.0)))[..., None], 3, 2).astype(np.uint8)
    invented = [_fill(o, h, stripes) for o, h in zip(originals, holes, strict=True)]

    exact = hole_texture_distance(originals, originals, holes)
    faithful = hole_texture_distance(same_kind, originals, holes)
    assert exact == pytest.approx(0.0, abs=1e-9)
    assert faithful < hole_texture_distance(flat, originals, holes)
    assert faithful < hole_texture_distance(invented, originals, holes)


def test_texture_distance_is_the_per_image_mean_of_the_masked_multiscale_swd() -> None:
    originals = [_texture(s) for s in range(2)]
    holes = [_hole() for _ in originals]
    outputs = [_fill(o, h, _texture(50 + i)) for i, (o, h) in enumerate(zip(originals, holes, strict=True))]
    per_image = [
        multiscale_swd([o], [r], levels=3, projections=128, masks=[h])["mean"]
        for o, r, h in zip(outputs, originals, holes, strict=True)
    ]
    assert hole_texture_distance(outputs, originals, holes) == pytest.approx(float(np.mean(per_image)))
    with pytest.raises(ValueError):
        hole_texture_distance(outputs, originals[:1], holes)


def test_a_two_pixel_checkerboard_gets_a_high_pattern_score_and_texture_does_not() -> None:
    hole = _hole()
    board = (np.indices((128, 128)).sum(0) % 2 * 200 + 20).astype(np.uint8)
    board = np.repeat(board[..., None], 3, 2)
    assert image_pattern_score(board, hole) == pytest.approx(1 / 9, abs=0.01)  # +1 at even lags, -1 at odd
    plaid = (np.indices((128, 128)) % 2).max(0)  # a 2-px grid of lines, both directions
    plaid = np.repeat((plaid * 150 + 50).astype(np.uint8)[..., None], 3, 2)
    textures = [_texture(s) for s in range(4)]
    natural = pattern_score(textures, [hole] * 4)
    assert abs(natural) < 0.03
    assert pattern_score([board, plaid], [hole, hole]) > 0.1 > natural + 0.06


def test_a_flat_fill_has_no_pattern_and_the_eroded_hole_decides_where_it_is_measured() -> None:
    original = np.full((128, 128, 3), 90, np.uint8)  # flat around the hole too: no edge for the blur to leak
    hole = _hole()
    flat = _fill(original, hole, np.full_like(original, 90))
    assert pattern_score([flat], [hole]) == pytest.approx(0.0, abs=1e-9)
    # A checkerboard away from the hole (beyond the blur's reach) does not count; a hole thinner than the
    # 5x5 erosion is not measured.
    board = np.repeat((np.indices((128, 128)).sum(0) % 2 * 200).astype(np.uint8)[..., None], 3, 2)
    near = cv2.dilate(hole.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    outside = np.where(near[..., None], flat, board)
    assert pattern_score([outside], [hole]) == pytest.approx(0.0, abs=1e-9)
    thin = np.zeros((128, 128), bool)
    thin[60:64, :] = True
    assert np.isnan(image_pattern_score(board, thin))
    assert np.isnan(pattern_score([board], [thin]))
