"""The leak check: near-duplicate pictures between training images and the evaluation splits."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from imggan.data.duplicates import aligned_correlation, folder_thumbnails, near_duplicates
from imggan.data.splits import SPLIT_FOLDERS, TRAIN_DUPLICATES, textured_crops


def _photo(seed: int, layout: np.ndarray) -> np.ndarray:
    """A synthetic photo: the shared large-scale ``layout`` plus its own edges (blurred noise, rectangles)."""
    rng = np.random.default_rng(seed)
    detail = cv2.GaussianBlur(rng.normal(0, 1, layout.shape).astype(np.float32), (0, 0), 5) * 120
    image = layout + detail
    for _ in range(12):
        y, x = rng.integers(0, layout.shape[0] - 40), rng.integers(0, layout.shape[1] - 40)
        image[y : y + rng.integers(10, 40), x : x + rng.integers(10, 40)] += rng.uniform(-60, 60)
    return np.clip(image, 0, 255).astype(np.uint8)


def test_near_duplicates_catch_another_file_of_a_picture_and_not_a_picture_of_the_same_layout() -> None:
    yy, xx = np.mgrid[0:360, 0:480].astype(np.float32)
    # Bright sky over a dark ground (as in a group photo), soft: a layout with no fine detail of its own.
    layout = cv2.GaussianBlur(60 + 120 * (yy < 180) + 0.2 * xx, (0, 0), 25)
    photo, other = _photo(0, layout), _photo(1, layout)
    # Another file of ``photo``: re-cropped by ~5 %, another aspect ratio, darker, re-encoded as JPEG, colour.
    recut = cv2.resize(photo[12:350, 20:462], (400, 320), interpolation=cv2.INTER_AREA)
    recut = cv2.convertScaleAbs(recut, alpha=0.8, beta=20)
    recut = cv2.imdecode(cv2.imencode(".jpg", cv2.cvtColor(recut, cv2.COLOR_GRAY2BGR))[1], cv2.IMREAD_COLOR)
    flat = np.full((200, 200), 128, np.uint8)
    found = near_duplicates({"test-recut": recut, "test-flat": flat}, {"train-photo": photo, "train-other": other})
    assert [(a, b) for a, b, _ in found] == [("test-recut", "train-photo")]
    assert found[0][2] > 0.8
    # The other photo shares the layout (so it passes the coarse screen) but none of the edges.
    assert aligned_correlation(recut, other) < 0.4
    assert near_duplicates({}, {"train-photo": photo}) == []


def test_excluded_images_give_no_crop_and_leave_the_other_crops_as_they_were(tmp_path) -> None:
    rng = np.random.default_rng(3)
    for name in ("a", "b", "c", "d"):
        image = cv2.GaussianBlur(rng.integers(0, 256, (200, 260, 3), dtype=np.uint8), (0, 0), 1.0)
        cv2.imwrite(str(tmp_path / f"{name}.png"), image)
    full = textured_crops(tmp_path, count=3, size=96, seed=0, candidates=4, min_energy=0)
    dropped = full[1][0].rsplit("-", 1)[0]
    kept = textured_crops(tmp_path, count=3, size=96, seed=0, candidates=4, min_energy=0, exclude={dropped})
    assert dropped not in [n.rsplit("-", 1)[0] for n, _ in kept]
    assert np.array_equal(kept[0][1], full[0][1]) and np.array_equal(kept[1][1], full[2][1])
    assert kept[2][0].rsplit("-", 1)[0] not in {n.rsplit("-", 1)[0] for n, _ in full}  # the next image


def _data_root() -> Path:
    from imggan.data.sources import DEFAULT_ROOT

    return Path(DEFAULT_ROOT)


@pytest.mark.skipif(not any((_data_root() / "train").glob("*.png")), reason="needs `imggan data fetch`")
def test_no_split_image_repeats_a_training_picture_unless_it_is_excluded() -> None:
    train = folder_thumbnails(_data_root() / "train")
    for split, (folder, _) in SPLIT_FOLDERS.items():
        probes = folder_thumbnails(_data_root() / folder)
        if not probes:
            continue
        flagged = {probe: ref for probe, ref, _ in near_duplicates(probes, train)}
        listed = {k: v for k, v in TRAIN_DUPLICATES[split].items() if k in probes}
        # Every repeat found is excluded from the split, and nothing is excluded that the check does not find.
        assert set(flagged) == set(listed), (split, flagged)
        assert all(ref in train for ref in listed.values())
