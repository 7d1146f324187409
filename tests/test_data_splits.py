"""Evaluation splits and package readers: textured crops, object-shaped holes, GIMP patterns, reserved names."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from imggan.data.packages import mask_split, read_gimp_pattern, unpack
from imggan.data.splits import gradient_energy, object_mask, textured_crops


def test_textured_crops_pick_the_textured_half_and_skip_gratings(tmp_path) -> None:
    rng = np.random.default_rng(0)
    image = np.full((300, 600, 3), 120, np.uint8)
    image[:, 300:] = cv2.GaussianBlur(rng.integers(0, 256, (300, 300, 3), dtype=np.uint8), (0, 0), 1.0)
    cv2.imwrite(str(tmp_path / "half.png"), image)
    (crop_name, crop), *_ = textured_crops(tmp_path, count=1, size=128, seed=0, candidates=16)
    assert crop.shape == (128, 128, 3) and gradient_energy(crop) > 10 * gradient_energy(image[:128, :128]) + 1
    grating = np.repeat((np.indices((300, 300)).sum(0) % 2 * 255).astype(np.uint8)[..., None], 3, 2)
    cv2.imwrite(str(tmp_path / "half.png"), grating)  # strongly periodic everywhere: no candidate qualifies
    assert textured_crops(tmp_path, count=1, size=128, seed=0, candidates=4, scales=(1.0,)) == []


def test_object_masks_cover_the_requested_fraction_inside_the_crop() -> None:
    silhouette = np.zeros((80, 50), np.uint8)
    cv2.ellipse(silhouette, (25, 40), (22, 36), 0, 0, 360, 255, -1)
    rng = np.random.default_rng(1)
    for _ in range(20):
        mask = object_mask([silhouette], 256, rng, (0.15, 0.30))
        assert mask.shape == (256, 256) and mask.dtype == np.uint8
        assert 0.15 <= (mask > 0).mean() <= 0.30


def test_gimp_patterns_decode_and_reserved_packages_are_refused(tmp_path) -> None:
    pixels = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    name = b"test\x00"
    header = struct.pack(">5I", 24 + len(name), 1, 6, 4, 3) + b"GPAT" + name
    (tmp_path / "p.pat").write_bytes(header + pixels.tobytes())
    image = read_gimp_pattern(tmp_path / "p.pat")
    assert image.shape == (4, 6, 3) and np.array_equal(image[..., ::-1], pixels)  # RGB in the file, BGR out
    assert read_gimp_pattern(tmp_path / "p.pat").dtype == np.uint8
    (tmp_path / "bad.pat").write_bytes(b"not a pattern at all......")
    assert read_gimp_pattern(tmp_path / "bad.pat") is None
    for reserved in ("mate-backgrounds", "ukui-wallpapers", "lomiri-wallpapers-extra"):
        with pytest.raises(ValueError, match="reserved"):
            unpack(reserved, tmp_path)
    shares = [mask_split(f"stamp{i}.png") for i in range(400)]
    assert 0.5 < shares.count("train") / 400 < 0.7 and 0.15 < shares.count("test") / 400 < 0.35
